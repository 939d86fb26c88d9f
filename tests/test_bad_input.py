"""Bad input, as a new user types it: every case exits 2 with one ``error: ...`` line naming the problem.

Each case fails in the driver contract (:func:`fem_homog.cli.driver.resolve` or the output folder), before any
meshing, so the table is cheap. Issue 12, item 3.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    # a list where a number is expected
    ("effective_tensor", "mesh.h=[0.1]", "mesh.h"),
    ("band_diagram", "cell.radius=[0.1]", "cell.radius"),
    ("finite_crystal", "crystal.nx=[8]", "crystal.nx"),
    ("multiband", "homogeneous.E=[2.0]", "homogeneous.E"),
    ("rve", "rve.samples=[4]", "rve.samples"),
    ("hfh", "mesh.h=[0.1]", "mesh.h"),
    ("permeability", "cell.radius=[0.1]", "cell.radius"),
    ("epsilon_convergence", "mesh.h=[0.1]", "mesh.h"),
    ("complex_bands", "complex.max_imag_k=[3.0]", "complex.max_imag_k"),
    # a non-integer where an integer is meant
    ("finite_crystal", "crystal.nx=8.5", "crystal.nx"),
    ("effective_tensor", "cell.dim=2.5", "cell.dim"),
    ("rve", "rve.seed=1.5", "rve.seed"),
    ("hfh", "hfh.band=1.5", "hfh.band"),
    ("band_diagram", "bands.num_bands=true", "bands.num_bands"),
    # NaN and infinities
    ("band_diagram", "bands.target=nan", "bands.target"),
    ("effective_tensor", "mesh.h=inf", "mesh.h"),
    ("rve", "material.inclusion=nan", "material.inclusion"),
    ("effective_tensor", "material.inclusion=[[1.0, 0.0], [0.0, nan]]", "material.inclusion"),
]


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize("driver, setting, key", CASES, ids=[f"{d}:{s}" for d, s, _ in CASES])
def test_bad_value_is_one_clean_error(run_driver, tmp_path, driver, setting, key):
    proc = run_driver(driver, ["--set", setting], tmp_path / "out", check=False)
    line = _one_error_line(proc)
    assert key in line, line
    assert not (tmp_path / "out").exists()  # refused before the output folder is touched


def test_integral_float_is_an_integer():
    """An integral float such as ``8.0`` for an integer key is accepted and stored as the integer 8."""
    from fem_homog.cli.driver import resolve

    config = resolve({"crystal": {"nx": 14}}, overrides=["crystal.nx=8.0"])
    assert config["crystal"]["nx"] == 8 and isinstance(config["crystal"]["nx"], int)


def test_declared_keys_accept_lists_and_floats():
    """Keys a driver declares (``accepts``) take their extra kinds; the same keys stay strict without it."""
    from fem_homog.cli.driver import resolve
    from fem_homog.core.errors import InputError

    defaults = {"material": {"matrix": 1.0}, "rve": {"size": 8}}
    accepts = {"material.matrix": (list,), "rve.size": (list, float)}
    config = resolve(defaults, overrides=["material.matrix=[[2.0, 0.5], [0.5, 1.0]]", "rve.size=4.5"],
                     accepts=accepts)
    assert config["material"]["matrix"] == [[2.0, 0.5], [0.5, 1.0]] and config["rve"]["size"] == 4.5
    assert resolve(defaults, overrides=["rve.size=[4, 8]"], accepts=accepts)["rve"]["size"] == [4, 8]
    for bad in ("material.matrix=[[2.0]]", "rve.size=4.5"):
        with pytest.raises(InputError):
            resolve(defaults, overrides=[bad])
    with pytest.raises(InputError, match="material.matrix"):
        resolve(defaults, overrides=["material.matrix=inf"], accepts=accepts)


def test_declared_list_keys_reach_the_driver(run_driver, tmp_path):
    """A d×d conductivity passes the contract (a non-SPD one is then refused by the library, naming the key)."""
    proc = run_driver("effective_tensor", ["--set", "material.inclusion=[[1.0, 2.0], [2.0, 1.0]]"],
                      tmp_path / "out", check=False)
    line = _one_error_line(proc)
    assert "material.inclusion" in line and "must be a number" not in line, line


@pytest.mark.parametrize("driver", ["effective_tensor", "rve", "multiband"])
def test_uncreatable_out_is_one_clean_error(run_driver, tmp_path, driver):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (Path("/proc/x"), afile, afile / "sub"):
        line = _one_error_line(run_driver(driver, [], out, check=False))
        assert str(out) in line, line


def test_uncreatable_out_under_mpi_does_not_hang(tmp_path):
    """Rank 0 cannot create the folder: every rank raises the same error (it used to hang in the barrier)."""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    if not mpiexec.exists():
        pytest.skip("no mpiexec next to the interpreter")
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in ("/proc/x", str(afile)):
        cmd = [str(mpiexec), "-n", "2", sys.executable, str(ROOT / "drivers" / "effective_tensor.py"), "--out", out]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
        assert len(errors) == 1 and out in errors[0], proc.stderr


def test_failed_run_removes_previous_results(run_driver, tmp_path):
    """A run that fails after the output folder is prepared leaves no stale ``results.json`` behind."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"stale": True}))
    # passes the contract, then fails in the story's own checks (before meshing)
    proc = run_driver("effective_tensor", ["--set", "physics.problem=nonsense"], out, check=False)
    _one_error_line(proc)
    assert not (out / "results.json").exists()
    assert (out / "config.toml").exists()
