"""Bloch eigenproblems against exact results: folded light lines, the 1D transfer matrix (constant, Drude,
Lorentz, TM and TE) with the O(h^4) rate of P2, and the shifted form against the quasi-periodic constraint."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.laminate1d import bloch_root, photonic_layers
from fem_homog.photonics.materials import Phase, constant, drude, lorentz

MATRIX_EPS = constant(1.0)
CASES = {
    "constant": constant(8.9),
    "drude": drude(1.0, 6.0, 0.1),
    "lorentz": lorentz(2.0, [[3.0, 2.5, 0.1]]),
}


def problem_1d(eps_inclusion, h, polarization, fraction=0.4):
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": fraction}), h=h)
    return BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps_inclusion)],
                        polarization=polarization, degree=2)


@pytest.mark.parametrize("polarization", ["TM", "TE"])
@pytest.mark.parametrize("case", list(CASES))
def test_1d_against_transfer_matrix_with_rate(case, polarization):
    """FE roots converge to the exact roots of Δ(Ω) = cos k at the P2 rate O(h^4)."""
    eps = CASES[case]
    layers = photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization)
    k = 1.0
    exact = bloch_root(layers, k, 3.0)  # a physical band, away from accumulation points
    errors = []
    for h in (0.05, 0.025):
        sol = problem_1d(eps, h, polarization).solve([k], nev=4, target=exact.real)
        assert len(sol.pairs) > 0, sol.filtered
        omega = min(sol.omegas, key=lambda w: abs(w - exact))
        errors.append(abs(omega - exact) / abs(exact))
        assert all(p.residual < 1e-8 for p in sol.pairs)
    assert errors[1] < 1e-5
    assert np.log2(errors[0] / errors[1]) > 3.5, errors


def test_damped_drude_frequencies_are_damped():
    """Every eigenfrequency of a lossy Drude stack is a root of the exact transfer-matrix relation of the same
    lossy stack (Newton from the FE value lands within the P2 error), distinct, and damped."""
    eps = drude(1.0, 6.0, 0.3)
    sol = problem_1d(eps, 0.025, "TM").solve([0.5], nev=6, target=1.0)
    layers = photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], "TM")
    exact = np.array([bloch_root(layers, 0.5, w) for w in sol.omegas])
    assert len(sol.omegas) >= 4
    assert np.allclose(sol.omegas, exact, rtol=1e-4)  # P2 at h = 0.025: 3e-5 for the highest, Ω ≈ 20
    assert np.all(np.abs(np.diff(np.sort_complex(exact))) > 1e-6)  # one FE frequency per root
    assert np.all(exact.imag < -1e-4)


@pytest.mark.parametrize("point", ["M", "K", "inside"])
def test_homogeneous_hexagonal_cell_folded_bands(point):
    """Triangular lattice, ε = 2 everywhere: Ω = |k + G| / √2 over the reciprocal lattice G (degenerate at M
    and K), through the hexagonal cell's three pairs of periodic edges."""
    from fem_homog.cells.lattice import high_symmetry_points, reciprocal

    geo = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.3})
    cell = mesh_cell(geo, h=0.06, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))])
    k = high_symmetry_points(geo.lattice_vectors).get(point, np.array([1.0, 0.7]))
    G = np.array([m @ reciprocal(geo.lattice_vectors) for m in np.ndindex(7, 7)]) - 3 * reciprocal(
        geo.lattice_vectors).sum(axis=0)
    exact = np.sort(np.linalg.norm(k + G, axis=1))[:6] / np.sqrt(2.0)
    sol = problem.solve(k, nev=6, target=0.0)
    assert np.allclose(np.sort(sol.omegas.real)[:6], exact, rtol=5e-4)  # P2 error of e^{i(k+G)·y}, h = 0.06


def test_k_outside_the_hexagonal_zone_is_refused():
    geo = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.3})
    cell = mesh_cell(geo, h=0.15)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))])
    with pytest.raises(InputError, match="hexagon"):
        problem.solve([0.0, 3.8], nev=2)  # beyond M = (0, 2π/√3 ≈ 3.63)


def test_homogeneous_square_cell_folded_bands():
    """ε = 4 everywhere: Ω = |k + 2πn| / 2 with the degeneracies of the folded light cone."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.05, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(4.0)), Phase(INCLUSION, constant(4.0))],
                           polarization="TM", degree=2)
    k = np.array([np.pi, 0.5])
    sol = problem.solve(k, nev=6, target=0.5)
    n = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)])
    exact = np.sort(np.linalg.norm(k + 2 * np.pi * n, axis=1) / 2.0)[:4]
    assert np.allclose(np.sort(sol.omegas.real)[:4], exact, rtol=3e-5)  # P2 error of e^{2πi n·y}, h = 0.05
    assert np.abs(sol.omegas.imag).max() < 1e-10


def test_shifted_form_agrees_with_quasi_periodic_constraint():
    """The shifted operator on the periodic space and the unshifted operator on the quasi-periodic space
    (Bloch-phase P) discretize the same problem in different spaces (e^{ik·y} p_h is not a polynomial): their
    bands agree to discretization error, which shrinks at the P2 rate; they coincide only at Γ (at X the
    shifted space holds e^{iπy}p_h, not a polynomial, so the two differ there too)."""
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))]
    differences = []
    for h in (0.1, 0.05):
        cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.25}), h=h, order=2)
        problem = BlochProblem(cell, phases, polarization="TM", degree=2)
        k = [1.1, 0.4]
        shifted = problem.solve(k, nev=4, target=0.5).omegas.real[:4]
        quasi = problem.solve_quasi_periodic(k, nev=4, target=0.5).omegas.real[:4]
        differences.append(np.abs(shifted - quasi).max() / shifted.max())
    assert differences[0] < 1e-3 and differences[1] < differences[0] / 8, differences


def test_low_k_slopes_tm_and_te():
    """Long waves: TM Ω² ≈ |k|²/⟨ε⟩; TE Ω² ≈ k·A_hom[1/ε]k with A_hom from the corrector solver (§5, §2)."""
    from fem_homog.fem.coefficients import phase_fractions, phase_function
    from fem_homog.statics import correctors

    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.05, order=2)
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))]
    f = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    k = np.array([0.02, 0.0])
    tm = BlochProblem(cell, phases, polarization="TM").solve(k, nev=2, target=0.0)
    mean_eps = f[MATRIX] * 1.0 + f[INCLUSION] * 8.9
    assert tm.omegas[0].real ** 2 / (k @ k) == pytest.approx(1.0 / mean_eps, rel=1e-4)
    te = BlochProblem(cell, phases, polarization="TE").solve(k, nev=2, target=0.0)
    inverse_eps = phase_function(cell.mesh, cell.cell_tags, {MATRIX: 1.0, INCLUSION: 1.0 / 8.9})
    A_hom = correctors.conductivity(cell, inverse_eps).tensor
    assert te.omegas[0].real ** 2 / (k @ k) == pytest.approx(A_hom[0, 0], rel=1e-4)


@pytest.mark.parametrize("polarization", ["TM", "TE"])
def test_2d_laminate_against_1d_transfer_matrix(polarization):
    """A 2D laminate with k normal to the layers has the 1D laminate's bands (fields constant along y)."""
    eps = drude(1.0, 6.0, 0.1)
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "laminate", "fraction": 0.4, "normal": [1, 0]}),
                     h=0.05, order=1)
    problem = BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps)],
                           polarization=polarization, degree=2)
    exact = bloch_root(photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization), 1.0, 3.0)
    sol = problem.solve([1.0, 0.0], nev=4, target=exact.real)
    assert min(abs(sol.omegas - exact)) / abs(exact) < 1e-5


def test_tm_drude_multiplier_cluster_size():
    """Multiplying TM Drude by (Ω + iΓ) adds the eigenvalue −iΓ with multiplicity dim ker M_d (theory.md §6):
    the polynomial matrix at −iΓ loses exactly as much rank as there are dofs away from the inclusion."""
    gamma = 0.3
    problem = problem_1d(drude(1.0, 6.0, gamma), 0.05, "TM")
    K = problem.stiffness([0.7])
    mats = problem.pep_operators(K)
    z = -1j * gamma
    dense = sum(z**j * A.convert("dense").getDenseArray() for j, A in enumerate(mats) if A is not None)
    M_d = problem.mass[1].convert("dense").getDenseArray()
    dim_ker_md = M_d.shape[0] - np.linalg.matrix_rank(M_d, tol=1e-12)
    s = np.linalg.svd(dense, compute_uv=False)
    nullity = int(np.sum(s < 1e-10 * s.max()))
    assert dim_ker_md > 0 and nullity == dim_ker_md


def test_te_drude_multiplier_cluster_size():
    """TE Drude is multiplied by the numerator of ε: at a root of ε(Ω) = 0 the polynomial matrix loses
    dim ker K_d rank (theory.md §6)."""
    eps = drude(1.0, 6.0, 0.3)
    problem = problem_1d(eps, 0.05, "TE")
    K = problem.stiffness([0.7])
    roots = eps.as_fraction()[0].roots()
    z = roots[np.argmax(roots.real)]  # ε(z) = 0 with Re z > 0
    mats = problem.pep_operators(K)
    dense = sum(z**j * A.convert("dense").getDenseArray() for j, A in enumerate(mats) if A is not None)
    K_d = K[1].convert("dense").getDenseArray()
    dim_ker_kd = K_d.shape[0] - np.linalg.matrix_rank(K_d, tol=1e-10 * np.abs(K_d).max())
    s = np.linalg.svd(dense, compute_uv=False)
    assert dim_ker_kd > 0 and int(np.sum(s < 1e-10 * s.max())) == dim_ker_kd


def test_3d_homogeneous_cube_folded_bands():
    """3D cell, ε = 2 everywhere: Ω = |k + 2πn| / √2."""
    cell = mesh_cell(geometry_from_config({"dim": 3, "shape": "cube", "side": 0.5}), h=0.125, order=1)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))],
                           polarization="TM", degree=2)
    k = np.array([np.pi, 0.0, 0.0])
    sol = problem.solve(k, nev=4, target=1.0)
    n = np.array([(i, j, m) for i in range(-1, 2) for j in range(-1, 2) for m in range(-1, 2)])
    exact = np.sort(np.linalg.norm(k + 2 * np.pi * n, axis=1))[:2] / np.sqrt(2.0)
    assert sol.omegas.real[0] == pytest.approx(exact[0], rel=1e-10)  # constant periodic part: exact
    assert sol.omegas.real[1] == pytest.approx(exact[1], rel=3e-3)  # e^{-2πix}: 8 P2 cells per wavelength


def test_rectangular_lattice_folded_bands_and_zone():
    """A 1 × 0.5 cell, ε = 4: Ω = |k + 2π(n_1, 2 n_2)| / 2 at the rectangular zone's corner (π, 2π)."""
    from fem_homog.core.errors import InputError

    geo = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.15, "lengths": [1.0, 0.5]})
    cell = mesh_cell(geo, h=0.05, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(4.0)), Phase(INCLUSION, constant(4.0))],
                           polarization="TM", degree=2)
    k = np.array([np.pi, 2 * np.pi])
    sol = problem.solve(k, nev=4, target=0.5)
    n = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)])
    exact = np.sort(np.linalg.norm(k + 2 * np.pi * n / np.array([1.0, 0.5]), axis=1) / 2.0)[:4]
    found = np.sort(sol.omegas.real)[:4]
    assert found[0] == pytest.approx(exact[0], rel=1e-10)  # constant periodic part: exact in the FE space
    assert np.allclose(found, exact, rtol=5e-4)  # the others oscillate with period 0.5 along y (10 cells)
    with pytest.raises(InputError, match="outside the first Brillouin zone"):
        problem.solve([np.pi, 2.5 * np.pi], nev=2)


def test_auxiliary_linearization_matches_multiplied_polynomial():
    """TM lossy Drude rods: the auxiliary-field quadratic and the multiplied cubic (theory.md §6) give the same
    eigenpairs; the quadratic reports no multiplier roots."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.08, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, 6.0, 0.3))])
    assert problem.auxiliary
    k = [1.0, 0.5]
    quadratic = problem.solve(k, nev=6, target=2.0)
    problem.auxiliary = False
    cubic = problem.solve(k, nev=6, target=2.0)
    n = min(len(quadratic.omegas), len(cubic.omegas))
    assert n >= 4 and np.allclose(quadratic.omegas[:n], cubic.omegas[:n], rtol=1e-9)
    assert quadratic.filtered["multiplier"] == 0 and max(p.residual for p in quadratic.pairs) < 1e-10


# -- issue 12, item 1: the constant-media eigensolver never fails silently ----------------------------------
def small_rods_problem():
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.5, order=1)
    return BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))], degree=1)


def test_eps_that_does_not_converge_is_a_solver_error():
    """``-bloch_eps_max_it 1`` stops the EPS before 10 pairs converge: SolverError with the SLEPc reason and the
    count, not a short list of frequencies."""
    from fem_homog.core.errors import SolverError

    from petsc4py import PETSc

    problem = small_rods_problem()
    options = PETSc.Options()
    options["bloch_eps_max_it"] = 1
    try:
        with pytest.raises(SolverError, match=r"did not converge \(SLEPc reason -\d+, \d+ of 10 pairs"):
            problem.solve([1.0, 0.0], nev=10)
    finally:
        del options["bloch_eps_max_it"]
    assert len(problem.solve([1.0, 0.0], nev=10).pairs) >= 10  # the same solve converges without the option


def diagonal(values):
    from petsc4py import PETSc

    A = PETSc.Mat().createAIJ([len(values), len(values)], nnz=1, comm=PETSc.COMM_SELF)
    for i, v in enumerate(values):
        A.setValue(i, i, v)
    A.assemble()
    return A


def test_eps_refuses_a_negative_eigenvalue_beyond_round_off():
    """λ = Ω² = −1 of an indefinite ``A`` is an error (it used to be clamped to Ω = 0, a fake Γ zero mode);
    λ = −1e-14 (round-off around a true zero mode) is still Ω = 0."""
    from fem_homog.core.errors import SolverError
    from fem_homog.photonics.bloch import _eps_pairs

    B = diagonal([1.0] * 10)
    with pytest.raises(SolverError, match="negative or complex beyond round-off"):
        _eps_pairs(diagonal([-1.0, *range(1, 10)]), B, nev=3, target=0.0, tol=1e-12)
    pairs = _eps_pairs(diagonal([-1e-14, *range(1, 10)]), B, nev=3, target=0.0, tol=1e-12)
    assert sorted(abs(omega) for omega, _ in pairs)[:2] == pytest.approx([0.0, 1.0], abs=1e-6)


def test_more_pairs_than_unknowns_gives_what_exists():
    """``nev`` above the size of the problem asks for all of it (no PETSc error); the caller counts the rest
    as missing."""
    problem = small_rods_problem()
    n = problem.mass[0].getSize()[0]
    assert len(problem.solve([1.0, 0.0], nev=n + 10).pairs) == n
