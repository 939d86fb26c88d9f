"""3D vector Maxwell Bloch modes on Nédélec elements (theory.md §11): the entity prolongation against the node
prolongation of §5.1, the exact gradient kernel, the folded light cone with two polarizations, the oblique
layered stack against the exact transfer matrices for s and p, and the O(h²)/O(h⁴) rates of degree 1 and 2."""

import gmsh
import numpy as np
import pytest
import scipy.linalg
from mpi4py import MPI
from numpy.polynomial import Polynomial
from scipy.optimize import brentq

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import gmsh_session, set_periodic
from fem_homog.fem import periodic, prolongation
from fem_homog.fem.coefficients import phase_function
from fem_homog.forms import bloch as bloch_forms
from fem_homog.photonics.bands import k_path, sweep_bands
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.laminate1d import Layer, dispersion
from fem_homog.photonics.materials import Phase, constant, drude, lorentz
from fem_homog.photonics.maxwell import MaxwellBlochProblem
from fem_homog.statics import correctors

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.io.gmsh
import dolfinx.mesh
import ufl

K_GENERIC = [0.5, 0.7, -1.1]  # no symmetry: every plane wave is exactly twice degenerate (two polarizations)


def box(n: int) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """The unit cube split into n³ × 6 tetrahedra (opposite faces match), one phase."""
    mesh = dolfinx.mesh.create_box(MPI.COMM_WORLD, [[0, 0, 0], [1, 1, 1]], [n, n, n],
                                   dolfinx.mesh.CellType.tetrahedron)
    n_cells = mesh.topology.index_map(3).size_local
    tags = dolfinx.mesh.meshtags(mesh, 3, np.arange(n_cells, dtype=np.int32), np.full(n_cells, MATRIX, np.int32))
    return mesh, tags


def light_cone(k, eps: float, count: int) -> np.ndarray:
    """The lowest ``count`` frequencies |k + G|/√ε, each twice."""
    n = np.arange(-2, 3)
    G = 2 * np.pi * np.array(np.meshgrid(n, n, n, indexing="ij")).reshape(3, -1).T
    return np.sort(np.repeat(np.linalg.norm(np.asarray(k) + G, axis=1) / np.sqrt(eps), 2))[:count]


def dense(M) -> np.ndarray:
    indptr, cols, vals = M.getValuesCSR()
    out = np.zeros(M.getSize(), dtype=complex)
    for i in range(len(indptr) - 1):
        out[i, cols[indptr[i]:indptr[i + 1]]] = vals[indptr[i]:indptr[i + 1]]
    return out


# -- prolongation ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("degree", [1, 2])
def test_entity_prolongation_reproduces_node_prolongation_for_lagrange(degree, cell_factory):
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.3, 2)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", degree))
    k = [0.3, -1.2, 2.0]
    P_nodes = periodic.prolongation(periodic.periodic_map(V), k=k)
    P_entities = prolongation.prolongation(prolongation.periodic_entity_map(V), k=k)
    assert P_entities.getSize() == P_nodes.getSize()
    P_entities.axpy(-1.0, P_nodes)
    assert P_entities.norm() < 1e-12 * P_nodes.norm()


def test_scalar_bloch_eigenvalues_identical_with_entity_prolongation(cell_factory):
    """The scalar Bloch forms reduced with the entity P (public route: ``BlochProblem.eigenpairs`` on given
    reduced operators) give the solver's bands to round-off."""
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.3, 2)
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(6.0))]
    problem = BlochProblem(cell, phases, degree=1)
    k = [1.0, 0.4, 0.0]
    P = prolongation.prolongation(prolongation.periodic_entity_map(problem.V))
    shift = dolfinx.fem.Constant(cell.mesh, np.asarray(k, dtype=complex))

    def reduced(form):
        A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form))
        A.assemble()
        return periodic.reduce_matrix(A, P)

    K = [reduced(bloch_forms.bloch_stiffness(problem.V, shift, chi)) for chi in problem.indicators]
    M = [reduced(bloch_forms.bloch_mass(problem.V, chi)) for chi in problem.indicators]
    a, b = problem.solve(k, nev=5).omegas, problem.eigenpairs(k, K, M, nev=5).omegas
    assert np.allclose(a, b, rtol=1e-10, atol=0)


@pytest.mark.parametrize("degree, blocks", [(1, {-1.0, 1.0}), (2, None)])
def test_nedelec_prolongation_sizes_and_weights(degree, blocks):
    """The periodic N1curl space of an n³ box has 7n³ edges (and 12n³ faces); degree-1 weights are ±1."""
    n = 3
    mesh, _ = box(n)
    V = dolfinx.fem.functionspace(mesh, ("N1curl", degree))
    emap = prolongation.periodic_entity_map(V)
    per_edge, per_face = (1, 0) if degree == 1 else (2, 2)
    assert emap.num_reduced_global == per_edge * 7 * n**3 + per_face * 12 * n**3
    if blocks is not None:
        assert set(np.round(emap.slave_weights, 12)) == blocks


def test_quasi_periodic_nedelec_interpolates_bloch_waves_exactly():
    """P_k maps the master dofs of a Bloch wave e^{ik·x} c (interpolated) to all its dofs."""
    mesh, _ = box(2)
    V = dolfinx.fem.functionspace(mesh, ("N1curl", 2))
    k, c = np.array([0.9, -2.0, 1.3]), np.array([0.3, -1.0, 0.5])
    E = dolfinx.fem.Function(V)
    E.interpolate(lambda x: c[:, None] * np.exp(1j * k @ x))
    emap = prolongation.periodic_entity_map(V)
    P = prolongation.prolongation(emap, k)
    masters = np.flatnonzero(emap.reduced_dof >= 0)
    u_r = P.createVecRight()
    u_r.array[:] = E.x.array[masters]
    u = P.createVecLeft()
    P.mult(u_r, u)
    n = len(u.array)
    # interpolation of a non-polynomial field is only close to the trace relation: check the size of the misfit
    assert np.abs(u.array - E.x.array[:n]).max() < 5e-3 * np.abs(E.x.array[:n]).max()


# -- the gradient kernel --------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [[0.0, 0.0, 0.0], [np.pi, 0.0, 0.0], K_GENERIC])
def test_curl_kernel_is_exactly_the_gradients(k):
    """Dense check on a tiny periodic mesh: A has exactly (Lagrange dofs − [k = 0]) + 3[k = 0] zero eigenvalues
    (gradients of quasi-periodic P1, plus the three harmonic fields at Γ), and the mixed problem reports none of
    the gradients."""
    mesh, tags = box(2)
    problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, constant(2.0))], degree=1)
    A, B, C, P = problem.operators(k)
    lam = scipy.linalg.eigh(dense(A), dense(B), eigvals_only=True)
    gamma = not np.any(k)
    zeros = int(np.sum(np.abs(lam) < 1e-8 * np.abs(lam).max()))
    assert zeros == problem.kernel_dimension(k) + 3 * gamma
    assert problem.kernel_dimension(k) == 8 - gamma
    sol = problem.solve(k, nev=4)
    assert sol.filtered["kernel"] == 8 - gamma and sol.filtered["static"] == int(gamma)
    nonzero = np.sort(lam[np.abs(lam) >= 1e-8 * np.abs(lam).max()])
    expected = np.concatenate([np.zeros(2 * gamma), np.sqrt(nonzero)])[:4]
    assert np.allclose(sol.omegas.real, expected, atol=1e-8)


# -- homogeneous cell: folded light cone --------------------------------------------------------------------
def test_homogeneous_light_cone_two_polarizations():
    mesh, tags = box(4)
    problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, constant(2.0))], degree=2)
    sol = problem.solve(K_GENERIC, nev=8)
    exact = light_cone(K_GENERIC, 2.0, 8)
    assert sol.filtered["kernel"] == 8 * 4**3  # P2 gradients: the n³ vertices and 7n³ edges of the periodic box
    assert np.allclose(sol.omegas.real, exact, rtol=5e-3)  # each plane wave twice (the mesh splits them slightly)
    gamma = problem.solve([0.0, 0.0, 0.0], nev=4)
    assert np.allclose(gamma.omegas[:2], 0.0, atol=1e-6) and gamma.filtered["static"] == 1
    assert gamma.filtered["kernel"] == 8 * 4**3 - 1  # the constant is no gradient at Γ
    assert all(0.0 <= p.residual < 1e-8 for p in sol.pairs + gamma.pairs)  # every pair carries its residual
    assert gamma.omegas[2].real > 4.0  # 2π/√2 next: no gradient mode in between


@pytest.mark.parametrize("degree, rate, sizes", [(1, 2, (4, 8)), (2, 4, (3, 6))])
def test_eigenvalue_rates(degree, rate, sizes):
    """Bands 3–4 (|k + G| with G ≠ 0, non-polynomial fields) converge at O(h^{2p}) in Ω²."""
    exact = light_cone(K_GENERIC, 1.0, 4)[2:4] ** 2
    errors = []
    for n in sizes:
        mesh, tags = box(n)
        problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, constant(1.0))], degree=degree)
        lam = problem.solve(K_GENERIC, nev=4).omegas.real[2:4] ** 2
        errors.append(np.abs(lam - exact).max() / exact.max())
    observed = np.log2(errors[0] / errors[1])
    assert rate - 0.4 < observed < rate + 0.6, (errors, observed)


# -- layered stack at oblique k against the exact transfer matrices ----------------------------------------
def _stack_roots(eps, thickness, k, omega_max) -> np.ndarray:
    """All Ω < omega_max of a stack layered along x at wave vector k: s and p waves of every transverse
    order k_∥ = (k_y + 2πm, k_z + 2πn), from sign changes of Δ(Ω) − cos k_x and Brent's method."""
    roots = []
    for m in range(-2, 3):
        for n in range(-2, 3):
            kp2 = (k[1] + 2 * np.pi * m) ** 2 + (k[2] + 2 * np.pi * n) ** 2
            if kp2 > max(eps) * omega_max**2:
                continue  # evanescent in every layer below omega_max: no Bloch wave
            for pol in ("s", "p"):  # s: (1/μ E')' + (Ω²ε − k∥²/μ)E = 0 ; p: (1/ε H')' + (Ω² − k∥²/ε)H = 0
                layers = [Layer(h, (lambda w: 1.0) if pol == "s" else (lambda w, e=e: 1.0 / e),
                                (lambda w, e=e: e - kp2 / w**2) if pol == "s"
                                else (lambda w, e=e: 1.0 - kp2 / (e * w**2))) for e, h in zip(eps, thickness)]
                grid = np.linspace(0.05, omega_max, 2000)
                f = np.array([dispersion(layers, w).real for w in grid]) - np.cos(k[0])
                for i in np.flatnonzero(np.sign(f[:-1]) != np.sign(f[1:])):
                    roots.append(brentq(lambda w: dispersion(layers, w).real - np.cos(k[0]), grid[i], grid[i + 1],
                                        xtol=1e-14))
    return np.sort(roots)


def test_oblique_stack_against_transfer_matrix(cell_factory):
    cell = cell_factory({"dim": 3, "shape": "laminate", "fraction": 0.5, "normal": [1, 0, 0]}, 0.25, 1)
    eps = {MATRIX: 1.0, INCLUSION: 4.0}
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(tag, constant(e)) for tag, e in eps.items()], degree=2)
    k = [0.8, 1.1, 0.0]
    sol = problem.solve(k, nev=6)
    exact = _stack_roots([1.0, 4.0, 1.0], [0.25, 0.5, 0.25], k, sol.omegas[-1].real + 0.5)[:6]
    assert np.allclose(sol.omegas.real, exact, rtol=3e-3), (sol.omegas.real, exact)  # observed 1.4e-3


# -- rods invariant along z at k_z = 0: TM and TE of the 2D solver at once -------------------------------------
def rod_cell(radius: float, h: float) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """A unit cube with a cylinder of the given radius along z through its centre, periodic, order 2."""
    comm = MPI.COMM_WORLD
    with gmsh_session():
        if comm.rank == 0:
            occ = gmsh.model.occ
            box_tag, rod = occ.addBox(0, 0, 0, 1, 1, 1), occ.addCylinder(0.5, 0.5, 0, 0, 0, 1, radius)
            _, pieces = occ.fragment([(3, box_tag)], [(3, rod)])
            occ.synchronize()
            inside = sorted({t for _, t in pieces[1]})
            gmsh.model.addPhysicalGroup(3, sorted({t for _, t in pieces[0]} - set(inside)), MATRIX)
            gmsh.model.addPhysicalGroup(3, inside, INCLUSION)
            set_periodic(np.ones(3))
            gmsh.option.setNumber("Mesh.MeshSizeMax", h)
            gmsh.option.setNumber("Mesh.MeshSizeMin", 0.5 * h)
            gmsh.option.setNumber("Mesh.Algorithm3D", 10)
            gmsh.option.setNumber("General.NumThreads", 1)
            gmsh.model.mesh.generate(3)
            gmsh.model.mesh.setOrder(2)
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=3)
    return data.mesh, data.cell_tags


def test_rods_at_kz_zero_are_the_2d_tm_and_te_bands(cell_factory):
    """Below Ω = 4.3 every 3D band is a TM or TE band of the 2D rods (G_z ≠ 0 modes start higher), curved P2."""
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(4.0))]
    mesh, tags = rod_cell(0.3, 0.25)
    k = [np.pi / 2, 0.4, 0.0]
    three = MaxwellBlochProblem(mesh, tags, np.eye(3), phases, degree=2).solve(k, nev=8, residual_tol=1e-10).omegas.real
    cell = cell_factory({"dim": 2, "shape": "circle", "radius": 0.3}, 0.04, 2)
    two = np.sort(np.concatenate([BlochProblem(cell, phases, polarization=p, degree=2).solve(k[:2], nev=6).omegas.real
                                  for p in ("TM", "TE")]))
    three, two = three[three < 4.3], two[two < 4.3]
    assert len(three) == len(two) == 5
    assert np.allclose(three, two, rtol=1e-3)


def test_sphere_lattice_long_waves_see_the_corrector_permittivity(cell_factory):
    """Curved sphere cell, degree 2: for k → 0 along x the two transverse bands have Ω²/k² = 1/ε_eff with ε_eff
    the eigenvalues of the (y, z) block of A_hom[ε] from the static corrector solver (theory.md §2)."""
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.3, 2)
    eps = {MATRIX: 1.0, INCLUSION: 6.0}
    A_hom = correctors.conductivity(cell, phase_function(cell.mesh, cell.cell_tags, eps), degree=2).tensor
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(tag, constant(e)) for tag, e in eps.items()], degree=2)
    k = 0.02
    sol = problem.solve([k, 0.0, 0.0], nev=2, residual_tol=1e-10)
    assert np.allclose(np.sort(k**2 / sol.omegas.real**2), np.linalg.eigvalsh(A_hom[1:, 1:]), rtol=1e-4)


def test_band_sweep_takes_the_maxwell_problem():
    """The band-diagram sweep of §5.2 runs on the vector problem unchanged (the driver's hook): homogeneous
    ε = 2 along Γ–X, the two lowest bands |k|/√2 (units 2πc/a) and the kernel counted at every k-point."""
    mesh, tags = box(4)
    problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, constant(2.0))], degree=2)
    diagram = sweep_bands(problem, k_path("GX", 2, 3), num_bands=2)
    k = np.linalg.norm(diagram.path.k, axis=1)
    bands = np.array(diagram.bands, dtype=complex).real
    assert np.allclose(bands, np.stack([k, k]) / np.sqrt(2) / (2 * np.pi), rtol=1e-3, atol=1e-9)
    filtered = diagram.to_dict()["filtered"]  # per k-point
    assert [f["kernel"] for f in filtered] == [problem.kernel_dimension(k) for k in diagram.path.k]


def test_bands_connect_through_the_periodic_part_on_a_coarse_path():
    """Sphere crystal (ε = 11.56, r = 0.25), Γ–X in 3 steps: the overlaps of the eigenvectors' periodic parts
    (not of E, whose phase turns by Δk·x across the cell) keep the two degenerate pairs below the first gap apart
    (the raw E overlaps matched band 1 with band 3 at the last step); ``field`` gives back E, whose Rayleigh
    quotient is Ω²."""
    from fem_homog.cells.crystal3d import CrystalGeometry, mesh_crystal

    cell = mesh_crystal(CrystalGeometry("cubic", "sphere", 0.25), h=0.25, order=1)
    eps = {MATRIX: 1.0, INCLUSION: 11.56}
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(tag, constant(e)) for tag, e in eps.items()], degree=1)
    diagram = sweep_bands(problem, k_path("GX", 3, 3), num_bands=6)
    for point in diagram.points[1:]:
        assert sorted(point.previous_band[:2]) == [0, 1] and sorted(point.previous_band[2:4]) == [2, 3]
    k = [np.pi, 0.0, 0.0]
    pair = problem.solve(k, nev=3).pairs[2]
    E = problem.field(pair, k)
    chi = phase_function(cell.mesh, cell.cell_tags, eps)
    curl = dolfinx.fem.assemble_scalar(dolfinx.fem.form(ufl.inner(ufl.curl(E), ufl.curl(E)) * ufl.dx))
    mass = dolfinx.fem.assemble_scalar(dolfinx.fem.form(chi * ufl.inner(E, E) * ufl.dx))
    assert abs(curl / mass - pair.omega**2) < 1e-8 * abs(pair.omega) ** 2


# -- dispersive media (theory.md §11.3) -----------------------------------------------------------------------
def test_homogeneous_lossy_drude_transverse_branch_and_longitudinal_modes():
    """ε(Ω) = 2 − 25/(Ω² + 0.3iΩ): the transverse branch Ω²ε(Ω) = |k + G|² (a cubic in Ω) twice (G = 0, a
    smooth plane wave: 6e-8 at n = 4, degree 2); the longitudinal modes at ε(Ω) = 0 are filtered, never bands."""
    mesh, tags = box(4)
    problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, drude(2.0, 5.0, 0.3))], degree=2)
    k = np.asarray(K_GENERIC)
    sol = problem.solve(k, nev=4, target=4.0)
    cubic = Polynomial([0.3j, 1.0]) * Polynomial([-(k @ k), 0.0, 2.0]) - Polynomial([0.0, 25.0])
    transverse = [r for r in cubic.roots() if r.real > 0]
    plasma = [r for r in np.roots([2.0, 0.6j, -25.0]) if r.real > 0]  # ε(Ω) = 0
    assert len(sol.pairs) == 2 and np.allclose(sol.omegas, transverse[0], rtol=1e-6)
    assert sol.filtered["longitudinal"] >= 1 and all(abs(w - plasma[0]) > 1e-3 for w in sol.omegas)
    assert all(p.residual < 1e-10 for p in sol.pairs)


def test_homogeneous_lorentz_eps_and_magnetic_lorentz_mu():
    """ε(Ω) = 2 + 3·16/(16 − Ω² − 0.2iΩ) and μ_r(Ω) = 1 + 0.5·6.25/(6.25 − Ω² − 0.1iΩ) (lossy, resonant in both):
    every pair returned near the lower, middle and upper G = 0 polaritons is a root of the exact transverse
    dispersion Ω² ε(Ω) μ_r(Ω) = |k + G|² (written out here as polynomials) for some G, each twice, with Im Ω < 0
    and a small rational residual; the G = 0 roots themselves to 1e-5 (n = 3, degree 2); nothing returned at
    ε(Ω) = 0 or μ_r(Ω) = 0 (curl-free solutions there are counted as longitudinal)."""
    mesh, tags = box(3)
    eps, mu = lorentz(2.0, [[3.0, 4.0, 0.2]]), lorentz(1.0, [[0.5, 2.5, 0.1]])
    problem = MaxwellBlochProblem(mesh, tags, np.eye(3), [Phase(MATRIX, eps, mu)], degree=2)
    k = np.asarray(K_GENERIC)
    D_eps, D_mu = Polynomial([16.0, -0.2j, -1.0]), Polynomial([6.25, -0.1j, -1.0])
    N_eps, N_mu = 2.0 * D_eps + 48.0, D_mu + 3.125  # ε = N_eps / D_eps, μ_r = N_mu / D_mu
    n = np.arange(-1, 2)
    G = 2 * np.pi * np.array(np.meshgrid(n, n, n, indexing="ij")).reshape(3, -1).T
    q = np.sum((k + G) ** 2, axis=1)
    roots = {g: [r for r in (Polynomial([0.0, 0.0, 1.0]) * N_eps * N_mu - qg * D_eps * D_mu).roots() if r.real > 0]
             for g, qg in enumerate(q)}
    transverse = np.concatenate(list(roots.values()))
    zero_at = sorted(roots[int(np.argmin(q))], key=lambda r: r.real)  # G = 0: three polaritons
    longitudinal = [r for r in np.concatenate([N_eps.roots(), N_mu.roots()]) if r.real > 0]
    assert len(zero_at) == 3 and len(longitudinal) == 2
    for branch in zero_at:
        sol = problem.solve(k, nev=4, target=branch.real)
        omegas = sol.omegas
        assert np.all(omegas.imag < 0) and all(p.residual < 1e-10 for p in sol.pairs)
        assert all(np.min(np.abs(transverse - w)) < 3e-3 * abs(w) for w in omegas)  # G ≠ 0: coarse-mesh error
        nearest = omegas[np.argsort(np.abs(omegas - branch))[:2]]
        assert np.allclose(nearest, branch, rtol=1e-5)  # the smooth G = 0 wave, both polarizations
        assert all(abs(w - r) > 1e-3 for w in omegas for r in longitudinal)
    assert sol.filtered["longitudinal"] >= 1  # at the upper polariton, next to ε(Ω) = 0


def test_drude_spheres_lossless_self_consistent_and_lossy_passive(cell_factory):
    """Drude spheres in air (curved, degree 1). Lossless: each Ω of the polynomial solve is an eigenvalue of the
    constant-ε solver with the sphere at ε(Ω) (an independent EPS path), to 1e-8. Lossy: Im Ω < 0 and every
    pair's residual on the rational problem is small."""
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.3, 2)
    k = [1.2, 0.3, 0.0]
    lossless = drude(1.0, 3.0)
    sol = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, lossless)]).solve(
        k, nev=3, target=4.0)
    assert len(sol.pairs) >= 2
    for omega in sol.omegas:
        assert abs(omega.imag) < 1e-9 and lossless(omega.real).real > 0
        frozen = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(float(lossless(omega.real).real)))]
        check = MaxwellBlochProblem.from_cell(cell, frozen).solve(k, nev=2, target=omega.real)
        assert np.min(np.abs(check.omegas - omega.real)) < 1e-8 * omega.real
    lossy = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, 3.0, 0.2))])
    damped = lossy.solve(k, nev=3, target=4.0)
    assert len(damped.pairs) >= 2
    assert all(p.omega.imag < 0 and p.residual < 1e-8 for p in damped.pairs)


def test_sheared_cell_light_cone():
    """A parallelepiped cell (a_2 = (1/2, 1, 0)): the topological boundary test and the lattice translations give
    the folded light cone of the sheared reciprocal lattice (ε = 2, degree 2)."""
    mesh, tags = box(4)
    mesh.geometry.x[:, 0] += 0.5 * mesh.geometry.x[:, 1]
    lattice = np.array([[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    problem = MaxwellBlochProblem(mesh, tags, lattice, [Phase(MATRIX, constant(2.0))], degree=2)
    k = np.array([0.3, -0.2, 0.4])
    n = np.arange(-2, 3)
    G = np.array(np.meshgrid(n, n, n, indexing="ij")).reshape(3, -1).T @ (2 * np.pi * np.linalg.inv(lattice).T)
    exact = np.sort(np.repeat(np.linalg.norm(k + G, axis=1) / np.sqrt(2.0), 2))[:8]
    sol = problem.solve(k, nev=8)
    assert np.allclose(sol.omegas.real[:2], exact[:2], rtol=1e-6)  # G = 0: smooth, nearly exact
    assert np.allclose(sol.omegas.real, exact, rtol=5e-3), (sol.omegas.real, exact)
