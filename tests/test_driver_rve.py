"""The random-media driver: outputs, groups of ranks, images, and one clear line on bad input."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from fem_homog.cli.driver import run_driver as run_story

ROOT = Path(__file__).resolve().parents[1]


def driver_module():
    spec = importlib.util.spec_from_file_location("rve_driver", ROOT / "drivers" / "rve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RVE = driver_module()


def run_in_process(args: list[str], out: Path) -> int:
    """The driver's story in this process (no interpreter start-up), with the command-line contract."""
    return run_story(RVE.main, RVE.DEFAULTS, "rve", argv=[*args, "--out", str(out)])


def results(path):
    return json.loads((path / "results.json").read_text())


def test_defaults_write_everything(tmp_path, run_driver):
    """No arguments but --out: random checkerboard, three blocks with mean/std/CI, per-sample values in the
    N ≤ P ≤ D order, Dykhne's value reported, plots written."""
    proc = run_driver("rve", [], tmp_path)
    r = results(tmp_path)
    assert r["reference"] == {"dykhne": 2.0}
    for name in ("periodic", "dirichlet", "neumann"):
        block = r[name]
        lo, hi = block["ci"]
        assert lo < block["mean"] < hi and block["std"] > 0
        [size] = block["by_size"]
        assert len(size["values"]) == 16 and np.mean(size["values"]) == pytest.approx(block["mean"])
        assert np.array(size["tensors"]).shape == (16, 2, 2)
    values = {name: np.array(r[name]["by_size"][0]["values"]) for name in ("neumann", "periodic", "dirichlet")}
    assert np.all(values["neumann"] < values["periodic"]) and np.all(values["periodic"] < values["dirichlet"])
    assert r["ordering"]["neumann_le_periodic_le_dirichlet"] and r["ordering"]["samples"] == 16
    assert r["dirichlet_minus_neumann"][0] == pytest.approx(r["dirichlet"]["mean"] - r["neumann"]["mean"])
    assert (tmp_path / "rve_estimate.png").stat().st_size > 10_000 and (tmp_path / "sample.png").is_file()
    assert "95 % CI" in proc.stdout


def test_image_windows(tmp_path):
    """A PNG microstructure cut into 4 windows of 8 pixels: each window is a sample."""
    import matplotlib.pyplot as plt

    image = (np.random.default_rng(2).random((16, 16)) < 0.4).astype(float)
    plt.imsave(tmp_path / "micro.png", image, cmap="gray")
    assert run_in_process(["--set", "rve.kind=image", "--set", f"rve.image={tmp_path / 'micro.png'}",
                           "--set", "rve.size=8", "--set", "rve.samples=10", "--set", "output.plot=false"],
                          tmp_path / "out") == 0
    r = results(tmp_path / "out")
    assert r["samples"] == [4] and len(r["periodic"]["by_size"][0]["values"]) == 4


def test_checkerboard_contrast_10_dykhne_discretization_error(tmp_path):
    """Fair random checkerboard, contrast 10, defaults (P2, 4 cells per voxel graded towards the voxel faces):
    the periodic CI covers Dykhne's √10 and the reported discretization error is well inside it (measured 0.031
    against a half-width of 0.35). The old defaults (P1, 2 uniform cells per voxel: mean 7 % above √10) report
    0.21 and a warning."""
    args = ["--set", "material.inclusion=10.0", "--set", "rve.boundary=periodic", "--set", "output.plot=false"]
    assert run_in_process(args, tmp_path / "new") == 0
    r = results(tmp_path / "new")
    lo, hi = r["periodic"]["ci"]
    assert lo < np.sqrt(10.0) < hi and r["reference"] == {"dykhne": pytest.approx(np.sqrt(10.0))}
    assert 0 < r["periodic"]["discretization_error"] < 0.25 * (hi - lo) and r["warnings"] == []
    old = ["--set", "fe.degree=1", "--set", "mesh.cells_per_voxel=2", "--set", "mesh.grading=1.0"]
    assert run_in_process([*args, *old], tmp_path / "old") == 0
    r_old = results(tmp_path / "old")
    assert r_old["periodic"]["discretization_error"] > 0.04 * np.sqrt(10.0)  # the 7 % bias shows up
    assert len(r_old["warnings"]) == 1 and "not well inside" in r_old["warnings"][0]


BAD_INPUTS = [
    (["--set", "rve.samples=1"], "needs rve.samples >= 2"),
    (["--set", "rve.kind=disks", "--set", "rve.fraction=0.6"], "unreachable by random sequential addition"),
    (["--set", "rve.kind=image", "--set", "rve.image=ONE_PHASE"], "single phase"),
    (["--set", "rve.kind=foam"], "unknown rve.kind"),
    (["--set", "rve.boundary=mixed"], "unknown rve.boundary"),
    (["--set", "rve.size=[4, -1]"], "rve.size must be a positive number"),
    (["--set", "rve.groups=3"], "rve.groups must lie in [1, 1]"),
    (["--set", "rve.seed=-1"], "rve.seed must be a non-negative integer"),
    (["--set", "rve.seed=1.5"], "rve.seed must be"),
    (["--set", "mesh.grading=0.5"], "mesh.grading must be >= 1"),
    (["--set", "material.inclusion=[[2.0, 0.5], [0.1, 3.0]]"], "material.inclusion must be symmetric"),
    (["--set", "rve.size=4.5"], "whole number of squares"),
    (["--set", "rve.kind=image", "--set", "rve.image=TWO_PHASE", "--set", "rve.size=6"], "holds 1 window(s)"),
]


@pytest.mark.parametrize("args,message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_one_line_nonzero_exit(tmp_path, capsys, args, message):
    one_phase = tmp_path / "one.npy"
    np.save(one_phase, np.zeros((8, 8)))
    two_phase = tmp_path / "two.npy"
    np.save(two_phase, np.eye(8))
    args = [a.replace("ONE_PHASE", str(one_phase)).replace("TWO_PHASE", str(two_phase)) for a in args]
    assert run_in_process(args, tmp_path / "out") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
