"""Eigenvalue rates of 3D Nédélec Bloch bands on curved (order-2) meshes of a smooth inclusion (theory.md §11;
issue 13): degree 1 converges at O(h²) and degree 2 at O(h⁴) in Ω², and straight-sided geometry holds degree 2
to O(h²).

The cell is a square lattice of circular rods (ε = 9, r = 0.3) in a thin 3D cell along the rods: the library's 2D
cell mesh (curved, order 2) extruded by one layer of prisms of height ``L_z = h/2``, each split into three
tetrahedra. At an in-plane k (k_z = 0) the Bloch waves are invariant along z and split into TM (E = E_z ẑ,
−ΔE_z = Ω²εE_z) and TE (H = H_z ẑ, −∇·(ε⁻¹∇H_z) = Ω²H_z) waves, so the 3D bands are the 2D TM ∪ TE bands of the
scalar solver (§5). The reference is that independent solver: P3 Lagrange on curved 2D meshes h = 0.04 and 0.02,
Richardson-extrapolated with the O(h⁴) of the order-2 interface (P3 and P4 agree to 1e-9 there: only the geometry
converges).

The layer is h/2 high. Tall tetrahedra pull the TM bands (E = E_z ẑ) down by an error that grows with L_z, of
sign opposite to the O(h^{2p}) one: on a homogeneous ε = 1 cell (degree 1, h = 0.05) the TM member of an in-plane
plane-wave pair is off by −1.8e-3, −7.8e-3, −3.3e-2 at L_z = h/2, h, 2h, its TE partner by less than 8e-4. At
L_z = h the two errors partly cancel and the TM rates are erratic (degree 1, pairwise: 0.3 to 3.0); the rates at
L_z = h/2 and h/4 agree to 0.06.
"""

import numpy as np
import pytest
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import CellMesh
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.materials import Phase, constant
from fem_homog.photonics.maxwell import MaxwellBlochProblem

import basix.ufl
import dolfinx
import dolfinx.fem
import dolfinx.mesh
import ufl

RODS = {"dim": 2, "shape": "circle", "radius": 0.3}
PHASES = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(9.0))]
K = [1.1, 0.4, 0.0]  # on no mirror line of the square lattice: no degenerate bands
BANDS = 4  # Ω² ≈ 0.41 (TM), 0.85 (TE), 7.19 (TM), 8.10 (TE): two bands of each polarization
TRIANGLE_EDGES = [(1, 2), (0, 2), (0, 1)]  # basix order of the edge nodes of a P2 triangle
TETRAHEDRON_EDGES = [(2, 3), (1, 3), (1, 2), (0, 3), (0, 2), (0, 1)]  # ... and of a P2 tetrahedron


def extruded(cell: CellMesh, *, height: float, curved: bool) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """One layer of the serial 2D cell mesh, periodic with period ``height`` along z: every prism over a triangle
    ``a < b < c`` (in an order shared by periodic images, so opposite faces get the same diagonals) is split into
    ``(a0 b0 c0 c1)``, ``(a0 b0 b1 c1)``, ``(a0 a1 b1 c1)``. With ``curved`` the tetrahedra are quadratic with the
    2D edge nodes at every level, which reproduces the 2D curved triangles exactly; otherwise straight."""
    assert cell.mesh.comm.size == 1, "the extrusion reads the whole 2D mesh: serial only"
    x, triangles = cell.mesh.geometry.x[:, :2], cell.mesh.geometry.dofmaps[0]
    n = len(x)
    wrapped = np.round(np.round(x, 9) % 1.0, 9) % 1.0
    order = np.unique(wrapped, axis=0, return_inverse=True)[1].ravel()  # periodic images share a number
    edge_node = {frozenset((t[i], t[j])): t[3 + e] for t in triangles for e, (i, j) in enumerate(TRIANGLE_EDGES)}
    phase = np.zeros(len(triangles), dtype=np.int32)
    phase[cell.cell_tags.indices] = cell.cell_tags.values
    cells, tags = [], []
    for triangle, tag in zip(triangles, phase):
        a, b, c = sorted(triangle[:3], key=lambda v: order[v])
        for tet in ([(a, 0), (b, 0), (c, 0), (c, 2)], [(a, 0), (b, 0), (b, 2), (c, 2)],
                    [(a, 0), (a, 2), (b, 2), (c, 2)]):  # (2D vertex, level 0/1/2 = z 0, height/2, height)
            nodes = [level * n + v for v, level in tet]
            if curved:
                for i, j in TETRAHEDRON_EDGES:
                    (p, lp), (q, lq) = tet[i], tet[j]
                    nodes.append((lp + lq) // 2 * n + (p if p == q else edge_node[frozenset((p, q))]))
            cells.append(nodes)
            tags.append(tag)
    used, local = np.unique(np.array(cells, dtype=np.int64), return_inverse=True)
    levels = np.concatenate([np.column_stack([x, np.full(n, z)]) for z in (0.0, height / 2, height)])
    element = basix.ufl.element("Lagrange", "tetrahedron", 2 if curved else 1, shape=(3,))
    mesh = dolfinx.mesh.create_mesh(MPI.COMM_SELF, local.reshape(len(cells), -1).astype(np.int64), element,
                                    levels[used])
    n_cells = mesh.topology.index_map(3).size_local
    created_as = np.asarray(mesh.topology.original_cell_index[:n_cells])
    return mesh, dolfinx.mesh.meshtags(mesh, 3, np.arange(n_cells, dtype=np.int32),
                                       np.asarray(tags, dtype=np.int32)[created_as])


def inclusion_measure(mesh: dolfinx.mesh.Mesh, tags: dolfinx.mesh.MeshTags) -> float:
    """Area (2D) or volume (3D) of the cells tagged ``INCLUSION``."""
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=tags)
    one = dolfinx.fem.Constant(mesh, dolfinx.default_scalar_type(1.0))
    return dolfinx.fem.assemble_scalar(dolfinx.fem.form(one * dx(INCLUSION))).real


def reference_bands(cell_factory) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The lowest ``BANDS`` Ω² of the 2D TM ∪ TE bands (Richardson-extrapolated P3 on h = 0.04, 0.02), the size
    of the extrapolation step (an error bar of the h = 0.02 values) and the polarization of each band."""
    values = []
    for h in (0.04, 0.02):
        cell = cell_factory(RODS, h, 2)
        values.append({p: BlochProblem(cell, PHASES, polarization=p, degree=3).solve(K[:2], nev=BANDS).omegas.real[
            :BANDS] ** 2 for p in ("TM", "TE")})
    coarse, fine = (np.concatenate([v["TM"], v["TE"]]) for v in values)
    step = (fine - coarse) / 15.0  # O(h⁴): the order-2 interface
    labels = np.array(["TM"] * BANDS + ["TE"] * BANDS)
    lowest = np.argsort(fine)[:BANDS]
    return (fine + step)[lowest], np.abs(step)[lowest], list(labels[lowest])


@pytest.fixture(scope="module")
def reference(cell_factory) -> tuple[np.ndarray, np.ndarray, list[str]]:
    return reference_bands(cell_factory)


def relative_errors(cell_factory, reference, sizes, *, degree: int, curved: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mesh sizes (2D cells^(-1/2): the nominal h undersells the refinement near the rod) and relative Ω² errors
    (one row per mesh) of the 3D bands."""
    exact = reference[0]
    h_eff, errors = [], []
    for h in sizes:
        cell = cell_factory(RODS, h, 2)
        mesh, tags = extruded(cell, height=h / 2, curved=curved)
        problem = MaxwellBlochProblem(mesh, tags, np.diag([1.0, 1.0, h / 2]), PHASES, degree=degree)
        lam = problem.solve(K, nev=BANDS).omegas.real[:BANDS] ** 2
        h_eff.append(cell.mesh.topology.index_map(2).size_local ** -0.5)
        errors.append((lam - exact) / exact)
    return np.array(h_eff), np.array(errors)


def observed_rates(h_eff: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Least-squares slope of log|error| against log h, per band."""
    return np.array([np.polyfit(np.log(h_eff), np.log(np.abs(e)), 1)[0] for e in errors.T])


def test_reference_covers_both_polarizations_and_extrusion_is_exact(cell_factory, reference):
    """The four bands are TM, TE, TM, TE; the extruded curved mesh holds the 2D mesh's rod exactly."""
    assert reference[2] == ["TM", "TE", "TM", "TE"]
    cell = cell_factory(RODS, 0.07, 2)
    mesh, tags = extruded(cell, height=0.07, curved=True)
    area = inclusion_measure(cell.mesh, cell.cell_tags)
    assert abs(inclusion_measure(mesh, tags) - 0.07 * area) < 1e-13
    assert abs(area - np.pi * 0.3**2) < 1e-5  # curved: close to the disc (straight sides: 4e-3 short at h = 0.07)


@pytest.mark.parametrize("degree, rate, sizes", [(1, 2, (0.05, 0.035, 0.025)), (2, 4, (0.07, 0.05, 0.035))])
def test_curved_rates(cell_factory, reference, degree, rate, sizes):
    """Curved (order-2) rods: every band's Ω² error decays at O(h^{2p}), with no sign change (asymptotic)."""
    h_eff, errors = relative_errors(cell_factory, reference, sizes, degree=degree, curved=True)
    exact, error_bar = reference[:2]
    assert np.all(error_bar / exact < 0.1 * np.abs(errors).min(axis=0)), (error_bar, errors)  # even unextrapolated
    assert np.all(np.sign(errors) == np.sign(errors[0])), errors
    observed = observed_rates(h_eff, errors)
    assert np.all((rate - 0.5 < observed) & (observed < rate + 0.8)), (observed, errors)


def test_straight_geometry_holds_degree_2_to_second_order(cell_factory, reference):
    """The same meshes with straight sides: the O(h²) interface error caps degree 2 at rate 2 (fails the test above)."""
    h_eff, errors = relative_errors(cell_factory, reference, (0.07, 0.035), degree=2, curved=False)
    observed = observed_rates(h_eff, errors)
    assert np.all((1.5 < observed) & (observed < 2.8)), (observed, errors)
