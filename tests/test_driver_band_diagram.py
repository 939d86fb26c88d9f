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


def test_missing_bands_stop_the_run_unless_allowed(tmp_path, run_driver):
    """More bands than the tiny cell has unknowns (46): every k-point is short. Exit 3 with one line naming
    the k-points; with ``bands.allow_missing = true`` the diagram is kept with its per-k ``missing`` counts
    and a warning line per k-point."""
    short = [*TINY, "--set", "bands.num_bands=50"]
    proc = run_driver("band_diagram", short, tmp_path / "strict", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1, proc.stderr
    assert "band(s) missing at 2 of 2 k-point(s)" in lines[0] and "bands.allow_missing" in lines[0]
    assert not (tmp_path / "strict" / "results.json").exists()
    assert proc.stdout.count("warning: k ") == 2
    proc = run_driver("band_diagram", [*short, "--set", "bands.allow_missing=true"], tmp_path / "kept")
    results = load(tmp_path / "kept")
    assert results["missing"] == [50 - len(w) for w in results["omega_a_over_2pi_c"]]
    assert all(m > 0 for m in results["missing"]) and "warning:" in proc.stdout


def test_eigensolver_that_does_not_converge_exits_3(tmp_path, run_driver, monkeypatch):
    """``-bloch_eps_max_it 1``: the EPS stops with half the pairs; that used to pass as a diagram with exit 0."""
    monkeypatch.setenv("PETSC_OPTIONS", "-bloch_eps_max_it 1")
    proc = run_driver("band_diagram", [*TINY, "--set", "bands.num_bands=6"], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3 and len(lines) == 1 and "did not converge (SLEPc reason" in lines[0], proc.stderr
