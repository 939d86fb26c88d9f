"""3D crystal cells (simple cubic, fcc primitive cell; spheres wrapped across the faces, overlapping): the fcc
zone and its standard points, exact inclusion volumes, periodic faces, the periodic mesh's entity counts, and the
folded light cone of a homogeneous fcc cell (scalar, and vector Maxwell with degree-2 Nédélec)."""

import itertools
import math

import numpy as np
import pytest

from fem_homog.cells.crystal3d import CrystalGeometry, mesh_crystal
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.lattice import (
    BAND_PATHS,
    check_k_in_zone,
    fcc_vectors,
    high_symmetry_points,
    in_first_zone,
    reciprocal,
)
from fem_homog.core.errors import InputError
from fem_homog.fem.coefficients import phase_fractions
from fem_homog.fem.periodic import periodic_map
from fem_homog.fem.prolongation import periodic_entity_map
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.materials import Phase, constant
from fem_homog.photonics.maxwell import MaxwellBlochProblem

import dolfinx.fem


def test_fcc_reciprocal_lattice_and_standard_points():
    """b_j are the bcc vectors 2π(−1,1,1), …; X, L, W, K, U lie on the truncated octahedron |k_j| ≤ 2π,
    |k_x|+|k_y|+|k_z| ≤ 3π (in the zone, outside when pushed out by 1 %)."""
    A, B = fcc_vectors(), reciprocal(fcc_vectors())
    assert np.allclose(A @ B.T, 2 * np.pi * np.eye(3))
    assert np.allclose(B, 2 * np.pi * (np.ones((3, 3)) - 2 * np.eye(3)))
    points = high_symmetry_points(A)
    assert np.allclose(points["X"], [0, 2 * np.pi, 0]) and np.allclose(points["L"], [np.pi] * 3)
    assert np.allclose(points["W"], [np.pi, 2 * np.pi, 0]) and np.allclose(points["K"], [1.5 * np.pi, 1.5 * np.pi, 0])
    assert np.allclose(points["U"], [0.5 * np.pi, 2 * np.pi, 0.5 * np.pi])
    for name, k in points.items():
        check_k_in_zone(k, A)
        on_octahedron = max(np.abs(k).max() / (2 * np.pi), np.abs(k).sum() / (3 * np.pi))
        assert name == "G" or (math.isclose(on_octahedron, 1.0) and not in_first_zone(1.01 * k, A))
    with pytest.raises(InputError, match="truncated octahedron"):
        check_k_in_zone(1.01 * points["X"], A)
    assert set(BAND_PATHS["fcc"]) <= set(points)
    assert set(BAND_PATHS["cubic"]) <= set(high_symmetry_points(np.eye(3)))


def _lens(r: float, d: float) -> float:
    """Volume of the intersection of two balls of radius r whose centres are d apart."""
    return math.pi * (4 * r + d) * (2 * r - d) ** 2 / 12


# (geometry, exact inclusion fraction from the geometry of the crystal, not from the code)
CASES = {
    "sc sphere at the corner": (CrystalGeometry("cubic", "sphere", 0.3), 4 / 3 * math.pi * 0.3**3),
    "fcc sphere": (CrystalGeometry("fcc", "sphere", 0.3), 4 * 4 / 3 * math.pi * 0.3**3),
    # diamond: two spheres per primitive cell (volume 1/4), each overlapping its 4 neighbours at √3/4
    "diamond": (CrystalGeometry("fcc", "diamond", 0.25),
                4 * (2 * 4 / 3 * math.pi * 0.25**3 - 4 * _lens(0.25, math.sqrt(3) / 4))),
    # a sphere cut in two by a face pair and one cut in four along an edge (sc, "inclusions")
    "sc wrapped inclusions": (CrystalGeometry("cubic", "inclusions", 0.2, centres=((0.0, 0.5, 0.5), (0.5, 0.0, 1.0))),
                              2 * 4 / 3 * math.pi * 0.2**3),
    # inverse opal: each air sphere overlaps its 12 neighbours at √2/2 (no triple points for r < √6/6)
    "inverse opal": (CrystalGeometry("fcc", "inverse_opal", 0.37),
                     4 * (4 / 3 * math.pi * 0.37**3 - 6 * _lens(0.37, math.sqrt(2) / 2))),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    geo, fraction = CASES[request.param]
    return mesh_crystal(geo, h=0.15, order=2), fraction


def test_inclusion_volume_is_exact(case):
    """Measured on the curved order-2 mesh against the exact union volume of the wrapped spheres (and the
    geometry's own formula against the same number)."""
    cell, fraction = case
    assert math.isclose(cell.geometry.nominal_inclusion_fraction(), fraction, rel_tol=1e-12)
    measured = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    assert measured[INCLUSION] == pytest.approx(fraction, rel=2e-3)
    assert measured[MATRIX] + measured[INCLUSION] == pytest.approx(1.0, abs=1e-12)


def test_periodic_faces_match_under_lattice_translations(case):
    """Every node on a face s_j = 1 is a slave: the reduced nodes are exactly those with s in [0, 1)³ (no
    boundary node is lonely, none is missed), for the box and the parallelepiped alike."""
    cell, _ = case
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 2))
    pmap = periodic_map(V, cell.geometry.lattice_vectors)
    n_owned = V.dofmap.index_map.size_local
    s = (V.tabulate_dof_coordinates()[:n_owned] - cell.geometry.origin) @ np.linalg.inv(cell.geometry.lattice_vectors)
    assert s.min() > -1e-7 and s.max() < 1 + 1e-7  # OCC places face nodes to ~1e-9
    representatives = cell.mesh.comm.allreduce(int(np.count_nonzero(np.all(s < 1 - 1e-7, axis=1))))
    assert pmap.num_reduced_global == representatives
    x = V.tabulate_dof_coordinates()[:n_owned]
    masters = np.flatnonzero(~pmap.shift.any(axis=1))
    master_x = np.empty((pmap.num_reduced_global, 3))
    master_x[pmap.reduced_node[masters]] = x[masters]  # serial test: one master per reduced node
    assert len(masters) == pmap.num_reduced_global
    assert np.allclose(x - pmap.shift @ cell.geometry.lattice_vectors, master_x[pmap.reduced_node], atol=1e-13)


def test_homogeneous_fcc_cell_gives_the_folded_light_cone():
    """ε = 2 everywhere on the fcc primitive cell: the scalar Bloch frequencies are |k + G| / √2 over the bcc
    reciprocal lattice (with their degeneracies), at a generic k and at L."""
    cell = mesh_crystal(CrystalGeometry("fcc", "diamond", 0.25), h=0.12, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))])
    B = reciprocal(fcc_vectors())
    G = np.array(list(itertools.product(range(-3, 4), repeat=3))) @ B
    for k in (np.array([1.0, 0.7, 0.3]), high_symmetry_points(fcc_vectors())["L"]):
        exact = np.sort(np.linalg.norm(k + G, axis=1))[:8] / np.sqrt(2.0)
        sol = problem.solve(k, nev=8, target=0.0)
        omegas = np.sort(sol.omegas.real)[:8]
        assert omegas[0] == pytest.approx(exact[0], rel=1e-8)  # G = 0: a constant periodic part, exact in P2
        assert np.allclose(omegas, exact, rtol=1e-2)  # P2 error of the periodic part e^{iG·y}, |G| h up to 1.3


@pytest.fixture(scope="module")
def fcc_sphere_cell():
    """The curved (order 2) fcc primitive cell with the sphere at the origin, wrapped into its eight corners."""
    return mesh_crystal(CrystalGeometry("fcc", "sphere", 0.25), h=0.28, order=2)


def _reduced_dimension(cell, family: str, degree: int) -> int:
    V = dolfinx.fem.functionspace(cell.mesh, (family, degree))
    return periodic_entity_map(V, cell.geometry.lattice_vectors).num_reduced_global


def test_entity_maps_count_the_periodic_fcc_mesh(fcc_sphere_cell):
    """On the sheared, curved cell the entity maps count the vertices V (P1), edges E (N1curl 1) and faces F (RT 1)
    of the periodic mesh, a 3-torus: V − E + F − C = 0 with C the cells; degree 2 has V + E Lagrange and 2E + 2F
    Nédélec dofs, and the gradient kernel of the Maxwell problem is V (degree 1) or V + E (degree 2), less the
    constant function at Γ."""
    cell = fcc_sphere_cell
    V, E, F = (_reduced_dimension(cell, family, 1) for family in ("Lagrange", "N1curl", "RT"))
    assert V - E + F - cell.mesh.topology.index_map(3).size_global == 0
    assert _reduced_dimension(cell, "Lagrange", 2) == V + E
    assert _reduced_dimension(cell, "N1curl", 2) == 2 * E + 2 * F
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))],
                                            degree=1)
    assert problem.kernel_dimension([1.0, 0.7, 0.3]) == V and problem.kernel_dimension([0.0, 0.0, 0.0]) == V - 1


def test_homogeneous_fcc_cell_maxwell_degree_2(fcc_sphere_cell):
    """ε = 2 on the curved fcc cell, Nédélec degree 2 (face dofs through the dof-functional prolongation of the
    sheared faces): the folded light cone |k + G|/√2 over the bcc reciprocal lattice, each plane wave twice, at a
    generic k, X and L; at Γ two zero bands, one static field counted, the gradients (V + E − 1) never returned."""
    cell = fcc_sphere_cell
    gradients = _reduced_dimension(cell, "Lagrange", 1) + _reduced_dimension(cell, "N1curl", 1)
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))],
                                            degree=2)
    G = np.array(list(itertools.product(range(-3, 4), repeat=3))) @ reciprocal(fcc_vectors())
    points = high_symmetry_points(fcc_vectors())
    generic = np.array([1.0, 0.7, 0.3])
    for k in (generic, points["X"], points["L"], points["G"]):
        sol = problem.solve(k, nev=8)
        exact = np.sort(np.repeat(np.linalg.norm(k + G, axis=1), 2))[:8] / np.sqrt(2.0)
        gamma = not k.any()
        assert sol.filtered == {"kernel": gradients - gamma, "static": int(gamma), "residual": 0}
        if k is generic or gamma:  # the two lowest are G = 0 alone: a smooth field, nearly exact (5e-7 observed)
            assert np.allclose(sol.omegas.real[:2], exact[:2], rtol=1e-5, atol=1e-6)
        assert np.allclose(sol.omegas.real, exact, rtol=1e-2)  # observed ≤ 8.5e-3 at h = 0.28 (|G| h up to 2.2)


@pytest.mark.parametrize("kwargs, match", [
    ({"lattice": "cubic", "shape": "diamond", "radius": 0.2}, "fcc crystal"),
    ({"lattice": "bcc", "shape": "sphere", "radius": 0.2}, "unknown lattice"),
    ({"lattice": "fcc", "shape": "sphere", "radius": 0.6}, "radius"),
    ({"lattice": "cubic", "shape": "sphere", "radius": 0.5}, "touch"),
    ({"lattice": "cubic", "shape": "inclusions", "radius": 0.1, "centres": ((0.5, 0.5, 0.1),)}, "tangent"),
    ({"lattice": "fcc", "shape": "sphere", "radius": 0.2, "centres": ((0.1, 0.1, 0.1),)}, "centres"),
])
def test_bad_crystals_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        CrystalGeometry(**kwargs)


def test_no_exact_fraction_when_three_spheres_share_a_point():
    """Air spheres of an inverse opal beyond r = √6/6 (three neighbours at √2/2 meet): the pairwise formula
    would be wrong, so the nominal fraction is refused (the mesh is still made)."""
    with pytest.raises(InputError, match="three spheres"):
        CrystalGeometry("fcc", "inverse_opal", 0.42).nominal_inclusion_fraction()
