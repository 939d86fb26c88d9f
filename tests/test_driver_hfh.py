"""drivers/hfh.py as a user runs it: defaults, the case it reports, the asymptotic error slope, bad input."""

import json
import tomllib

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
    at Γ above the resonances and reports the coupled model; its frequencies and each mode's curvature T_p agree
    with the transfer-matrix dispersion of the same ε(Ω), μ(Ω) (P2, h = 0.01: O(h⁴) errors 1e-5 and 1e-3;
    tests/test_hfh.py checks the branches at h = 0.005)."""
    from fem_homog.cli.cells import geometry_from_config
    from fem_homog.cli.materials import phases_from_config
    from fem_homog.photonics.laminate1d import bloch_root, cauchy_derivative, dispersion, photonic_layers

    config = "drivers/configs/hfh_lorentz_stack_li2003.toml"
    run_driver("hfh", ["--config", config, "--set", "mesh.h=0.01", "--set", "hfh.check_points=3",
                       "--set", "output.plot=false"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["case"] == "nearby" and len(results["omegas"]) == 2
    written = tomllib.loads((tmp_path / "config.toml").read_text())
    geo = geometry_from_config(written["cell"])
    matrix, layer = phases_from_config(written["material"])
    f = geo.fraction
    layers = photonic_layers([matrix.eps, layer.eps, matrix.eps], [(1 - f) / 2, f, (1 - f) / 2], "TM",
                             mu_r=[matrix.mu_r, layer.mu_r, matrix.mu_r])
    for (re, im), T in zip(results["omegas"], results["T_bands"]):
        omega = bloch_root(layers, 0.0, 2 * np.pi * (re + 1j * im))
        assert abs(2 * np.pi * (re + 1j * im) - omega) < 2e-5 * abs(omega)
        curvature = -1.0 / (2 * cauchy_derivative(lambda w: dispersion(layers, w), omega) / (2 * omega))
        assert abs(np.array(T)[0, 0, 0] - curvature.real) < 2e-3 * abs(curvature)
    slopes = np.array(results["slopes"]["x"])[:, 0]
    assert slopes[0] < 0 < slopes[1]


def test_hexagonal_K_is_a_dirac_point(tmp_path, run_driver):
    """Round rods on the triangular lattice at K, band 2 (symmetric mesh by default): the repeated case with
    opposite linear slopes, and the asymptotic error of linear branches falling as κ² (theory.md §8.8)."""
    run_driver("hfh", ["--set", 'cell.lattice="hexagonal"', "--set", 'hfh.point="K"', "--set", "hfh.band=2",
                       "--set", "mesh.h=0.1", "--set", "hfh.check_points=3", "--set", "hfh.kappa_max=0.1",
                       "--set", "output.plot=false"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["case"] == "repeated"
    slopes = np.array(results["slopes"]["x"])[:, 0]
    assert slopes[0] == pytest.approx(-slopes[1]) and slopes[1] > 1.0
    for check in results["asymptotics"].values():
        assert 1.7 < check["error_slope"] < 2.3


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


# -- issue 12, item 7: the path plot holds the HFH curves it promises ---------------------------------------
def test_path_plot_draws_red_asymptotics_at_every_vertex():
    """The path study of the driver test, through the library: the figure of ``plot_path_study`` holds red curves
    on both sides of every vertex (one per branch of each model) reaching ``kappa_max`` along the segment; they
    start at the exact frequency at the vertex and end close to the exact band solved at their end point.
    (With path_points = 3 the samples are π/3 apart, more than kappa_max = 0.4: the old plot drew each vertex's
    curves through the vertex alone, i.e. nothing.)"""
    import matplotlib.colors

    from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config, mesh_from_config
    from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
    from fem_homog.cli.photonics import hfh_path_from_config, selection_from_config
    from fem_homog.core.units import to_reduced
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.hfh_path import path_study, plot_path_study

    hfh = {"band": 2, "target": 0.0, "search_from": 0.0, "cluster_tol": 0.02, "repeated_tol": 1e-5,
           "path": "GXMG", "path_points": 3, "path_bands": 0}
    geometry = geometry_from_config({**CELL_DEFAULTS, "radius": 0.2})
    cell = mesh_from_config(geometry, {"h": 0.12, "order": 2, "refine": 0})
    problem = BlochProblem(cell, phases_from_config(dict(MATERIAL_DEFAULTS)), polarization="TM", degree=2)
    path, bands = hfh_path_from_config(hfh, geometry)
    study = path_study(problem, path, bands=bands, selection=selection_from_config(hfh),
                       lattice=geometry.lattice_vectors)
    kappa_max = 0.4
    figure = plot_path_study(study, kappa_max)
    red = [line for line in figure.axes[0].get_lines()
           if matplotlib.colors.to_rgba(line.get_color()) == matplotlib.colors.to_rgba("red")]
    assert red, "no red curve on the path plot"
    s = path.distance
    vertices = path.labels
    for n, (index, letter) in enumerate(vertices):
        branches = sum(len(summary.result.omegas) if summary.result.case in ("repeated", "nearby") else 1
                       for _, summary in study.models[letter])
        exact_here = to_reduced(problem.solve(path.k[index], nev=8).omegas).real
        for m in (n - 1, n + 1):
            if not 0 <= m < len(vertices):
                continue
            other = vertices[m][0]
            direction = (path.k[other] - path.k[index]) / np.linalg.norm(path.k[other] - path.k[index])
            side = np.sign(s[other] - s[index])
            mine = [line for line in red if np.isclose(line.get_xdata()[0], s[index])
                    and side * (line.get_xdata()[-1] - s[index]) > 0]
            assert len(mine) == branches, (letter, m)
            for line in mine:
                x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
                assert np.all(np.isfinite(y)) and abs(x[-1] - x[0]) == pytest.approx(kappa_max)
                assert np.min(np.abs(exact_here - y[0])) < 2e-3 * max(y[0], 0.1)
                k_end = path.k[index] + abs(x[-1] - x[0]) * direction
                exact_end = to_reduced(problem.solve(k_end, nev=8).omegas).real
                assert np.min(np.abs(exact_end - y[-1])) < 5e-3, (letter, y[-1], exact_end)
