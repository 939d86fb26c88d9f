"""drivers/hfh.py as a user runs it: defaults, the case it reports, the asymptotic error slope, bad input."""

import json

import numpy as np
import pytest

FAST = ["--set", "mesh.h=0.1", "--set", "hfh.check_points=3", "--set", "output.plot=false"]



def test_default_run_reports_a_hyperbolic_simple_mode(tmp_path, run_driver):
    run_driver("hfh", FAST, tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["case"] == "simple"
    assert results["classification"]["type"] == "hyperbolic"
    T = np.array(results["T"])[..., 0]
    assert T[0, 0] < 0 < T[1, 1]
    assert len(results["star"]) == 2  # X and Y
    for check in results["asymptotics"].values():
        assert 3.5 < check["error_slope"] < 4.5
    assert results["solvability_multiplier"] < 1e-10
    assert (tmp_path / "config.toml").exists() and (tmp_path / "hfh_fields.bp").exists()


def test_one_dimensional_drude_stack_config(tmp_path, run_driver):
    """The seed's 1D Drude stack config: complex T of a band maximum at X, plots written."""
    run_driver("hfh", ["--config", "drivers/configs/hfh_drude_stack_1d.toml", "--set", "mesh.h=0.05",
                       "--set", "hfh.check_points=3"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["case"] == "simple" and results["classification"]["extremum"] == "maximum"
    assert results["omega0"][1] < 0  # damped
    assert (tmp_path / "hfh_asymptotics.png").exists()


def test_li_2003_lorentz_stack_config(tmp_path, run_driver):
    """The positive/negative-index stack (Lorentz ε and μ in one layer): the driver finds the two close modes
    at Γ above the resonances and reports the coupled model with its slopes."""
    run_driver("hfh", ["--config", "drivers/configs/hfh_lorentz_stack_li2003.toml", "--set", "mesh.h=0.02",
                       "--set", "hfh.check_points=3", "--set", "output.plot=false"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["case"] == "nearby" and len(results["omegas"]) == 2
    slopes = np.array(results["slopes"]["x"])[:, 0]
    assert slopes[0] == pytest.approx(-slopes[1]) and abs(slopes[0]) > 0
    assert all(abs(w[1]) < 1e-8 for w in results["omegas"])  # lossless poles: real frequencies


def test_path_study_prints_every_point_and_overlays_the_bands(tmp_path, run_driver):
    """``hfh.path``: the model of bands 1..hfh.band at Γ, X and M, and the exact band diagram along the path."""
    proc = run_driver("hfh", ["--set", "mesh.h=0.12", "--set", "hfh.check_points=0", "--set", 'hfh.path="GXMG"',
                              "--set", "hfh.band=2", "--set", "hfh.path_points=3"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    points = results["path"]["points"]
    assert sorted(points) == ["G", "M", "X"] and all(len(entries) == 2 for entries in points.values())
    assert points["G"][0]["case"] == "low_frequency" and points["X"][0]["case"] == "simple"
    assert proc.stdout.count("case:") >= 7  # the chosen point, then 3 points × 2 bands
    exact = np.array(results["path"]["exact"])[..., 0]
    assert exact.shape == (10, 3) and abs(exact[0, 0]) < 1e-6  # Γ, the acoustic band (zero to round-off)
    assert (tmp_path / "hfh_path.png").exists()


BAD = [(["--set", 'hfh.point="Q"'], "unknown k-point 'Q'"),
       (["--set", "hfh.point=[1.0]"], "must have 2 components"),
       (["--set", "hfh.point=[4.0, 0.0]"], "outside the first Brillouin zone"),
       (["--set", "hfh.band=0"], "hfh.band must be >= 1"),
       (["--set", "hfh.repeated_tol=0.5"], "cluster_tol"),
       (["--set", 'physics.polarization="XY"'], "unknown physics.polarization")]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
def test_bad_input(tmp_path, args, message, run_driver):
    proc = run_driver("hfh", [*FAST, *args], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
