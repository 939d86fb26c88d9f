"""Complex band structure k(ω) against exact results: all roots of cos k = Δ(Ω) of 1D laminates (constant and
lossy Drude, TM and TE) in the window, the lossless symmetries, real roots of 2D rods against the ω(k) solver,
and the driver contract."""

import json

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.complex_bands import ComplexBandProblem, direction_vector, zone_period
from fem_homog.photonics.laminate1d import dispersion, photonic_layers
from fem_homog.photonics.materials import Phase, constant, drude

MATRIX_EPS = constant(1.0)
CASES = {"constant": constant(8.9), "drude": drude(1.0, 6.0, 0.3)}
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


@pytest.mark.parametrize("polarization", ["TM", "TE"])
@pytest.mark.parametrize("case", list(CASES))
def test_1d_all_roots_in_window(cell_1d, case, polarization):
    """None missing, none extra, each within 5e-5 of the exact root (P2, h = 0.01), residuals at round-off."""
    eps = CASES[case]
    problem = BlochProblem(cell_1d, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps)], polarization=polarization)
    cp = ComplexBandProblem(problem, [1.0])
    layers = photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization)
    classes = set()
    for omega in OMEGAS:
        modes = cp.solve(omega, max_imag_k=BOUND, num_modes=6)
        exact = exact_roots(layers, omega, BOUND)
        assert len(modes.k) == len(exact), (omega, modes.k, exact)
        for k in exact:
            assert np.min(np.abs(modes.k - k)) < 5e-5, (omega, modes.k, exact)
        assert max(modes.residuals, default=0.0) < 1e-10
        assert modes.dropped == 0
        classes |= set(modes.classes)
    assert classes == ({"propagating", "evanescent"} if case == "constant" else {"complex"})


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
        assert im == sorted(im)
    assert (tmp_path / "complex_bands.png").is_file()


@pytest.mark.parametrize("bad, key", [("complex.direction=\"GQ\"", "k-point"),
                                      ("complex.frequencies=[-0.1]", "complex.frequencies"),
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
