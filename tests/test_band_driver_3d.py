"""The band-diagram driver in 3D (issue 13, item 6): vector Maxwell bands of cubic and fcc crystal cells through
the whole story (run in this process with the command-line contract), validated against exact frequencies — the
folded light cone of a homogeneous cubic crystal (each plane wave twice, the static field counted, never a band),
the exact gap of a layered stack at normal incidence, scalar bands of an fcc cell — and the complete gaps of
``photonics.bands`` on hand-made bands, shaded on the band plot."""

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from fem_homog.cells.lattice import fcc_vectors, reciprocal
from fem_homog.cli.driver import run_driver
from fem_homog.photonics.bands import BandDiagram, KPointBands, complete_gaps, k_path

ROOT = Path(__file__).resolve().parents[1]
TWO_PI = 2 * np.pi
MAXWELL = ["physics.equation='maxwell'", "mesh.order=2", "output.plot=false"]


def driver():
    spec = importlib.util.spec_from_file_location("band_diagram_3d", ROOT / "drivers" / "band_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(settings: list[str], out: Path) -> dict:
    """``drivers/band_diagram.py --set ... --out out`` in this process; the results."""
    module = driver()
    argv = [arg for s in settings for arg in ("--set", s)] + ["--out", str(out)]
    assert run_driver(module.main, module.DEFAULTS, "band_diagram", argv=argv) == 0
    return json.loads((out / "results.json").read_text())


def frequencies(results: dict) -> list[np.ndarray]:
    return [np.array([complex(*w) for w in ws]) for ws in results["omega_a_over_2pi_c"]]


def folded_cone(k, reciprocal_vectors: np.ndarray, eps: float, count: int, copies: int) -> np.ndarray:
    """The lowest ``count`` of ``|k + G| / (2π √ε)`` (units 2πc/a), each ``copies`` times."""
    G = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ reciprocal_vectors
    return np.sort(np.repeat(np.linalg.norm(np.asarray(k) + G, axis=1), copies))[:count] / (TWO_PI * np.sqrt(eps))


def test_homogeneous_cubic_crystal_is_the_folded_light_cone_twice(tmp_path):
    """ε = 2.25 in the sphere and around it, the standard path Γ–X–M–R–Γ (``bands.path = ""``): every plane wave
    |k + G|/(2π·1.5) twice (two polarizations); at Γ two zero bands and the third curl-free field counted as
    ``static``; the gradient kernel counted (one dimension less at Γ, where the constant is no gradient); no gap."""
    r = run([*MAXWELL, "cell.lattice='cubic'", "cell.dim=3", "cell.shape='sphere'", "cell.radius=0.25",
             "material.matrix=2.25", "material.inclusion=2.25", "mesh.h=0.3", "fe.degree=2", "bands.path=''",
             "bands.points_per_segment=1", "bands.num_bands=4"], tmp_path)
    assert [name for _, name in r["labels"]] == list("GXMRG")
    assert r["k"][1] == pytest.approx([np.pi, 0.0, 0.0])  # X in units of 1/a
    for k, w in zip(r["k"], frequencies(r)):
        assert np.allclose(w.real, folded_cone(k, TWO_PI * np.eye(3), 2.25, 4, 2), rtol=5e-3, atol=1e-9)
        assert np.all(w.imag == 0)
    gamma, x = r["filtered"][0], r["filtered"][1]
    assert gamma["static"] == 1 and x["static"] == 0
    assert gamma["kernel"] == x["kernel"] - 1 > 0
    assert max(max(res) for res in r["residuals"]) < 1e-8
    assert r["gaps"] == []


def bilayer_edges(eps: tuple[float, float], count: int) -> np.ndarray:
    """The first ``count`` frequencies (2πc/a) where the half-and-half stack of ``eps`` has ``cos k = −1`` (band
    edges at X): ``cos(q₁/2) cos(q₂/2) − ½(n₁/n₂ + n₂/n₁) sin(q₁/2) sin(q₂/2) = −1``, ``q_j = 2π f n_j``."""
    n1, n2 = np.sqrt(eps)

    def f(w):
        a, b = np.pi * w * n1, np.pi * w * n2
        return np.cos(a) * np.cos(b) - 0.5 * (n1 / n2 + n2 / n1) * np.sin(a) * np.sin(b) + 1.0

    grid = np.linspace(1e-3, 2.0, 4001)
    values = f(grid)
    roots = []
    for lo, hi, a, b in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
        if a * b < 0:
            roots.append(brentq(f, lo, hi))
        elif a == 0:
            roots.append(lo)
    return np.array(roots[:count])


def test_layered_stack_gap_is_the_exact_first_gap(tmp_path):
    """A 3D stack of ε = 1 | 4 layers (half and half, normal e₁) along Γ–X: both polarizations see the 1D stack,
    so bands 1–2 and 3–4 are degenerate pairs, and the one complete gap (between bands 2 and 3) is the exact first
    gap at X (``cos k = −1``, a double root of the bilayer relation: two edges of the first gap)."""
    r = run([*MAXWELL, "cell.dim=3", "cell.shape='laminate'", "cell.fraction=0.5", "material.matrix=1.0",
             "material.inclusion=4.0", "mesh.h=0.25", "fe.degree=2", "bands.path='GX'",
             "bands.points_per_segment=2", "bands.num_bands=4"], tmp_path)
    lower, upper = bilayer_edges((1.0, 4.0), 2)
    assert len(r["gaps"]) == 1
    assert r["gaps"][0][:2] == pytest.approx([lower, upper], rel=2e-3)
    assert r["gaps"][0][2] == pytest.approx(2 * (r["gaps"][0][1] - r["gaps"][0][0]) / sum(r["gaps"][0][:2]))


def test_scalar_bands_of_an_fcc_cell(tmp_path):
    """``physics.equation = "scalar"`` on an fcc crystal cell (ε = 2 everywhere): the scalar Bloch frequencies are
    |k + G| / (2π√2) over the bcc reciprocal lattice, once each, at Γ, X and L (fcc letters); P3, as the periodic
    parts e^{iG·y} of the folded waves have |G| h up to 2.2 (4e-3 off at X with h = 0.2)."""
    r = run(["cell.lattice='fcc'", "cell.dim=3", "cell.shape='sphere'", "cell.radius=0.2", "material.matrix=2.0",
             "material.inclusion=2.0", "mesh.h=0.2", "fe.degree=3", "bands.path='GXL'",
             "bands.points_per_segment=1", "bands.num_bands=4", "output.plot=false"], tmp_path)
    assert r["k"][2] == pytest.approx([np.pi] * 3)  # L = 2π(½, ½, ½)/a
    for k, w in zip(r["k"], frequencies(r)):
        assert np.allclose(w.real, folded_cone(k, reciprocal(fcc_vectors()), 2.0, 4, 1), rtol=5e-3, atol=1e-6)


@pytest.mark.parametrize("name, lattice, path", [("maxwell_sc_spheres", "cubic", "GXMRG"),
                                                 ("maxwell_diamond_fcc", "fcc", "GXWKGLUWLK"),
                                                 ("maxwell_drude_fcc", "fcc", "GXWKGLUWLK")])
def test_example_configs_translate(name, lattice, path):
    """The 3D example configs pass the input checks (run in full, they take minutes: see docs/drivers.md)."""
    from fem_homog.cli.driver import resolve
    from fem_homog.cli.materials import phases_from_config
    from fem_homog.cli.photonics import band_path_from_config, equation_from_config

    module = driver()
    config = resolve(module.DEFAULTS, ROOT / "drivers" / "configs" / f"{name}.toml")
    geometry = module.geometry_from_config(config["cell"], crystals=True)
    assert geometry.lattice == lattice and len(phases_from_config(config["material"])) == 2
    assert equation_from_config(config["physics"], geometry, degree=config["fe"]["degree"]) == "maxwell"
    assert "".join(name for _, name in band_path_from_config(config["bands"], geometry).labels) == path


# -- complete gaps (photonics.bands.complete_gaps) on hand-made bands -------------------------------------------
def test_gap_edges_at_different_k_points():
    """Band 1's maximum at the second k-point, band 2's minimum at the third: the gap is [0.4, 0.5]; the unordered
    input is sorted per k-point (by Re ω); bands 2 and 3 overlap (max 0.62 > min 0.61): no gap there."""
    bands = [[0.1, 0.6, 0.61], [0.4, 0.62, 0.8], [0.5j + 0.3, 0.9, 0.5]]
    assert complete_gaps(bands) == [pytest.approx([0.4, 0.5, 0.2 / 0.9])]


def test_degenerate_and_touching_bands_have_no_gap():
    degenerate = [[0.2, 0.3, 0.3, 0.5], [0.25, 0.3, 0.3, 0.55]]  # bands 2 and 3 equal at both k-points
    assert complete_gaps(degenerate) == [pytest.approx([0.25, 0.3, 0.05 / 0.275]),
                                         pytest.approx([0.3, 0.5, 0.2 / 0.4])]
    touching = [[0.2, 0.3], [0.3, 0.4]]  # max of band 1 = min of band 2
    assert complete_gaps(touching) == []
    split = [[0.3, 0.3 + 1e-5], [0.2, 0.5]]  # a degeneracy split by 3e-5 of the midgap is no gap
    assert complete_gaps(split) == []
    assert complete_gaps([]) == []


def test_no_gap_claimed_above_a_missing_band(capsys):
    """The second k-point has two of three bands: the pair (2, 3) is not compared (its third band could lie in
    the would-be gap), with a warning line; the gap below is kept."""
    assert complete_gaps([[0.1, 0.5, 0.9], [0.2, 0.6]]) == [pytest.approx([0.2, 0.5, 0.3 / 0.35])]
    assert "warning: gaps: some k-points have only 2 band(s)" in capsys.readouterr().out


def test_gaps_are_looked_for_above_the_target():
    """A sweep from a target finds the mode just below it at some k-points only (0.18 at the first): frequencies
    below the floor are dropped before the bands are numbered, so the gap above the target is [0.4, 0.5]."""
    bands = [[0.18, 0.3, 0.5], [0.35, 0.6], [0.4, 0.55]]
    assert complete_gaps(bands, floor=0.2) == [pytest.approx([0.4, 0.5, 0.1 / 0.45])]
    assert complete_gaps(bands) == []  # numbered from the bottom, the sorted bands do not line up


def test_kernel_dimension_is_not_summed_over_solves():
    """``collect_modes`` moves the target while too few pairs are found and sums the filter counts, but the
    gradient-kernel dimension of a vector solve is the same space each time: reported once."""
    from types import SimpleNamespace

    from fem_homog.photonics.bands import collect_modes

    def solve(nev, target):
        pair = SimpleNamespace(omega=complex(target + 1.0))
        return SimpleNamespace(pairs=[pair], filtered={"kernel": 7, "static": 1})

    pairs, filtered = collect_modes(solve, 2, 0.0, max_targets=2)
    assert len(pairs) == 2 and filtered == {"kernel": 7, "static": 2}


def test_band_plot_shades_the_gaps(tmp_path):
    """``plot`` draws one span per gap on the Re ω panel, from the gap's lower to its upper edge."""
    path = k_path("GXM", 1, 2)
    points = [KPointBands(index=i, k=k, omega=[complex(w) for w in ws], residual=[0.0] * len(ws), filtered={},
                          previous_band=list(range(len(ws))), seconds=0.0)
              for i, (k, ws) in enumerate(zip(path.k, [[0.0, 0.5, 0.9], [0.3, 0.55, 1.0], [0.35, 0.6, 0.95]]))]
    diagram = BandDiagram(path, points, dofs=1)
    gaps = diagram.gaps
    assert gaps == [pytest.approx([0.35, 0.5, 0.15 / 0.425]), pytest.approx([0.6, 0.9, 0.3 / 0.75])]
    spans = driver().plot(diagram, gaps, tmp_path / "bands.png")
    assert (tmp_path / "bands.png").stat().st_size > 0
    extents = [sorted({y for _, y in span.get_path().transformed(span.get_patch_transform()).vertices})
               for span in spans]
    assert extents == [pytest.approx(gap[:2]) for gap in gaps]
