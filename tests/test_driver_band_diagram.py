"""The band-diagram driver: exact folded bands through the whole pipeline, resume, k-groups, bad input."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
FAST = ["--set", "mesh.h=0.1", "--set", "bands.points_per_segment=3", "--set", "bands.num_bands=4",
        "--set", "output.plot=false"]


def load(out):
    return json.loads((out / "results.json").read_text())


def frequencies(results):
    return np.array([[complex(*w) for w in ws] for ws in results["omega_a_over_2pi_c"]])


def test_homogeneous_cell_gives_folded_light_cone(tmp_path, run_driver):
    """ε = 2.25 everywhere: ω a/2πc = |k + 2πn| / (2π · 1.5) at every k-point of Γ–X–M–Γ."""
    homogeneous = ["--set", "material.matrix=2.25", "--set", "material.inclusion=2.25", "--set", "mesh.h=0.05"]
    run_driver("band_diagram", [*FAST, *homogeneous], tmp_path)
    r = load(tmp_path)
    n = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)])
    for k, ws in zip(np.array(r["k"]), frequencies(r)):
        exact = np.sort(np.linalg.norm(k + 2 * np.pi * n, axis=1))[:4] / (2 * np.pi * 1.5)
        assert np.allclose(ws.real, exact, rtol=2e-4, atol=1e-6)
    assert np.array(r["k"])[3].tolist() == pytest.approx([np.pi, 0.0])  # X in units of 1/a
    assert len(r["bands"]) >= 4


def test_hexagonal_lattice_path(tmp_path, run_driver):
    """Triangular lattice (cell.lattice = "hexagonal"), Γ–M–K–Γ, ε = 2.25 everywhere: ω a/2πc = |k + G|/(2π·1.5)
    over the reciprocal lattice, M = (0, 2π/√3) and K = (2π/3, 2π/√3)."""
    from fem_homog.cells.lattice import lattice_vectors, reciprocal

    hexagonal = ["--set", 'cell.lattice="hexagonal"', "--set", 'bands.path="GMKG"', "--set", "material.matrix=2.25",
                 "--set", "material.inclusion=2.25", "--set", "mesh.h=0.06"]
    run_driver("band_diagram", [*FAST, *hexagonal], tmp_path)
    r = load(tmp_path)
    B = reciprocal(lattice_vectors("hexagonal", 2))
    G = np.array([(i - 3) * B[0] + (j - 3) * B[1] for i, j in np.ndindex(7, 7)])
    for k, ws in zip(np.array(r["k"]), frequencies(r)):
        exact = np.sort(np.linalg.norm(k + G, axis=1))[:4] / (2 * np.pi * 1.5)
        assert np.allclose(ws.real, exact, rtol=5e-4, atol=1e-6)
    assert np.array(r["k"])[3].tolist() == pytest.approx([0.0, 2 * np.pi / np.sqrt(3)])
    assert [name for _, name in r["labels"]] == ["G", "M", "K", "G"]


def test_resume_reproduces_uninterrupted_run(tmp_path, run_driver):
    run_driver("band_diagram", FAST, tmp_path / "full")
    partial = tmp_path / "partial"
    shutil.copytree(tmp_path / "full", partial)
    for f in sorted((partial / "kpoints").glob("k_*.json"))[5:]:
        f.unlink()  # as if the sweep had been killed after five k-points
    (partial / "results.json").unlink()
    proc = run_driver("band_diagram", [*FAST, "--resume"], partial)
    assert proc.stdout.count(" k ") == 10 - 5
    a, b = load(tmp_path / "full"), load(partial)
    assert a["labels"] == b["labels"]
    for key in ("k", "omega_a_over_2pi_c", "bands"):
        assert np.allclose(np.array(a[key], dtype=float), np.array(b[key], dtype=float), rtol=1e-10, atol=1e-12)


def test_k_groups_match_serial(tmp_path, run_driver):
    run_driver("band_diagram", FAST, tmp_path / "serial")
    run_driver("band_diagram", [*FAST, "--k-groups", "2"], tmp_path / "groups",
               launcher=(str(MPIEXEC), "-n", "2"))
    a, b = load(tmp_path / "serial"), load(tmp_path / "groups")
    assert b["k_groups"] == 2 and b["ranks"] == 2
    assert np.allclose(frequencies(a), frequencies(b), rtol=1e-9)
    assert np.allclose(np.array(a["bands"], dtype=float), np.array(b["bands"], dtype=float), rtol=1e-9)


def test_lossy_drude_stack_bands_are_the_exact_damped_roots(tmp_path, run_driver):
    """The driver on the 1D version of drude_rods_tm.toml (ε = 1 | lossy Drude, 0.6 | 0.4): every complex
    frequency is a root of the exact transfer-matrix relation of the same lossy stack (laminate1d)."""
    from fem_homog.core.units import TWO_PI
    from fem_homog.photonics.laminate1d import bloch_root, photonic_layers
    from fem_homog.photonics.materials import constant, drude

    config = ROOT / "drivers" / "configs" / "drude_rods_tm.toml"
    stack = ["--set", "cell.dim=1", "--set", 'cell.shape="laminate"', "--set", "cell.fraction=0.4",
             "--set", 'bands.path="GX"', "--set", "mesh.h=0.02", "--set", "bands.points_per_segment=4",
             "--set", "output.plot=false"]
    run_driver("band_diagram", ["--config", str(config), *stack], tmp_path)
    r = load(tmp_path)
    layers = photonic_layers([constant(1.0), drude(1.0, TWO_PI, 0.02 * TWO_PI)], [0.6, 0.4], "TM")
    for k, row in zip(r["k"], frequencies(r)):
        exact = np.array([bloch_root(layers, k[0], TWO_PI * w) for w in row]) / TWO_PI
        assert np.allclose(row, exact, rtol=1e-5), (k, row, exact)
        assert np.all(exact.imag < 0)


def test_resume_with_other_settings_is_refused(tmp_path, run_driver):
    """Issue 12: after changing mesh.h, --resume used to attach the old mesh's k-points; now exit 2, one line.
    Keys that do not change the modes do not stop a resume: the grading keys while grading is off (h_min = 0)."""
    run_driver("band_diagram", TINY, tmp_path)
    run_driver("band_diagram", [*TINY, "--set", "mesh.grade_reach=0.3", "--set", "mesh.grade_power=0.5", "--resume"],
               tmp_path)
    proc = run_driver("band_diagram", [*TINY, "--set", "mesh.h=0.4", "--resume"], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "written with other settings" in lines[0], proc.stderr
    (tmp_path / "kpoints" / "k_0001.json").write_text('{"index": 1, "k": [3.14')
    proc = run_driver("band_diagram", [*TINY, "--resume"], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "truncated or corrupt" in lines[0], proc.stderr


def test_drude_rods_complex_bands(tmp_path, run_driver):
    """Lossy Drude rods: every kept frequency is damped (Im ω < 0) and has a small rational residual."""
    config = ROOT / "drivers" / "configs" / "drude_rods_tm.toml"
    run_driver("band_diagram", ["--config", str(config), *FAST], tmp_path)
    r = load(tmp_path)
    w = frequencies(r)
    assert w.shape == (10, 4)
    assert np.all(w.imag < 0) and np.all(w.real > 0)
    assert max(max(res) for res in r["residuals"]) < 1e-8


BAD = [
    (["--set", "physics.polarization=TEM"], "unknown physics.polarization"),
    (["--set", "bands.path=[[4.0, 0.0], [0.0, 0.0]]"], "outside the first Brillouin zone"),
    (["--set", "bands.path=GXQ"], "unknown k-point 'Q'"),
    (["--set", "material.inclusion_model=lorentz"], "at least one pole"),
    (["--set", "material.inclusion_model=debye"], "unknown material model"),
    (["--set", "material.inclusion_model=drude", "--set", "material.omega_p=-1.0"], "plasma frequency"),
    (["--k-groups", "3"], "must divide the number of MPI ranks"),
    (["--set", "bands.max_targets=0"], "bands.max_targets must be >= 1"),
    (["--set", "bands.allow_missing=1"], "bands.allow_missing must be true or false"),
    (["--set", "bands.num_bands=100000"], "bands.num_bands must be <= "),
]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
def test_bad_input(tmp_path, args, message, run_driver):
    proc = run_driver("band_diagram", [*FAST, *args], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr


def test_merge_keeps_exact_degeneracies():
    """Frequencies found again from a second target are not counted twice, but exactly degenerate bands
    from one solve are all kept (a fine mesh makes degenerate pairs equal to round-off)."""
    from types import SimpleNamespace as Pair

    from fem_homog.photonics.bands import merge

    first = [Pair(omega=1.0 + 0j), Pair(omega=2.0 + 0j), Pair(omega=2.0 + 0j)]
    second = [Pair(omega=2.0 + 0j), Pair(omega=2.0 + 0j), Pair(omega=3.0 + 0j)]
    merged = merge(merge([], first), second)
    assert [p.omega.real for p in merged] == [1.0, 2.0, 2.0, 3.0]


# -- issue 12, item 1: missing bands and a failed eigensolver are never a silent exit 0 ---------------------
TINY = ["--set", "mesh.h=0.5", "--set", "mesh.order=1", "--set", "fe.degree=1", "--set", "bands.path=GX",
        "--set", "bands.points_per_segment=1", "--set", "output.plot=false"]


def test_missing_bands_stop_the_run_unless_allowed(tmp_path, run_driver, monkeypatch):
    """A PEP so loose (``-bloch_pep_tol 1e-2``, no refinement) that its pairs fail the residual check on the
    rational problem: k-points are short of bands (asking for more bands than the cell has unknowns is now an
    input error). Exit 3 with one line naming the k-points; with ``bands.allow_missing = true`` the diagram is
    kept with its per-k ``missing`` counts and a warning line per short k-point."""
    monkeypatch.setenv("PETSC_OPTIONS", "-bloch_pep_tol 1e-2 -bloch_pep_refine none")
    short = ["--config", str(ROOT / "drivers" / "configs" / "drude_rods_tm.toml"), *TINY,
             "--set", "bands.num_bands=4", "--set", "bands.max_targets=1"]
    proc = run_driver("band_diagram", short, tmp_path / "strict", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1, proc.stderr
    assert "band(s) missing at" in lines[0] and "bands.allow_missing" in lines[0]
    assert not (tmp_path / "strict" / "results.json").exists()
    proc = run_driver("band_diagram", [*short, "--set", "bands.allow_missing=true"], tmp_path / "kept")
    results = load(tmp_path / "kept")
    assert results["missing"] == [4 - len(w) for w in results["omega_a_over_2pi_c"]]
    assert proc.stdout.count("warning: k ") == sum(m > 0 for m in results["missing"]) > 0


def test_eigensolver_that_does_not_converge_exits_3(tmp_path, run_driver, monkeypatch):
    """``-bloch_eps_max_it 1``: the EPS stops with half the pairs; that used to pass as a diagram with exit 0."""
    monkeypatch.setenv("PETSC_OPTIONS", "-bloch_eps_max_it 1")
    proc = run_driver("band_diagram", [*TINY, "--set", "bands.num_bands=6"], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1 and "did not converge (SLEPc reason" in lines[0], proc.stderr


def test_solver_keys_give_the_same_bands(tmp_path, run_driver):
    """``solver.method = "iterative"`` (GD + GAMG) and ``solver.blr_tolerance = 1e-10`` (MUMPS block low rank) give
    the default run's frequencies (to the eigensolver tolerance and ~the BLR tolerance); ``results["solver"]``
    records the choice and MUMPS's memory (none factorized by the iterative path)."""
    run_driver("band_diagram", FAST, tmp_path / "direct")
    run_driver("band_diagram", [*FAST, "--set", 'solver.method="iterative"'], tmp_path / "iterative")
    run_driver("band_diagram", [*FAST, "--set", "solver.blr_tolerance=1e-10"], tmp_path / "blr")
    direct, iterative, blr = (load(tmp_path / name) for name in ("direct", "iterative", "blr"))
    assert np.allclose(frequencies(iterative), frequencies(direct), rtol=1e-8, atol=1e-9)
    assert np.allclose(frequencies(blr), frequencies(direct), rtol=1e-7, atol=1e-9)
    assert iterative["solver"]["method"] == "iterative" and iterative["solver"]["mumps_used_mb_total"] == 0
    assert blr["solver"]["blr_tolerance"] == 1e-10 and blr["solver"]["mumps_used_mb_total"] > 0
    assert direct["solver"] == {**blr["solver"], "blr_tolerance": 0.0,
                                "mumps_used_mb_total": direct["solver"]["mumps_used_mb_total"]}
