"""Multiband real-space homogenization (theory.md §10): fits, interface conditions, energy balance, the exact
fine-scale references against independent FEMs (slab, half-space with an absorber), asserted model-vs-exact bounds,
the seed's gap decay against the complex band structure, and the driver."""

import json

import numpy as np
import pytest

import fem_homog  # noqa: F401  (dolfinx_solver before dolfinx)
from fem_homog.multiband import homogenize
from fem_homog.multiband.fits import RationalBand, band_edges, elastic_layers, exact_band, static_moduli
from fem_homog.multiband.model import classical, interface_conditions, single_band
from fem_homog.multiband.scattering import exact, solve

SPEC = [[1.0, 1.0, 0.5], [6.0, 1.5, 0.5]]  # theory.md §10.6
GAP_SPEC = [[1.0, 1.0, 0.5], [10.0, 5.0, 0.5]]
HOM = classical(2.0, 1.0)


@pytest.fixture(scope="module")
def fitted():
    return {N: homogenize.laminate(SPEC, N, 1) for N in (1, 2, 3)}


@pytest.fixture(scope="module")
def two_band():
    return homogenize.laminate(GAP_SPEC, 1, 2, cutoff=True), homogenize.homogeneous(2.6, 2.0, 2)


def test_band_edges_solve_the_dispersion_relation():
    layers = elastic_layers(SPEC)
    (lo1, hi1), (lo2, hi2) = band_edges(layers, 2)
    assert lo1 == 0.0 and hi1 < lo2 < hi2
    ks = np.array([0.3, 1.7, np.pi])
    from fem_homog.photonics.laminate1d import dispersion
    for w, k in zip(exact_band(layers, (lo1, hi1), ks), ks):
        assert dispersion(layers, w).real == pytest.approx(np.cos(k), abs=1e-12)


@pytest.mark.parametrize("N", [1, 2, 3])
def test_fit_keeps_the_static_limit_and_signs(fitted, N):
    E_bar, rho_bar = static_moduli(SPEC)
    band = fitted[N].bands[0]
    assert band.num[1] == E_bar and band.den[0] == rho_bar
    assert np.all(band.num >= 0) and np.all(band.den >= 0)
    k = 1e-4
    assert band.omega(np.array([k]))[0] / k == pytest.approx(np.sqrt(E_bar / rho_bar), rel=1e-7)


def test_fit_errors_decrease_with_order(fitted):
    errors = [fitted[N].errors[0] for N in (1, 2, 3)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.01  # theory.md §10.6: R_6 within 0.4% of the band-edge frequency


def test_cutoff_pins_the_gap_edges(two_band):
    meta, _ = two_band
    (_, top1), (bottom2, top2) = band_edges(elastic_layers(GAP_SPEC), 2)
    first, second = meta.bands
    assert first.omega2(np.array([1e8]))[0] == pytest.approx(top1 ** 2, rel=1e-12)
    assert second.omega2(np.array([1e8]))[0] == pytest.approx(bottom2 ** 2, rel=1e-12)
    assert second.omega(np.array([0.0]))[0] == pytest.approx(top2, rel=1e-12)


def test_interface_condition_count():
    for a, b in [(1, 1), (1, 3), (3, 1), (2, 4)]:
        conditions = interface_conditions(a, b)
        assert len(conditions) == a + b
        assert sum(c.startswith("[d^") for c in conditions) == min(a, b)


def _cases(fitted, two_band):
    for N in (1, 2, 3):
        for w in (0.3, 1.5, 2.7, 3.5):  # band 1 and the first gap
            yield [HOM, fitted[N].model], [0.0], w
            yield [HOM, fitted[N].model, HOM], [0.0, 7.0], w
            if w < 2.8:  # incident from inside the metamaterial: equal orders, then mixed
                yield [fitted[N].model, fitted[N].model, HOM], [0.0, 3.0], w
    meta, hom = two_band
    for w in (0.5, 1.5, 2.5, 4.0, 5.6, 6.2):  # across both bands and the gap
        yield [hom.model, meta.model], [0.0], w
        yield [hom.model, meta.model, hom.model], [0.0, 6.0], w


def test_energy_balance_and_flux_continuity(fitted, two_band):
    count = 0
    for models, interfaces, w in _cases(fitted, two_band):
        s = solve(models, interfaces, w)
        assert abs(s.energy_balance - 1.0) < 1e-12, (models[1].name, w)
        assert s.flux_mismatch < 1e-12
        count += 1
    assert count == 45


def test_rational_model_reduces_to_classical():
    """Vanishing higher coefficients give the classical bar: T_E = 4 Z1 Z2/(Z1 + Z2)²."""
    E, rho, w = 3.0, 2.0, 1.3
    model = single_band(RationalBand(np.array([0.0, E]), np.array([rho, 0.0])))
    assert np.array_equal(model.C, classical(E, rho).C)
    Z1, Z2 = np.sqrt(2.0 * 1.0), np.sqrt(E * rho)
    expected = 4 * Z1 * Z2 / (Z1 + Z2) ** 2
    assert solve([HOM, model], [0.0], w).T_E == pytest.approx(expected, abs=1e-14)
    for eps, tol in ((1e-4, 2e-3), (1e-7, 2e-6)):  # R_4 with small E_2, ρ_1, ρ_2 → classical
        r4 = single_band(RationalBand(np.array([0.0, E, eps]), np.array([rho, eps, eps])))
        assert solve([HOM, r4], [0.0], w).T_E == pytest.approx(expected, abs=tol)


def test_termination_swap_conjugates_exact_reflection():
    for w in (0.7, 2.5):
        a, b = exact(SPEC, 2.0, 1.0, w, None, 0), exact(SPEC, 2.0, 1.0, w, None, 1)
        assert b.R == pytest.approx(np.conj(a.R), abs=1e-13)


@pytest.mark.parametrize("w", [0.5, 2.0, 3.5, 6.0])
def test_exact_slab_against_fine_scale_fem(w):
    """Transfer matrix (laminate1d.slab) against P3 FEM with exact radiation conditions."""
    from fem_homog.multiband.fem1d import harmonic_slab

    fem = harmonic_slab(SPEC, 5, 2.0, 1.0, w, h=0.05, degree=3).scattering
    ref = exact(SPEC, 2.0, 1.0, w, 5)
    assert abs(fem.R - ref.R) < 1e-6 and abs(fem.t - ref.t) < 1e-6
    assert abs(fem.R) ** 2 + fem.T_E == pytest.approx(1.0, abs=1e-6)


def test_exact_single_boundary_against_fine_scale_fem_with_absorber():
    """The exact single-boundary T_E (transfer matrix, Bloch impedance) against an independent fine-scale P3 FEM of
    the half-space and a long laminate ending in an adiabatic absorber (fem1d.harmonic_half_space): the FEM's
    error falls as the absorber lengthens (30 → 80 absorbing cells) and is below 5e-5 away from the edge, 1e-3 at
    0.95 ω_e; in the gap both transmit nothing."""
    from fem_homog.multiband.fem1d import harmonic_half_space

    we = band_edges(elastic_layers(SPEC), 1)[0][1]
    errors = {}
    for cells, absorber in ((40, 30), (100, 80)):
        errors[absorber] = np.array([abs(harmonic_half_space(SPEC, 2.0, 1.0, r * we, cells=cells,
                                                             absorber=absorber).T_E
                                         - exact(SPEC, 2.0, 1.0, r * we, None).T_E) for r in (0.2, 0.8, 0.95)])
    assert np.all(errors[80] < errors[30])
    assert np.all(errors[80][:2] < 5e-5) and errors[80][2] < 1e-3
    assert abs(harmonic_half_space(SPEC, 2.0, 1.0, 1.2 * we, cells=40, absorber=30).T_E) < 1e-8
    assert exact(SPEC, 2.0, 1.0, 1.2 * we, None).T_E == 0.0


def test_model_vs_exact_bounds(fitted, two_band):
    """The agreement stated in docs/drivers.md (multiband, theory.md §10.6), asserted over 200 frequencies: single
    boundary, R_6 against the exact T_E (itself checked against the FEM above), |ΔT_E| ≤ 0.026 up to 0.5 ω_e and
    ≤ 0.12 up to 0.8 ω_e (measured 0.0255 and 0.117; edge ω_e = 2.8909); the two-band model transmits nothing across
    the whole exact gap and is within 0.02 of the exact T_E low in band 1."""
    we = band_edges(elastic_layers(SPEC), 1)[0][1]
    for top, bound in ((0.5, 0.026), (0.8, 0.12)):
        ws = np.linspace(0.02, top, 200) * we
        delta = [abs(solve([HOM, fitted[3].model], [0.0], w).T_E - exact(SPEC, 2.0, 1.0, w, None).T_E) for w in ws]
        assert max(delta) <= bound
    meta, hom = two_band
    (_, top1), (bottom2, _) = band_edges(elastic_layers(GAP_SPEC), 2)
    for w in np.linspace(top1 * 1.01, bottom2 * 0.99, 5):
        assert solve([hom.model, meta.model], [0.0], w).T_E < 1e-12
    assert solve([hom.model, meta.model], [0.0], 0.6).T_E == pytest.approx(
        exact(GAP_SPEC, 2.6, 2.0, 0.6, None).T_E, abs=0.02)


def test_driver_runs_and_refuses_bad_input(run_driver, tmp_path):
    run_driver("multiband", ["--set", "scattering.frequencies=[0.5, 1.5, 3.2]", "--set", "output.plot=false"],
               tmp_path / "ok")
    data = json.loads((tmp_path / "ok" / "results.json").read_text())
    assert [row["omega"] for row in data["transmission"]] == [0.5, 1.5, 3.2]
    assert all(abs(row["energy_balance"] - 1) < 1e-12 for row in data["transmission"])
    assert data["transmission"][2]["exact"] == 0.0 and data["fit"]["errors"][0] < 0.01
    bad = run_driver("multiband", ["--set", "scattering.kind=triple"], tmp_path / "bad", check=False)
    assert bad.returncode == 2 and "scattering.kind" in bad.stderr
    bad = run_driver("multiband", ["--set", "laminate.layers=[[1.0, 1.0, 0.5]]"], tmp_path / "bad2", check=False)
    assert bad.returncode == 2 and "sum to the period" in bad.stderr


def test_time_domain_energy_and_transmission(fitted):
    """dolfinx P2 + C0-IP model and fine-scale FEM, Newmark average acceleration: the discrete energy is
    conserved to round-off, and the energy that crosses the interface equals the spectral average of the
    frequency-domain T_E (model: analytic multi-exponential solution; fine scale: transfer matrix)."""
    from fem_homog.multiband import timedomain as td

    c, omega, width, steps, dt = np.sqrt(2.0), 1.5, 2.0, 400, 0.04
    model = fitted[2].model
    cases = {"model": (td.model_discretization(model, 2.0, 1.0, 20.0, 20.0, 0.2),
                       lambda w: solve([HOM, model], [0.0], w).T_E),
             "fine": (td.fine_discretization(SPEC, 20, 2.0, 1.0, 20.0, 0.05),
                      lambda w: exact(SPEC, 2.0, 1.0, w, None).T_E)}
    for name, (disc, transmission) in cases.items():
        u0, v0 = td.gaussian_pulse(disc.x, -10.0, omega, c, width)
        hist = td.newmark(disc, u0, v0, dt, steps, [steps])
        energy = np.array(hist.energy)
        assert np.max(np.abs(energy - energy[0])) / energy[0] < 1e-10, name
        expected = td.spectral_transmission(transmission, omega, c, width)
        assert hist.energy_right[-1] / energy[0] == pytest.approx(expected, abs=2e-3), name


@pytest.fixture(scope="module")
def transverse():
    from fem_homog.multiband.modematching import TransverseProblem

    return TransverseProblem(SPEC, 2.0, 1.0, h=0.05, degree=2)


def test_mode_matching_is_exact_for_a_homogeneous_layer_pair_and_conserves_energy(transverse):
    """Equal layers: Fresnel's R_E = ((Z_1 − Z_2)/(Z_1 + Z_2))², Z = E q; the laminate: R_E + T_E = 1 with two
    propagating transmitted waves, and P2 (h = 0.05) against P3 (h = 0.02)."""
    from fem_homog.multiband.modematching import TransverseProblem

    same = TransverseProblem([[3.0, 2.0, 0.5], [3.0, 2.0, 0.5]], 2.0, 1.0, h=0.1)
    w, k2 = 1.3, 0.4
    Z1, Z2 = 2.0 * np.sqrt(w ** 2 / 2 - k2 ** 2), 3.0 * np.sqrt(w ** 2 * 2 / 3 - k2 ** 2)
    assert same.solve(w, k2).R_E == pytest.approx(((Z1 - Z2) / (Z1 + Z2)) ** 2, abs=1e-9)
    two_waves = transverse.solve(6.0, 6.0 / np.sqrt(2) * 0.5)  # 30 degrees
    assert len(two_waves.transmitted) == 2
    assert two_waves.energy_balance == pytest.approx(1.0, abs=1e-12)
    fine = TransverseProblem(SPEC, 2.0, 1.0, h=0.02, degree=3).solve(6.0, 6.0 / np.sqrt(2) * 0.5)
    assert fine.T_E == pytest.approx(two_waves.T_E, abs=3e-4)  # P2 mesh error at ω = 6


def test_2d_fit_static_tensor_and_oblique_energy_balance(transverse):
    from fem_homog.multiband import oblique

    meta = oblique.fit(SPEC, 2, samples=10)
    hom = oblique.fit_homogeneous(2.0, 1.0, 2, samples=10)
    num, den = meta.bands[0]
    E_bar, rho_bar = static_moduli(SPEC)
    assert num[1] == E_bar and num[2] == pytest.approx(3.5) and den[0] == rho_bar  # diag(harmonic, arithmetic)
    assert max(meta.errors) < 0.1
    for orientation in oblique.ORIENTATIONS:
        for bands, fits_ in ((1, (oblique.fit(SPEC, 1, samples=10), oblique.fit_homogeneous(2.0, 1.0, 1))),
                             (2, (meta, hom))):
            rows = oblique.angle_rows(*fits_, SPEC, 2.0, 1.0, orientation, [1.0, 6.0] if bands == 2 else [2.0],
                                      [0.0, 30.0, 60.0], h=0.1)
            assert all(abs(r["energy_balance"] - 1) < 1e-12 for r in rows), (orientation, bands)
    # regression (single-wave regime, layers normal to the interface, R_2 with tensor coefficients)
    one = oblique.fit(SPEC, 1, samples=10)
    rows = oblique.angle_rows(one, oblique.fit_homogeneous(2.0, 1.0, 1), SPEC, 2.0, 1.0, "normal", [2.0],
                              [0.0, 60.0])
    assert [r["exact_R_E"] for r in rows] == pytest.approx([0.0360, 0.1295], abs=2e-4)
    assert [r["model_R_E"] for r in rows] == pytest.approx([0.03528, 0.11923], abs=1e-4)


def test_slab_fields_are_continuous_and_evanescent_in_the_gap(fitted):
    """The model field is continuous across both faces (including the incident wave) and, like the laminate's
    (P3 FEM), decays through a slab in the gap."""
    from fem_homog.multiband.fem1d import harmonic_slab

    for w in (1.4, 3.2):
        s = solve([HOM, fitted[3].model, HOM], [0.0, 10.0], w)
        for x in (0.0, 10.0):
            assert s.field(np.array([x - 1e-12]))[0] == pytest.approx(s.field(np.array([x + 1e-12]))[0], abs=1e-9)
    fine = harmonic_slab(SPEC, 10, 2.0, 1.0, 3.2, h=0.05)
    model = solve([HOM, fitted[3].model, HOM], [0.0, 10.0], 3.2)
    for u in (np.abs(fine.u), np.abs(model.field(fine.x))):
        assert u[np.searchsorted(fine.x, 8.0)] < 1e-2 * np.max(u[fine.x < 1.0])


def test_2d_time_domain_reduces_to_1d_for_a_pulse_uniform_in_y(fitted):
    """Q2 + C0-IP on a strip, layers parallel to the interface, normal incidence (a pulse uniform in y): the 2D
    model whose k_t = 0 slice is the 1D R_4 model, and the 2D fine scale, reproduce the 1D runs to round-off."""
    from fem_homog.multiband import timedomain as td
    from fem_homog.multiband import timedomain2d as td2

    model = fitted[2].model
    C2 = np.zeros((3, 3, 2))
    C2[:, 0] = model.C
    C2[0, 1], C2[1, 1], C2[0, 2] = [3.5, -0.02], [0.5, -0.01], [0.1, -0.001]  # transverse terms: idle here
    pairs = [(td.model_discretization(model, 2.0, 1.0, 10.0, 10.0, 0.2),
              td2.model_discretization(C2, "parallel", 2.0, 1.0, 10.0, 10.0, 0.4, 0.2)),
             (td.fine_discretization(SPEC, 10, 2.0, 1.0, 10.0, 0.1),
              td2.fine_discretization(SPEC, "parallel", 10, 2.0, 1.0, 10.0, 0.3, 0.1))]
    for one, two in pairs:
        u1, v1 = td.gaussian_pulse(one.x, -5.0, 1.5, np.sqrt(2.0), 2.0)
        u2, v2 = td2.oblique_pulse(two.x, -5.0, 1.5, np.sqrt(2.0), 2.0, 0.0)
        assert np.max(np.abs(v2 - td.gaussian_pulse(two.x[:, 0], -5.0, 1.5, np.sqrt(2.0), 2.0)[1])) < 1e-12
        h1, h2 = td.newmark(one, u1, v1, 0.05, 200, [200]), td.newmark(two, u2, v2, 0.05, 200, [200])
        e2 = np.array(h2.energy)
        assert np.max(np.abs(e2 - e2[0])) / e2[0] < 1e-10
        assert h2.energy_right[-1] / e2[0] == pytest.approx(h1.energy_right[-1] / h1.energy[0], abs=1e-10)
        line = np.isclose(two.x[:, 1], 0.0)
        order = np.argsort(one.x)
        expected = np.interp(two.x[line, 0], one.x[order], h1.snapshots[-1][order])
        assert np.max(np.abs(h2.snapshots[-1][line] - expected)) < 1e-9
        on_nodes = td2.on_grid(two.x, h2.snapshots[-1], np.column_stack([one.x, np.full(len(one.x), 0.1)]))
        assert np.max(np.abs(on_nodes - h1.snapshots[-1])) < 1e-9  # the model → fine-mesh transfer


def test_2d_time_domain_oblique_energy_and_transmission():
    """Oblique incidence (transverse mode cos(k_2 y) of a free strip, 22°): the 2D R_4 model with fitted tensor
    coefficients and the fine-scale laminate conserve the discrete energy to round-off, and the energy each
    transmits equals the spectral average of its frequency-domain T_E(ω, k_2) (model: reduced 1D model;
    laminate: transfer matrix with the transverse layers)."""
    from fem_homog.multiband import oblique
    from fem_homog.multiband import timedomain as td
    from fem_homog.multiband import timedomain2d as td2

    fit = oblique.fit(SPEC, 1, samples=8, order=2)
    assert fit.C2.shape == (3, 3, 2) and fit.errors[0] < 0.03
    for orientation in oblique.ORIENTATIONS:  # stable: K ≥ 0 with the constants as kernel, M > 0
        small = td2.model_discretization(fit.C2, orientation, 2.0, 1.0, 3.0, 3.0, 2.0, 0.5)
        stiffness, mass = np.linalg.eigvalsh(small.K.toarray()), np.linalg.eigvalsh(small.M.toarray())
        assert abs(stiffness[0]) < 1e-10 * stiffness[-1] < stiffness[1] and mass[0] > 0
    k2, omega, width, c = 0.4, 1.5, 3.0, np.sqrt(2.0)
    height = np.pi / k2
    hom = oblique.homogeneous_reduced(2.0, 1.0, k2)
    cases = {"model": (td2.model_discretization(fit.C2, "parallel", 2.0, 1.0, 30.0, 20.0, height, 0.5),
                       lambda w: solve([hom, oblique.reduce(fit.C2, "parallel", k2)], [0.0], w).T_E),
             "fine": (td2.fine_discretization(SPEC, "parallel", 20, 2.0, 1.0, 30.0, height, 0.25),
                      lambda w: oblique.exact_parallel(SPEC, 2.0, 1.0, w, k2).T_E)}
    for name, (disc, transmission) in cases.items():
        u0, v0 = td2.oblique_pulse(disc.x, -15.0, omega, c, width, k2)
        hist = td.newmark(disc, u0, v0, 0.1, 200, [])
        energy = np.array(hist.energy)
        assert np.max(np.abs(energy - energy[0])) / energy[0] < 1e-10, name
        expected = td.spectral_transmission(transmission, omega, c, width, k2=k2)
        assert hist.energy_right[-1] / energy[0] == pytest.approx(expected, abs=1e-3), name


def test_driver_2d_time_domain(run_driver, tmp_path):
    """The 2D pulse study through the driver (layers normal to the interface, tiny meshes): energy conserved."""
    settings = ["scattering.frequencies=[1.0]", "output.plot=false", "model.order=2", "oblique.samples=6",
                "timedomain.enabled=true", "timedomain.dim=2", "timedomain.orientation='normal'",
                "timedomain.height=3.0", "timedomain.cells=4", "timedomain.length=8.0", "timedomain.time=2.0",
                "timedomain.dt=0.1", "timedomain.h_model=0.5", "timedomain.h_fine=0.25", "timedomain.width=1.5",
                "timedomain.omega=1.8"]
    run_driver("multiband", [arg for s in settings for arg in ("--set", s)], tmp_path / "ok")
    data = json.loads((tmp_path / "ok" / "results.json").read_text())["timedomain"]
    assert data["dim"] == 2 and data["k2"] == pytest.approx(np.pi / 3)
    assert data["model"]["energy_drift"] < 1e-10 and data["fine"]["energy_drift"] < 1e-10
    bad = run_driver("multiband", ["--set", "timedomain.dim=3"], tmp_path / "bad", check=False)
    assert bad.returncode == 2 and "timedomain.dim" in bad.stderr


GAP_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 0.9)
RATIO_R6 = (1.13, 1.18, 1.32, 1.72, 2.60)  # Im q(R_6) / Im k(exact) at the fractions above (theory.md §5.3)


def test_seed004_model_evanescent_roots_decay_faster_than_the_exact_laminate(fitted):
    """Seed 004 (§3, Fig. 10): in the first gap of the laminate the exact Bloch wave is π + iκ, κ from the
    complex band structure (quadratic eigenproblem in k, P2 FEM) and from the transfer matrix; the R_6 model's
    least-decaying right-going root has Re q ≈ π as well, but Im q > κ everywhere in the gap: its evanescent field
    decays faster, by 13 % a tenth into the gap and by 2.6× near the top, where the single-band model knows
    nothing of the second band that closes the gap (κ → 0 there, Im q keeps growing)."""
    from fem_homog.cells.geometry import INCLUSION, MATRIX
    from fem_homog.cells.meshing import mesh_cell
    from fem_homog.cli.cells import geometry_from_config
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.complex_bands import ComplexBandProblem
    from fem_homog.photonics.laminate1d import dispersion
    from fem_homog.photonics.materials import Phase, constant

    layers = elastic_layers(SPEC)
    (_, top1), (bottom2, _) = band_edges(layers, 2)
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.5}), h=0.01)
    (E_m, rho_m, _), (E_i, rho_i, _) = SPEC  # TM slots μ = 1/μ_r = E, ρ = ε = ρ: the elastic bar
    phases = [Phase(MATRIX, constant(rho_m), constant(1 / E_m)), Phase(INCLUSION, constant(rho_i), constant(1 / E_i))]
    cp = ComplexBandProblem(BlochProblem(cell, phases, polarization="TM"), [1.0])
    model = fitted[3].model
    for t, ratio in zip(GAP_FRACTIONS, RATIO_R6):
        w = top1 + t * (bottom2 - top1)
        kappa = np.arccosh(abs(dispersion(layers, w).real))
        roots = cp.solve(w, max_imag_k=3.0, num_modes=4).k
        assert len(roots) == 2 and np.allclose(np.abs(roots.imag), kappa, atol=1e-6)
        assert np.allclose(roots.real, np.pi, atol=1e-2)
        q = model.right_going(w)
        least = q[np.argmin(q.imag)]
        assert abs(least.real - np.pi) < 0.1 and least.imag > kappa
        assert least.imag / kappa == pytest.approx(ratio, abs=0.01)
