"""High-frequency homogenization (theory.md §8): tensors against the exact 1D transfer-matrix curvature, the
HFH cases, invariances, finite-difference Hessians of the FEM bands, and bad input."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.lattice import named_point
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cells.symmetric_mesh import symmetric_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.hfh import (
    SOLVABILITY_TOL,
    Selection,
    ZoneOperators,
    _correctors,
    _second_order_blocks,
    check_normalisation,
    check_solvability,
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


# -- issue 12, item 2: little groups, symmetric meshes, guards, star, classification, T_blocks ----------------
RODS = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))]


def exact_bands(problem, k0, kappa, near: float, count: int) -> np.ndarray:
    """Re Ω² of the ``count`` bands nearest ``near`` (in Ω²) at ``k0 + κ``, in the quasi-periodic space of ``k0``
    with the shifted stiffness: the exact bands of the discretization HFH expands (theory.md §8.8)."""
    K, M, P = problem.quasi_periodic_operators(k0, shift=kappa)
    lam = problem.eigenpairs(np.add(k0, kappa), K, M, nev=count + 4, target=float(np.sqrt(near))).omegas ** 2
    for A in [*K, *M, P]:
        A.destroy()
    return np.sort(lam[np.argsort(np.abs(lam - near))[:count]].real)


def central_curvature(problem, k0, e, lam0: float, count: int) -> np.ndarray:
    """``½ d²Ω²/dκ²`` of the ``count`` bands at ``k0`` along ``e``: central differences (odd terms cancel, e.g.
    the trigonal warping at K), Richardson-extrapolated over ``d = 0.04, 0.02``."""
    fd = [(exact_bands(problem, k0, d * e, lam0, count) + exact_bands(problem, k0, -d * e, lam0, count) - 2 * lam0)
          / (2 * d ** 2) for d in (0.04, 0.02)]
    return (4 * fd[1] - fd[0]) / 3


DIRECTIONS = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0]) / np.sqrt(2),
              np.array([0.9578262852, 0.2873478856])]


@pytest.fixture(scope="module")
def hexagonal_rods():
    """Rods ε = 8.9, r = 0.2 on the triangular lattice, on a mesh with the cell's C6v symmetry."""
    geo = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.2})
    return BlochProblem(symmetric_cell(geo, h=0.1, order=2), RODS), named_point("K", geo.lattice_vectors)


def test_hexagonal_K_gives_a_dirac_cone(hexagonal_rods):
    """K is not a zone edge but its little group (C3v with time reversal) fixes no direction: the degenerate
    bands 2–3 are the repeated case with linear branches ±|v| (isotropic), matching one-sided differences of
    the exact bands (Richardson over d = 2e-3, 1e-3). The old classification by ``is_zone_edge`` called K
    interior and gave band 2 an arbitrary gradient."""
    problem, K = hexagonal_rods
    dirac = hfh_at_point(problem, K, Selection(band=2))
    assert dirac.case == "repeated" and len(dirac.omegas) == 2 and dirac.T_blocks is None
    lam0 = float(np.mean(dirac.omegas ** 2).real)
    speeds = []
    for e in DIRECTIONS:
        slopes = np.sort(dirac.slopes(e).real)
        assert slopes[0] == pytest.approx(-slopes[1], rel=1e-8) and slopes[1] > 1.0
        fd = [(exact_bands(problem, K, d * e, lam0, 2) - lam0) / d for d in (2e-3, 1e-3)]
        assert np.allclose(2 * fd[1] - fd[0], slopes, rtol=1e-5), (e, fd, slopes)
        speeds.append(slopes[1])
    assert np.ptp(speeds) < 1e-8 * speeds[0]  # the cone is isotropic


def test_hexagonal_K_band_one_has_curvature(hexagonal_rods):
    """Band 1 at K is simple and stationary: its tensor T (Hermitian pairings, theory.md §8.1) against central
    differences of the exact band; T is isotropic (three-fold axis)."""
    problem, K = hexagonal_rods
    band = hfh_at_point(problem, K, Selection(band=1))
    assert band.case == "simple" and band.solvability_multiplier < 1e-10
    lam0 = float((band.omegas[0] ** 2).real)
    for e in DIRECTIONS:
        assert abs(central_curvature(problem, K, e, lam0, 1)[0] - e @ band.T.real @ e) < 1e-6 * abs(band.T[0, 0])
    assert np.allclose(band.T.real, band.T[0, 0].real * np.eye(2), atol=1e-10) and abs(band.T.imag).max() < 1e-10


def test_missing_partner_of_a_split_pair_is_an_error():
    """On gmsh's mesh (no C6v symmetry) the Dirac pair at K splits by 3.4e-5 in Ω². With tolerances below that
    (``repeated_tol = cluster_tol = 1e-6``) band 2 is taken alone and violates the correctors' compatibility
    (multiplier ~0.4): an error naming the partner mode and the key to raise (it used to pass as an interior
    point with an arbitrary gradient). With the default tolerances the splitting estimate (P2 against P3,
    5.7e-4) makes the pair repeated."""
    geo = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.2})
    problem = BlochProblem(mesh_cell(geo, h=0.1, order=2), RODS)
    K = named_point("K", geo.lattice_vectors)
    with pytest.raises(InputError, match="likely missing partner is the mode at ω a/2πc = 0.5384"):
        hfh_at_point(problem, K, Selection(band=2, repeated_tol=1e-6, cluster_tol=1e-6))
    dirac = hfh_at_point(problem, K, Selection(band=2))
    split = abs(np.diff(dirac.omegas ** 2)[0]) / abs(dirac.omegas[0] ** 2)
    assert dirac.case == "repeated" and 1e-5 < split < dirac.repeated_tol
    with pytest.raises(InputError, match="multiplier 3.0e-02 > 0.0001"):
        check_solvability(0.03, [1.0], [])
    check_solvability(SOLVABILITY_TOL, [1.0], [])


def test_normalisation_guard_has_an_absolute_scale():
    """D is compared with <|β̇||U0|²> + <|μ̇||∇U0|²>: a 1×1 D of 1e-9 against a scale of 1 is singular (the old
    guard compared D's eigenvalues with D itself, which a simple mode always passes)."""
    with pytest.raises(InputError, match="singular"):
        check_normalisation(np.array([[1e-9 + 0j]]), np.array([1.0]))
    with pytest.raises(InputError, match="singular"):
        check_normalisation(np.array([[1.0, 0.0], [0.0, 1e-8]]), np.array([1.0, 1.0]))
    check_normalisation(np.array([[0.3 - 0.1j]]), np.array([1.0]))


@pytest.mark.parametrize("point,band", [("M", 2), ("G", 3)])
def test_symmetry_protected_pair_is_repeated_at_every_h(point, band):
    """Square rods (ε = 8.9, r = 0.2), M bands 2–3 and Γ bands 3–4 (the E doublets of C4v, equal parity: W = 0):
    on the symmetric mesh the pair is exactly degenerate (round-off) at h = 0.1 and 0.05 and the case is
    `repeated` with the second-order blocks T_blocks, whose model ``eig(D⁻¹ t(e))`` matches central differences
    of both exact bands along four directions. On gmsh's mesh the pair splits by 3.8e-5 at h = 0.1 (`nearby` under
    the fixed tolerance 1e-5 of old) and is repeated through the splitting estimate."""
    geo = geometry_from_config({"shape": "circle", "radius": 0.2})
    k0 = named_point(point, geo.lattice_vectors)
    for h in (0.1, 0.05):
        problem = BlochProblem(symmetric_cell(geo, h=h, order=2), RODS)
        result = hfh_at_point(problem, k0, Selection(band=band))
        lam = result.omegas ** 2
        assert result.case == "repeated" and result.T_blocks is not None
        assert abs(lam[1] - lam[0]) < 1e-12 * abs(lam[0])
    lam0 = float(np.mean(lam).real)
    for e in DIRECTIONS:
        model = np.sort(np.linalg.eigvals(np.linalg.solve(result.D, np.einsum("qpij,i,j->qp", result.T_blocks,
                                                                                  e, e))).real)
        fd = central_curvature(problem, k0, e, lam0, 2)
        assert np.abs(model - fd).max() < 1e-5 * np.abs(model).max(), (e, model, fd)
    if point == "M":  # gmsh's mesh: split 3.8e-5 and 3.3e-6, the tolerance follows the P2-vs-P3 estimate
        for h in (0.1, 0.05):
            result = hfh_at_point(BlochProblem(mesh_cell(geo, h=h, order=2), RODS), k0, Selection(band=band))
            split = abs(np.diff(result.omegas ** 2)[0]) / abs(result.omegas[0] ** 2)
            assert result.case == "repeated" and 1e-6 < split < result.repeated_tol, (h, split)


def test_star_follows_the_cells_symmetry():
    """The star of k0 under the cell's own point group: X and Y for centred rods (Y with the rotated tensor),
    X alone for a rotated ellipse (point group {±I}; the old star assumed the square lattice's eight operations
    for any square-lattice cell) and for an axis-aligned ellipse (C2v); the three M and two K points of the
    triangular lattice with round rods."""
    from fem_homog.cells.symmetry import point_group
    from fem_homog.photonics.classification import star

    T = np.array([[-1.0, 0.2], [0.2, 3.0]])
    rods = geometry_from_config({"shape": "circle", "radius": 0.2})
    members = star([np.pi, 0.0], T, rods.lattice_vectors, point_group(rods))
    assert [m["k"] for m in members] == [[np.pi, 0.0], [0.0, np.pi]]
    assert np.allclose(members[1]["T"], [[3.0, 0.2], [0.2, -1.0]]) or np.allclose(members[1]["T"],
                                                                                   [[3.0, -0.2], [-0.2, -1.0]])
    assert len(star([np.pi, np.pi], T, rods.lattice_vectors, point_group(rods))) == 1
    for cell in ({"shape": "ellipse", "semi_axes": [0.3, 0.15], "angle": 30.0},
                 {"shape": "ellipse", "semi_axes": [0.3, 0.15]}):
        geo = geometry_from_config(cell)
        assert len(point_group(geo)) == (2 if "angle" in cell else 4)
        assert [m["k"] for m in star([np.pi, 0.0], T, geo.lattice_vectors, point_group(geo))] == [[np.pi, 0.0]]
    hexagonal = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.2})
    group = point_group(hexagonal)
    assert len(group) == 12
    for letter, size in (("M", 3), ("K", 2), ("G", 1)):
        assert len(star(named_point(letter, hexagonal.lattice_vectors), None, hexagonal.lattice_vectors,
                        group)) == size


def test_classify_hand_made_tensors():
    """classify against tensors whose answers are known by hand: the parabolic threshold on |λ_min|/|λ_max|, the
    sign patterns, the real part of a complex T, and the characteristic angles θ ± atan(sqrt(|λ_-|/λ_+)) of a
    saddle whose principal axes are rotated by θ = 20°."""
    from fem_homog.photonics.classification import classify

    assert classify(np.diag([2.0, 0.09]))["type"] == "parabolic"  # ratio 0.045 < 0.05
    assert classify(np.diag([2.0, 0.11]))["type"] == "elliptic"  # ratio 0.055
    assert classify(np.diag([2.0, 0.09]), parabolic_tol=0.01)["type"] == "elliptic"
    low = classify(np.diag([2.0, 0.5]))
    assert low["extremum"] == "minimum" and low["anisotropy"] == pytest.approx(0.25)
    assert classify(np.diag([-1.0, -3.0]))["extremum"] == "maximum"
    assert classify(np.diag([1.0 + 5.0j, 2.0 - 3.0j]))["type"] == "elliptic"
    theta = np.radians(20.0)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    saddle = classify(R @ np.diag([-1.0, 4.0]) @ R.T)
    assert saddle["type"] == "hyperbolic" and saddle["extremum"] == "saddle"
    half_angle = np.degrees(np.arctan(0.5))
    assert np.allclose(saddle["characteristic_angles_deg"], sorted([20.0 + half_angle, (20.0 - half_angle) % 180]))
    for angle in np.radians(saddle["characteristic_angles_deg"]):
        k = np.array([np.cos(angle), np.sin(angle)])
        assert abs(k @ R @ np.diag([-1.0, 4.0]) @ R.T @ k) < 1e-12


def test_li_2003_stack_against_the_transfer_matrix():
    """The positive/negative-index stack of Li et al. (2003) (drivers/configs/hfh_lorentz_stack_li2003.toml, the
    config's own ε(Ω), μ(Ω)) at Γ: the two close modes, each mode's own curvature T_p and the coupled
    (nearby, regularised) branches Ω²(κ) − Ω0² against the transfer-matrix roots of the same stack (P2,
    h = 0.005). The two simple parabolas alone miss the branches at κ = 0.5 by far more."""
    import tomllib
    from pathlib import Path

    from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config

    config = tomllib.loads((Path(__file__).parents[1] / "drivers/configs/hfh_lorentz_stack_li2003.toml").read_text())
    geo = geometry_from_config(config["cell"])
    phases = phases_from_config({**MATERIAL_DEFAULTS, **config["material"]})
    problem = BlochProblem(mesh_cell(geo, h=0.005), phases, polarization="TM")
    result = hfh_at_point(problem, [0.0], Selection(band=2, search_from=config["hfh"]["search_from"] * 2 * np.pi))
    assert result.case == "nearby" and len(result.omegas) == 2
    f = geo.fraction
    matrix, layer = phases
    layers = photonic_layers([matrix.eps, layer.eps, matrix.eps], [(1 - f) / 2, f, (1 - f) / 2], "TM",
                             mu_r=[matrix.mu_r, layer.mu_r, matrix.mu_r])
    omega0 = np.array([bloch_root(layers, 0.0, w) for w in result.omegas])
    assert np.allclose(result.omegas, omega0, rtol=1e-6)
    for T, w in zip(result.T_bands, omega0):
        assert abs(T[0, 0] - exact_curvature(layers, 0.0, w)) < 2e-4 * abs(T[0, 0])
    worst_model, worst_parabolas = 0.0, 0.0
    for kappa in (0.05, 0.2, 0.5):
        model = result.predict([[kappa]])[0] - result.omegas ** 2
        exact = np.array([bloch_root(layers, kappa, np.sqrt(w ** 2 + m)) for w, m in zip(omega0, model)]) ** 2 \
            - omega0 ** 2
        parabolas = np.array([T[0, 0] for T in result.T_bands]) * kappa ** 2
        worst_model = max(worst_model, np.abs(model - exact).max() / np.abs(exact).max())
        worst_parabolas = max(worst_parabolas, np.abs(parabolas - exact).max() / np.abs(exact).max())
    assert worst_model < 1e-3 and worst_parabolas > 0.5, (worst_model, worst_parabolas)


@pytest.mark.parametrize("cell,order", [({"shape": "circle", "radius": 0.2}, 2), ({"shape": "square", "side": 0.5}, 1),
                                        ({"shape": "ellipse", "semi_axes": [0.3, 0.15]}, 2),
                                        ({"lattice": "hexagonal", "shape": "circle", "radius": 0.2}, 2)])
def test_symmetric_mesh_is_invariant_periodic_and_conforming(cell, order):
    """The unfolded wedge mesh: its nodes are mapped onto nodes by every operation of the cell's group (C4v, C2v,
    C6v), the cell's area is exact and the inclusion's area is the nominal one to geometry accuracy (order 2:
    curved), and the periodic map finds a partner for every boundary node (it would raise otherwise)."""
    from scipy.spatial import cKDTree

    from fem_homog.cells.symmetric_mesh import mirror_group
    from fem_homog.cells.symmetry import cell_centre
    from fem_homog.fem.coefficients import phase_fractions

    geo = geometry_from_config(cell)
    mesh = symmetric_cell(geo, h=0.1, order=order)
    x = mesh.mesh.geometry.x[:, :2]
    c = cell_centre(geo)
    group = mirror_group(geo)
    assert len(group) == {"circle": 8, "square": 8, "ellipse": 4}[cell["shape"]] + 4 * ("lattice" in cell)
    tree = cKDTree(x)
    for R in group:
        assert tree.query(c + (x - c) @ R.T)[0].max() < 1e-12
    f = phase_fractions(mesh.mesh, mesh.cell_tags, [MATRIX, INCLUSION])
    assert f[MATRIX] + f[INCLUSION] == pytest.approx(1.0, abs=1e-12)
    assert f[INCLUSION] == pytest.approx(geo.nominal_inclusion_fraction(), rel=2e-5 if order == 2 else 1e-12)
    BlochProblem(mesh, RODS)  # builds the periodic map
    assert symmetric_cell(geometry_from_config({"shape": "ellipse", "semi_axes": [0.3, 0.15], "angle": 30.0}),
                          h=0.1) is None  # no mirror group: gmsh's mesh is used
