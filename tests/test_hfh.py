"""High-frequency homogenization (theory.md §8): tensors against the exact 1D transfer-matrix curvature, the
HFH cases, invariances, finite-difference Hessians of the FEM bands, and bad input."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.hfh import (
    Selection,
    ZoneOperators,
    _correctors,
    _second_order_blocks,
    hfh_at_point,
    low_frequency,
)
from fem_homog.photonics.laminate1d import bloch_root, cauchy_derivative, dispersion, photonic_layers
from fem_homog.photonics.materials import DispersiveModel, Phase, constant

FRACTION = 0.3
DRUDE = DispersiveModel(1.0, drude=((8.0, 0.3),))
LORENTZ = DispersiveModel(1.0, lorentz=((3.0, 4.0, 0.2),))
MU_LORENTZ = DispersiveModel(1.0, lorentz=((1.5, 5.0, 0.1),))


def laminate_1d(eps_b, eps_i, polarization, h, mu_i=None):
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": FRACTION}), h=h)
    phases = [Phase(MATRIX, eps_b), Phase(INCLUSION, eps_i, mu_i or constant(1.0))]
    problem = BlochProblem(cell, phases, polarization=polarization, degree=2)
    half = (1 - FRACTION) / 2
    mu = [constant(1.0), mu_i or constant(1.0), constant(1.0)]
    layers = photonic_layers([eps_b, eps_i, eps_b], [half, FRACTION, half], polarization, mu_r=mu)
    return problem, layers


def exact_curvature(layers, k0: float, omega: complex) -> complex:
    """``T = ∓(2 ∂Δ/∂λ)^{-1}`` at ``k0 = 0`` / ``π`` (λ = Ω², Δ = cos k; theory.md §8.7)."""
    d_delta = cauchy_derivative(lambda w: dispersion(layers, w), omega) / (2 * omega)
    return (1.0 if np.isclose(k0, np.pi) else -1.0) / (2 * d_delta)


CASES_1D = {"constant": (constant(1.0), constant(4.0), None),
            "drude": (constant(4.0), DRUDE, None),
            "lorentz_eps_mu": (constant(1.0), LORENTZ, MU_LORENTZ)}


@pytest.mark.parametrize("polarization", ["TM", "TE"])
@pytest.mark.parametrize("case", sorted(CASES_1D))
def test_1d_tensor_against_exact_curvature(case, polarization):
    """Simple eigenvalues at Γ and X of constant, Drude and Lorentz (ε and μ) stacks: complex T against the
    transfer-matrix curvature, solvability multiplier at round-off."""
    eps_b, eps_i, mu_i = CASES_1D[case]
    problem, layers = laminate_1d(eps_b, eps_i, polarization, h=0.02, mu_i=mu_i)
    for k0 in (0.0, np.pi):
        result = hfh_at_point(problem, [k0], Selection(band=2, search_from=0.5))
        assert result.case == "simple"
        omega = bloch_root(layers, k0, result.omegas[0])
        exact = exact_curvature(layers, k0, omega)
        assert abs(result.omegas[0] - omega) < 1e-5 * abs(omega)
        assert abs(result.T[0, 0] - exact) < 2e-5 * abs(exact), (k0, result.T[0, 0], exact)
        assert result.solvability_multiplier < 1e-8


def test_1d_tensor_converges_at_fourth_order():
    """P2: the eigenvalue and T converge as O(h^4) (theory.md §8.7 table)."""
    errors = []
    for h in (0.05, 0.025):
        problem, layers = laminate_1d(constant(4.0), DRUDE, "TM", h=h)
        result = hfh_at_point(problem, [np.pi], Selection(band=1, search_from=0.5))
        exact = exact_curvature(layers, np.pi, bloch_root(layers, np.pi, result.omegas[0]))
        errors.append(abs(result.T[0, 0] - exact) / abs(exact))
    assert errors[0] / errors[1] > 12, errors


@pytest.mark.parametrize("case", sorted(CASES_1D))
def test_1d_tensor_reaches_1e8_on_a_fine_mesh(case):
    """P2 with h = 0.0025 (800 cells): T within 1e-8 of the exact curvature (theory.md §8.7)."""
    eps_b, eps_i, mu_i = CASES_1D[case]
    problem, layers = laminate_1d(eps_b, eps_i, "TM", h=0.0025, mu_i=mu_i)
    result = hfh_at_point(problem, [np.pi], Selection(band=2, search_from=0.5))
    exact = exact_curvature(layers, np.pi, bloch_root(layers, np.pi, result.omegas[0]))
    assert abs(result.T[0, 0] - exact) < 1e-8 * abs(exact)


def test_tm_and_te_forms_agree_in_1d():
    """−u'' = Ω²εu and −(u'/ε)' = Ω²u share the 1D dispersion relation, so their T agree (tests the μ̇ term)."""
    T = [hfh_at_point(laminate_1d(constant(4.0), DRUDE, pol, h=0.02)[0], [np.pi],
                      Selection(band=2, search_from=0.5)).T[0, 0] for pol in ("TM", "TE")]
    assert abs(T[0] - T[1]) < 1e-5 * abs(T[0])


def test_invariance_under_rescaling_and_adding_u0():
    """T is unchanged by U0 → cU0 (U1 → cU1) and by U1 → U1 + αU0 (theory.md §8.2)."""
    problem, _ = laminate_1d(constant(4.0), DRUDE, "TM", h=0.05)
    reference = hfh_at_point(problem, [np.pi], Selection(band=1, search_from=0.5))
    ops = ZoneOperators(problem, [np.pi])
    omega = reference.omegas[0]
    pairs = problem.eigenpairs(ops.k0, ops.K, ops.M, nev=3, target=omega.real).pairs
    x = min(pairs, key=lambda p: abs(p.omega - omega)).vector
    x.scale(0.3 - 2.0j)
    ys, _ = _correctors(ops, omega, [x])
    ys[0][0].axpy(1.7 + 0.4j, x)
    t = _second_order_blocks(ops, omega, [x], ys)[0, 0]
    D = ops.normalisation(omega)
    Dx = D.createVecLeft()
    D.mult(x, Dx)
    assert abs(t[0, 0] / x.tDot(Dx) - reference.T[0, 0]) < 1e-10 * abs(reference.T[0, 0])


def test_repeated_eigenvalue_slopes():
    """A folded homogeneous cell at k = π (Ω0 = π, double) has the slopes dΩ²/dκ = ±2π; vacuum | lossless
    Drude with ε(2π) = 4 and equal layers closes the gap at Ω0 = 2π, where the slopes match the exact
    dispersion relation."""
    vacuum = constant(1.0)
    problem, _ = laminate_1d(vacuum, vacuum, "TM", h=0.05)
    result = hfh_at_point(problem, [np.pi], Selection(band=1))
    assert result.case == "repeated"
    assert np.allclose(np.sort(result.slopes([1.0]).real), [-2 * np.pi, 2 * np.pi], rtol=1e-6)

    metal = DispersiveModel(5.0, drude=((2 * np.pi, 0.0),))  # ε(2π) = 5 − 1 = 4
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.5}), h=0.02)
    problem = BlochProblem(cell, [Phase(MATRIX, vacuum), Phase(INCLUSION, metal)],
                           polarization="TM", degree=2)
    result = hfh_at_point(problem, [np.pi], Selection(target=2 * np.pi))
    assert result.case == "repeated"
    layers = photonic_layers([vacuum, metal, vacuum], [0.25, 0.5, 0.25], "TM")
    delta = 1e-4
    exact = [(bloch_root(layers, np.pi - delta, 2 * np.pi + s * 0.01) ** 2 - 4 * np.pi ** 2) / delta
             for s in (-1, 1)]
    assert np.allclose(np.sort(np.abs(result.slopes([1.0]))), np.sort(np.abs(exact)), rtol=1e-3)


def test_interior_point_group_velocity():
    """Lossless Drude stack at k0 = 1.1: ∂Ω²/∂k = −sin k / (∂Δ/∂λ) (theory.md §8.5)."""
    problem, layers = laminate_1d(constant(4.0), DispersiveModel(1.0, drude=((8.0, 0.0),)), "TE", h=0.02)
    result = hfh_at_point(problem, [1.1], Selection(band=2, search_from=0.5))
    assert result.case == "interior"
    omega = bloch_root(layers, 1.1, result.omegas[0])
    d_delta = cauchy_derivative(lambda w: dispersion(layers, w), omega) / (2 * omega)
    assert result.gradient[0] == pytest.approx((-np.sin(1.1) / d_delta).real, rel=1e-5)


def test_interior_point_of_lossy_crystal_is_refused():
    problem, _ = laminate_1d(constant(4.0), DRUDE, "TM", h=0.05)
    with pytest.raises(InputError, match="lossless"):
        hfh_at_point(problem, [1.1], Selection(band=1, search_from=0.5))


def test_low_frequency_limit_is_classical_homogenization():
    """Γ, band 1 of a constant 2D crystal: T = A_hom(μ)/<ρ> with A_hom from the static correctors (TE:
    μ = 1/ε) and 1/<ε> in TM."""
    from fem_homog.fem.coefficients import phase_fractions, phase_function
    from fem_homog.statics import correctors

    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "ellipse", "semi_axes": [0.3, 0.15],
                                           "angle": 30.0}), h=0.08, order=2)
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(6.0))]
    te = hfh_at_point(BlochProblem(cell, phases, polarization="TE"), [0.0, 0.0],
                      Selection(band=1))
    assert te.case == "low_frequency"
    inverse_eps = phase_function(cell.mesh, cell.cell_tags, {MATRIX: 1.0, INCLUSION: 1.0 / 6.0})
    A_hom = correctors.conductivity(cell, inverse_eps).tensor
    assert np.allclose(te.T.real, A_hom, rtol=1e-7, atol=1e-9)
    assert abs(te.T[0, 1]) > 1e-3  # the rotated ellipse makes it anisotropic
    tm = hfh_at_point(BlochProblem(cell, phases, polarization="TM"), [0.0, 0.0],
                      Selection(band=1))
    f = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    assert np.allclose(tm.T.real, np.eye(2) / (f[MATRIX] + 6.0 * f[INCLUSION]), rtol=1e-10)


def test_nearby_eigenvalues_with_regularised_model():
    """(μ, ρ) = (1, 1) | (1, 1.3): a small gap at k = π. The coupled model with T^reg follows the FEM bands
    across κ ∈ [0.02, 0.4] far better than the two simple parabolas (theory.md §8.4, §8.7)."""
    problem, _ = laminate_1d(constant(1.0), constant(1.3), "TM", h=0.02)
    result = hfh_at_point(problem, [np.pi], Selection(band=2, cluster_tol=0.2))
    assert result.case == "nearby" and len(result.omegas) == 2
    worst_model, worst_parabola = 0.0, 0.0
    for kappa in (0.02, 0.1, 0.2, 0.4):
        exact = np.sort(problem.solve_quasi_periodic([np.pi - kappa], nev=4,
                                                     target=result.omegas[0].real).omegas ** 2)
        exact = exact[np.argsort(np.abs(exact - result.omegas[0] ** 2))[:2]]
        model = np.sort(result.predict([[-kappa]])[0].real)
        parabolas = np.sort([result.omegas[p].real ** 2 + result.T_bands[p][0, 0].real * kappa ** 2
                             for p in range(2)])
        worst_model = max(worst_model, np.abs(model - np.sort(exact.real)).max() / exact.real.max())
        worst_parabola = max(worst_parabola, np.abs(parabolas - np.sort(exact.real)).max() / exact.real.max())
    assert worst_model < 1e-4 and worst_parabola > 100 * worst_model, (worst_model, worst_parabola)


@pytest.fixture(scope="module")
def rods():
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.08, order=2)
    return cell


@pytest.mark.parametrize("point,band", [("X", 1), ("M", 1), ("X", 2)])
def test_2d_tensor_against_finite_difference_hessian(rods, point, band):
    """½ Hess Ω² of the FEM band (same quasi-periodic discretization, central differences with Richardson
    extrapolation) against T at X and M, rods ε = 8.9 in TM."""
    k0 = np.array({"X": [np.pi, 0.0], "M": [np.pi, np.pi]}[point])
    problem = BlochProblem(rods, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))])
    result = hfh_at_point(problem, k0, Selection(band=band))
    assert result.case == "simple"
    lam0 = result.omegas[0] ** 2

    def band_at(kappa):
        sol = problem.solve_quasi_periodic(k0 - kappa, nev=4, target=result.omegas[0].real)
        return sol.omegas[np.argmin(np.abs(sol.omegas ** 2 - lam0))] ** 2

    for e in ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]):
        e = np.array(e) / np.linalg.norm(e)
        fd = [(band_at(d * e) - lam0) / d ** 2 for d in (0.04, 0.02)]
        richardson = (4 * fd[1] - fd[0]) / 3
        assert abs(richardson - e @ result.T @ e) < 3e-4 * np.abs(result.T).max(), (e, richardson)


def test_2d_laminate_tensor_matches_1d():
    """A 2D laminate (layers normal to x) at X: T_xx is the 1D stack's curvature, T_xy = 0, and T_yy is the
    curvature of the (complex) band along the layers."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "laminate", "fraction": FRACTION}), h=0.05)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(4.0)), Phase(INCLUSION, DRUDE)])
    result = hfh_at_point(problem, [np.pi, 0.0], Selection(band=1, search_from=0.5))
    _, layers = laminate_1d(constant(4.0), DRUDE, "TM", h=0.05)
    exact = exact_curvature(layers, np.pi, bloch_root(layers, np.pi, result.omegas[0]))
    assert abs(result.T[0, 0] - exact) < 1e-4 * abs(exact)
    assert abs(result.T[0, 1]) < 1e-8 * abs(exact)
    # T_yy (along the layers) against central differences of the complex band, Richardson-extrapolated
    lam0 = result.omegas[0] ** 2

    def band_at(ky):
        sol = problem.solve_quasi_periodic([np.pi, ky], nev=4, target=result.omegas[0].real)
        return sol.omegas[np.argmin(np.abs(sol.omegas ** 2 - lam0))] ** 2

    fd = [(band_at(d) - lam0) / d ** 2 for d in (0.1, 0.05)]
    assert abs((4 * fd[1] - fd[0]) / 3 - result.T[1, 1]) < 1e-4 * abs(result.T[1, 1])


def test_bad_selection_is_refused():
    problem, _ = laminate_1d(constant(1.0), constant(4.0), "TM", h=0.1)
    with pytest.raises(InputError, match="Brillouin zone"):
        hfh_at_point(problem, [4.0], Selection(band=1))
    with pytest.raises(InputError, match="either"):
        hfh_at_point(problem, [np.pi], Selection(band=1, target=1.0))
    with pytest.raises(InputError, match="not found"):
        hfh_at_point(problem, [np.pi], Selection(band=40))
    drude, _ = laminate_1d(constant(1.0), DRUDE, "TM", h=0.1)
    with pytest.raises(InputError, match="static limit"):
        low_frequency(ZoneOperators(drude, [0.0]))


def test_comparison_reports_missing_exact_modes():
    """A κ without an exact mode (NaN) is counted and reported, not dropped silently from the slope fit."""
    from fem_homog.photonics.hfh_path import Comparison
    kappa = np.array([0.05, 0.1, 0.2, 0.4])
    predicted = np.full((4, 1), 1.0 + 0j)
    exact = predicted + (kappa ** 2)[:, None]
    exact[2, 0] = np.nan
    c = Comparison(np.array([1.0, 0.0]), kappa, exact, predicted)
    d = c.to_dict()
    assert d["missing"] == 1 and d["fit_points"] == 3
