"""The effective-tensor driver: the CLI contract, its outputs, and one clear line on bad input."""

import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

MPIEXEC = Path(sys.executable).parent / "mpiexec"
FAST = ["--set", "mesh.h=0.1", "--set", "output.plot=false"]


def results(path):
    return json.loads((path / "results.json").read_text())


def test_defaults_write_everything(tmp_path, run_driver):
    """No arguments but --out: A_hom of the square array of cylinders, isotropic and inside the bounds."""
    proc = run_driver("effective_tensor", [], tmp_path)
    r = results(tmp_path)
    A = np.array(r["A_hom"])
    assert A.shape == (2, 2) and abs(A[0, 0] - A[1, 1]) < 1e-5 * A[0, 0]
    assert r["bounds"]["inside_voigt_reuss"] and r["bounds"]["inside_hashin_shtrikman"]
    assert r["volume_fraction"] == pytest.approx(np.pi * 0.09, abs=1e-5)
    for key in ("dofs", "ranks", "timings", "iterations"):
        assert key in r
    assert set(r["timings"]) >= {"mesh", "assemble", "prolongation", "setup", "solve"}
    assert (tmp_path / "correctors.png").stat().st_size > 10_000
    assert (tmp_path / "correctors.bp").is_dir()
    assert "A_hom" in proc.stdout


def test_config_round_trip(tmp_path, run_driver):
    """The written config.toml reproduces the run; --set takes TOML literals and bare words."""
    run_driver("effective_tensor", [*FAST, "--set", "physics.problem=elasticity", "--set", 'cell.shape="laminate"',
         "--set", "cell.fraction=0.25", "--set", "output.fields=false"], tmp_path / "a")
    config = tomllib.loads((tmp_path / "a" / "config.toml").read_text())
    assert config["cell"]["shape"] == "laminate" and config["cell"]["fraction"] == 0.25
    run_driver("effective_tensor", ["--config", str(tmp_path / "a" / "config.toml")], tmp_path / "b")
    Ca, Cb = (np.array(results(tmp_path / p)["C_hom"]) for p in "ab")
    assert Ca.shape == (3, 3)
    assert np.abs(Ca - Cb).max() < 1e-12


def test_mpi_run_matches_serial(tmp_path, run_driver):
    """mpiexec -n 2 gives the serial A_hom to 1e-10 and reports 2 ranks."""
    run_driver("effective_tensor", FAST, tmp_path / "serial")
    run_driver("effective_tensor", FAST, tmp_path / "mpi", launcher=(str(MPIEXEC), "-n", "2"))
    s, m = results(tmp_path / "serial"), results(tmp_path / "mpi")
    assert m["ranks"] == 2
    assert np.abs(np.array(s["A_hom"]) - np.array(m["A_hom"])).max() < 1e-10


BAD_INPUTS = [
    (["--set", "cell.radius=-0.2"], "radius must be positive"),
    (["--set", "cell.radius=0.55"], "periodic image"),
    (["--set", "cell.shape=hexagon"], "unknown 2D cell.shape"),
    (["--set", "cell.shape=laminate", "--set", "cell.fraction=1.5"], "fraction must lie in (0, 1)"),
    (["--set", "physics.problem=acoustics"], "unknown physics.problem"),
    (["--set", "material.inclusion=-3"], "material.inclusion must be positive"),
    (["--set", "material.inclusion=[[2.0, 0.5], [0.1, 3.0]]"], "material.inclusion must be symmetric"),
    (["--set", "material.matrix_nu=0.5", "--set", "physics.problem=elasticity"], "Poisson's ratio"),
    (["--set", "cell.radios=0.2"], "unknown config key 'cell.radios'"),
    (["--set", "mesh.h=abc"], "mesh.h must be a number"),
    (["--set", "solver.method=lu"], "unknown solver.method"),
    (["--set", "cell.shape=inclusions", "--set",
      "cell.inclusions=[{shape='circle', centre=[0.3,0.5], radius=0.2}, "
      "{shape='circle', centre=[0.6,0.5], radius=0.2}]"],
     "overlap"),
    (["--config", "does-not-exist.toml"], "does not exist"),
]


@pytest.mark.parametrize("args,message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_one_line_nonzero_exit(tmp_path, args, message, run_driver):
    proc = run_driver("effective_tensor", args, tmp_path, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
