"""Complex band structure k(ω) against exact results: all roots of cos k = Δ(Ω) of 1D laminates (constant, lossy
Drude, lossy Lorentz ε and μ poles, TM and TE) in the window, their energy fluxes against the exact group velocity
and the passive-medium sign rule, branches connected across ω, the lossless symmetries, real roots of 2D rods
against the ω(k) solver both ways, the P2 convergence rate on curved meshes, and the driver contract."""

import json

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.complex_bands import (
    ComplexBandProblem,
    direction_vector,
    real_k_bands,
    sweep_complex_bands,
    zone_period,
)
from fem_homog.photonics.laminate1d import cauchy_derivative, dispersion, photonic_layers
from fem_homog.photonics.materials import Phase, constant, drude, lorentz

MATRIX_EPS = constant(1.0)
ONE = constant(1.0)
CASES = {"constant": (constant(8.9), ONE), "drude": (drude(1.0, 6.0, 0.3), ONE),
         "lorentz_eps": (lorentz(2.0, [[3.0, 3.5, 0.2]]), ONE),
         "lorentz_mu": (constant(4.0), lorentz(1.0, [[1.5, 4.5, 0.1]]))}
BOUND = 3.0
OMEGAS = (1.0, 2.5, 3.3, 4.0, 5.5)


@pytest.fixture(scope="module")
def cell_1d():
    return mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.4}), h=0.01)


@pytest.fixture(scope="module")
def rods():
    cell = mesh_cell(geometry_from_config({"shape": "circle", "radius": 0.2}), h=0.1, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, constant(8.9))], polarization="TM")
    return problem, ComplexBandProblem(problem, [1.0, 0.0])


def exact_roots(layers, omega, bound):
    """``±arccos Δ(Ω)`` folded into ``−π < Re k ≤ π``, those with ``|Im k| ≤ bound`` (all other roots are these
    plus 2πn)."""
    k0 = np.arccos(complex(dispersion(layers, omega)))
    roots = [k + 2 * np.pi if k.real <= -np.pi + 1e-9 else k for k in (k0, -k0)]
    return [k for k in roots if abs(k.imag) <= bound]


def laminate(cell, case, polarization):
    """The complex-band problem of the 1D stack (matrix 0.6, inclusion 0.4) and its exact layers."""
    eps, mu = CASES[case]
    problem = BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps, mu)], polarization=polarization)
    return ComplexBandProblem(problem, [1.0]), photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization,
                                                               mu_r=[ONE, mu])


@pytest.mark.parametrize("polarization", ["TM", "TE"])
@pytest.mark.parametrize("case", list(CASES))
def test_1d_all_roots_in_window(cell_1d, case, polarization):
    """None missing, none extra, each within 5e-5 of the exact root (P2, h = 0.01), residuals at round-off;
    lossless roots carry the exact group velocity −sin k/Δ'(Ω) as their flux, lossy ones flow towards the side
    they decay to (passive media: energy is absorbed along the flux, so flux > 0 ⇔ Im k > 0)."""
    cp, layers = laminate(cell_1d, case, polarization)
    classes = set()
    for omega in OMEGAS:
        modes = cp.solve(omega, max_imag_k=BOUND, num_modes=6)
        exact = exact_roots(layers, omega, BOUND)
        assert len(modes.k) == len(exact), (omega, modes.k, exact)
        for k in exact:
            assert np.min(np.abs(modes.k - k)) < 5e-5, (omega, modes.k, exact)
        assert max(modes.residuals, default=0.0) < 1e-10
        assert modes.dropped == 0
        slope = cauchy_derivative(lambda w: dispersion(layers, w), omega)
        for k, flux, c in zip(modes.k, modes.flux, modes.classes):
            if c == "propagating":
                assert flux == pytest.approx((-np.sin(k) / slope).real, abs=1e-4)
            elif c == "complex":
                assert np.sign(flux) == np.sign(k.imag) and abs(flux) > 1e-6
        classes |= set(modes.classes)
    assert classes == ({"propagating", "evanescent"} if case == "constant" else {"complex"})


def test_backward_band_and_directions(cell_1d):
    """In the second band of a 1D stack dΩ/dk < 0 for 0 < k < π: the root with Re k > 0 carries energy
    backwards; results name each root's direction (flux sign when propagating, decay side otherwise)."""
    cp, _ = laminate(cell_1d, "constant", "TM")
    d = sweep_complex_bands(cp, [2.5, 3.3], max_imag_k=BOUND, num_modes=6).to_dict()
    for (re, im), flux, way in zip(d["k"][0], d["flux"][0], d["flux_direction"][0]):
        assert abs(im) < 1e-9 and np.sign(flux) == -np.sign(re) and way == ("backward" if re > 0 else "forward")
    for (re, im), flux, way in zip(d["k"][1], d["flux"][1], d["flux_direction"][1]):  # gap: no flux
        assert abs(flux) < 1e-10 and way == ("forward" if im > 0 else "backward")


@pytest.mark.parametrize("case", ["constant", "drude"])
def test_branches_connected_across_frequencies(cell_1d, case):
    """A 1D stack has one pair of roots ±k at every frequency: two branches, each moving continuously (no step
    larger than the exact root moves, modulo the period); with loss each keeps its decay side (Im k cannot cross
    0 without a real root, which a lossy medium does not have), across the zone-edge fold too."""
    cp, layers = laminate(cell_1d, case, "TM")
    omegas = np.linspace(2.0, 6.0, 21)
    bands = sweep_complex_bands(cp, omegas, max_imag_k=10.0, num_modes=4)
    assert [len(m.k) for m in bands.modes] == [2] * len(omegas)
    branches = bands.branches()
    assert len(branches) == 2
    for branch in branches:
        k = np.array([p[1] for p in branch])
        step = np.abs(np.mod(np.diff(k.real) + np.pi, 2 * np.pi) - np.pi + 1j * np.diff(k.imag))
        assert step.max() < 1.3
        if case == "drude":
            assert len(set(np.sign(k.imag))) == 1


def test_lossless_symmetry(rods):
    """k⊥ = 0, real ε: the roots are closed under k → k̄ (round-off) and k → −k (modulo the period; round-off
    off the zone edge); gap roots sit exactly on Re k = 0 or near π."""
    _, cp = rods
    for f in (0.2, 0.3):
        modes = cp.solve(2 * np.pi * f, max_imag_k=6.0, num_modes=12)
        assert len(modes.k) >= 2
        for k in modes.k:
            assert np.min(np.abs(modes.k - np.conj(k))) < 1e-8
            minus = -k + 2 * np.pi if -k.real <= -np.pi + 1e-2 else -k
            assert np.min(np.abs(modes.k - minus)) < (1e-8 if abs(abs(k.real) - np.pi) > 1e-2 else 1e-2)
            if abs(k.imag) > 1e-6 and abs(k.real) < 1.0:
                assert abs(k.real) < 1e-9


def test_rods_real_roots_match_band_diagram(rods):
    """At a pass-band frequency, each real k gives back that frequency from the ω(k) solver; in the first TM gap
    (ω a/2πc = 0.3 for these rods) there is no real k."""
    problem, cp = rods
    f = 0.2
    modes = cp.solve(2 * np.pi * f, max_imag_k=1.0, num_modes=6)
    real = [k.real for k, c in zip(modes.k, modes.classes) if c == "propagating"]
    assert len(real) == 2
    for k in real:
        sol = problem.solve([abs(k), 0.0], nev=4, target=2 * np.pi * f)
        assert np.min(np.abs(sol.omegas - 2 * np.pi * f)) < 1e-8 * 2 * np.pi * f
    gap = cp.solve(2 * np.pi * 0.3, max_imag_k=1.0, num_modes=6)
    assert gap.classes and "propagating" not in gap.classes


def test_rods_band_diagram_frequencies_give_back_real_k(rods):
    """The other way: at each frequency of the ω(k) diagram along ΓX (below the second gap) the complex-band
    solver finds the real roots ±k, and the 3 lowest bands leave the first gap (0.26–0.44) free of real roots."""
    _, cp = rods
    diagram = real_k_bands(cp, points=4, num_bands=3)
    for k, point in zip(diagram.path.k[1:-1], diagram.points[1:-1]):
        for f in point.omega:
            if f.real < 0.55:
                modes = cp.solve(2 * np.pi * f.real, max_imag_k=1.0, num_modes=6)
                real = np.array([q for q, c in zip(modes.k, modes.classes) if c == "propagating"])
                assert np.min(np.abs(real - k[0])) < 1e-7 and np.min(np.abs(real + k[0])) < 1e-7
    edges = np.array([[f.real for f in p.omega] for p in diagram.points])
    assert edges[:, 0].max() < 0.3 < edges[:, 1].min()


def test_rods_p2_convergence_rate():
    """P2 on curved (order-2) meshes: the propagating k (f = 0.2) and the gap root (f = 0.3, π − 0.596i) of the
    rods converge at the eigenvalue rate h⁴ (measured 4.00 and 4.19 from h = 0.05 to 0.025 against h = 0.0125;
    coarser gmsh meshes are pre-asymptotic: 2.8, 1.8 from h = 0.2)."""
    hs, fs = (0.05, 0.025), (0.2, 0.3)
    values = []
    for h in (*hs, 0.0125):
        cell = mesh_cell(geometry_from_config({"shape": "circle", "radius": 0.2}), h=h, order=2)
        problem = BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, constant(8.9))])
        cp = ComplexBandProblem(problem, [1.0, 0.0])
        values.append([np.max(np.abs(cp.solve(2 * np.pi * f, max_imag_k=2.0, num_modes=4).k[:1])) for f in fs])
    errors = np.abs(np.array(values[:-1]) - np.array(values[-1]))
    rates = np.log2(errors[:-1] / errors[1:])
    assert np.all(rates > 3.6) and np.all(rates < 4.6), (errors, rates)


def test_directions():
    lattice = np.eye(2)
    assert direction_vector("GX", lattice).tolist() == pytest.approx([1.0, 0.0])
    e = direction_vector("GM", lattice)
    assert zone_period(e, lattice) == pytest.approx(2 * np.pi * np.sqrt(2))
    with pytest.raises(InputError):
        direction_vector("GQ", lattice)
    with pytest.raises(InputError):
        zone_period(direction_vector([1.0, np.pi], lattice), lattice)


FAST = ["--set", "mesh.h=0.1", "--set", "complex.frequencies=[0.2, 0.3]"]


def test_driver_defaults(tmp_path, run_driver):
    run_driver("complex_bands", FAST, tmp_path)
    r = json.loads((tmp_path / "results.json").read_text())
    assert r["frequencies"] == pytest.approx([0.2, 0.3])
    assert [len(ks) for ks in r["k"]] == [len(c) for c in r["class"]] == [len(x) for x in r["residuals"]]
    assert set(r["class"][0]) == {"propagating"} and set(r["class"][1]) == {"evanescent"}
    for ks in r["k"]:
        im = [abs(k[1]) for k in ks]
        assert all(b >= a - 1e-9 for a, b in zip(im, im[1:]))  # ties at round-off are ordered by Re k
    for key in ("flux", "flux_direction", "branch", "decay_length"):
        assert [len(x) for x in r[key]] == [len(ks) for ks in r["k"]]
    for (re, _), way in zip(r["k"][0], r["flux_direction"][0]):
        assert way == ("forward" if re > 0 else "backward")  # first band: dω/dk > 0
    assert r["real_k_bands"]["bands"] and len(r["real_k_bands"]["k"]) == 9
    assert (tmp_path / "complex_bands.png").is_file()


def test_driver_lorentz_stack_config_backward_band(tmp_path, run_driver):
    """drivers/configs/complex_lorentz_stack.toml (Li et al.'s positive/negative-index stack, lossy): in the
    negative-index band (0.09) the forward root — positive flux, decaying along +ê (Im k > 0) — has Re k < 0; in the
    ordinary band above (0.2) Re k > 0."""
    run_driver("complex_bands", ["--config", "drivers/configs/complex_lorentz_stack.toml", "--set",
                                 "complex.frequencies=[0.09, 0.2]", "--set", "output.plot=false"], tmp_path)
    r = json.loads((tmp_path / "results.json").read_text())
    for ks, flux, ways, sign in zip(r["k"], r["flux"], r["flux_direction"], (-1, 1)):
        assert len(ks) == 2 and set(ways) == {"forward", "backward"}
        (re, im), f = next((k, f) for k, f, w in zip(ks, flux, ways) if w == "forward")
        assert im > 0 and f > 0 and np.sign(re) == sign


def test_driver_frequency_range(tmp_path, run_driver):
    """``complex.frequencies`` as a ``{start, stop, count}`` table (both ends included) or one number."""
    run_driver("complex_bands", [*FAST, "--set", "complex.frequencies={start=0.1, stop=0.3, count=3}",
                                 "--set", "complex.overlay_points=0", "--set", "output.plot=false"], tmp_path)
    r = json.loads((tmp_path / "results.json").read_text())
    assert r["frequencies"] == pytest.approx([0.1, 0.2, 0.3]) and "real_k_bands" not in r
    run_driver("complex_bands", [*FAST, "--set", "complex.frequencies=0.25", "--set", "complex.overlay_points=0",
                                 "--set", "output.plot=false"], tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["frequencies"] == pytest.approx([0.25])


@pytest.mark.parametrize("bad, key", [("complex.direction=\"GQ\"", "k-point"),
                                      ("complex.frequencies=[-0.1]", "complex.frequencies"),
                                      ("complex.frequencies={start=0.1, stop=0.3}", "complex.frequencies"),
                                      ("complex.frequencies=\"0.1:0.3\"", "complex.frequencies"),
                                      ("complex.max_imag_k=0", "complex.max_imag_k"),
                                      ("complex.k_transverse=[0.5, 0.0]", "complex.k_transverse")])
def test_driver_refuses_bad_input(tmp_path, run_driver, bad, key):
    proc = run_driver("complex_bands", [*FAST, "--set", bad], tmp_path, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and key in lines[0], proc.stderr


def test_2d_laminate_oblique_against_transfer_matrix():
    """A 2D laminate (layers normal to x) along ΓX with k⊥ = (0, k_y): the roots are those of the 1D stack with
    q_m² = Ω²ρ_m/μ_m − (k_y + 2πm_y)² for each transverse order m_y (a lossy Drude layer, TE)."""
    from fem_homog.photonics.laminate1d import Layer

    eps, ky, polarization = drude(1.0, 6.0, 0.3), 0.8, "TE"
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "laminate", "fraction": 0.4, "normal": [1, 0]}),
                     h=0.05, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps)], polarization=polarization)
    cp = ComplexBandProblem(problem, [1.0, 0.0], [0.0, ky])
    bound = 6.0
    for omega in (2.0, 4.0):
        exact = []
        for m in (-1, 0, 1):
            t = ky + 2 * np.pi * m
            layers = [Layer(l.thickness, l.mu, (lambda w, l=l, t=t: l.rho(w) - l.mu(w) * t**2 / w**2))
                      for l in photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization)]
            exact += exact_roots(layers, omega, bound)
        modes = cp.solve(omega, max_imag_k=bound, num_modes=12)
        assert len(modes.k) == len(exact), (omega, modes.k, exact)
        for k in exact:
            assert np.min(np.abs(modes.k - k)) < 1e-3, (omega, modes.k, exact)
