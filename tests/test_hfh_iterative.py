"""HFH without a factorization (issue 13): ``solver.method = "iterative"`` in drivers/hfh.py gives the same mode,
tensor and asymptotic check as the sparse-direct path on a small 3D cell (GD + GAMG eigensolves, GMRES + GAMG
bordered correctors, the lowest bands grown until they hold the pairs nearest a target), and the combinations it
does not support are refused."""

import json

import numpy as np
import pytest

SPHERE = ["--set", "cell.dim=3", "--set", 'cell.shape="sphere"', "--set", "cell.radius=0.3", "--set", "mesh.h=0.25",
          "--set", "hfh.check_points=2", "--set", "output.plot=false"]


def _run(run_driver, tmp_path, method: str, extra: list[str]) -> dict:
    out = tmp_path / method
    run_driver("hfh", [*SPHERE, *extra, "--set", f'solver.method="{method}"'], out)
    return json.loads((out / "results.json").read_text())


def _complex(value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    return array[..., 0] + 1j * array[..., 1]


@pytest.mark.parametrize("band", [1, 3])
def test_iterative_hfh_driver_equals_direct_on_a_sphere_cell(tmp_path, run_driver, band):
    """Simple cubic cell with a sphere (ε = 8.9, P2, 1757 dofs) at X: band 1 (a saddle) and band 3, whose
    asymptotic check needs more than the ``m + 4`` lowest bands (the iterative solver doubles them). Same
    frequency, tensor and exact bands of the check to round-off or the solvers' tolerances; no MUMPS factorization
    on the iterative path."""
    direct = _run(run_driver, tmp_path, "direct", ["--set", f"hfh.band={band}"])
    iterative = _run(run_driver, tmp_path, "iterative", ["--set", f"hfh.band={band}"])
    assert direct["case"] == iterative["case"] == "simple"
    assert abs(_complex(iterative["omega0"]) - _complex(direct["omega0"])) < 1e-10
    T_direct, T_iterative = _complex(direct["T"]), _complex(iterative["T"])
    assert np.abs(T_iterative - T_direct).max() < 1e-8 * np.abs(T_direct).max()
    assert iterative["solvability_multiplier"] < 1e-8
    for name, check in direct["asymptotics"].items():
        other = iterative["asymptotics"][name]
        assert check["missing"] == other["missing"] == 0
        assert np.abs(_complex(other["exact"]) - _complex(check["exact"])).max() < 1e-9
        assert other["error_slope"] == pytest.approx(check["error_slope"], abs=1e-3)
    assert iterative["solver"]["method"] == "iterative" and iterative["solver"]["mumps_used_mb_total"] == 0
    assert direct["solver"]["method"] == "direct" and direct["solver"]["mumps_used_mb_total"] > 0


def test_iterative_path_study_equals_direct(tmp_path, run_driver):
    """``hfh.path`` with the iterative solver (2D rods, P2, Γ–X–M–Γ): the models of bands 1 and 2 at every vertex
    (low-frequency, simple and the repeated pair at M) and the exact bands along the path are those of the direct
    path (Γ's zero mode: exactly 0 against sqrt of round-off)."""
    extra = ["--set", "mesh.h=0.15", "--set", "hfh.check_points=0", "--set", 'hfh.path="GXMG"', "--set",
             "hfh.band=2", "--set", "hfh.path_points=3", "--set", "output.plot=false"]
    paths = {}
    for method in ("direct", "iterative"):
        run_driver("hfh", [*extra, "--set", f'solver.method="{method}"'], tmp_path / method)
        paths[method] = json.loads((tmp_path / method / "results.json").read_text())["path"]
    assert np.abs(_complex(paths["iterative"]["exact"]) - _complex(paths["direct"]["exact"])).max() < 1e-7
    for letter, entries in paths["direct"]["points"].items():
        others = paths["iterative"]["points"][letter]
        assert [e["case"] for e in entries] == [e["case"] for e in others]
        for entry, other in zip(entries, others):
            assert np.abs(_complex(other["omegas"]) - _complex(entry["omegas"])).max() < 1e-9
            if entry["T"] is not None:
                assert np.abs(_complex(other["T"]) - _complex(entry["T"])).max() < 1e-8 * np.abs(
                    _complex(entry["T"])).max()
    assert [e["case"] for e in paths["direct"]["points"]["M"]] == ["simple", "repeated"]


def test_iterative_splitting_estimate_equals_direct(tmp_path, run_driver):
    """Rods at M, band 2 on a mesh without the cell's symmetry: the split pair is taken as repeated through the
    splitting estimate (the problem at degree + 1 solved near the pair: its lowest bands for the iterative solver);
    tolerance, frequencies and second-order blocks (up to the eigenvectors' signs) equal those of the direct path."""
    extra = ["--set", "mesh.h=0.12", "--set", "mesh.symmetric=false", "--set", 'hfh.point="M"', "--set",
             "hfh.band=2", "--set", "hfh.check_points=0", "--set", "output.plot=false"]
    results = {}
    for method in ("direct", "iterative"):
        run_driver("hfh", [*extra, "--set", f'solver.method="{method}"'], tmp_path / method)
        results[method] = json.loads((tmp_path / method / "results.json").read_text())
    direct, iterative = results["direct"], results["iterative"]
    assert direct["case"] == iterative["case"] == "repeated" and direct["repeated_tol"] > 1e-4
    assert iterative["repeated_tol"] == pytest.approx(direct["repeated_tol"], rel=1e-8)
    assert np.abs(_complex(iterative["omegas"]) - _complex(direct["omegas"])).max() < 1e-10
    blocks = np.abs(_complex(direct["T_blocks"]))  # up to the sign of each eigenvector (off-diagonal blocks)
    assert np.abs(np.abs(_complex(iterative["T_blocks"])) - blocks).max() < 1e-8 * blocks.max()


def test_nearest_pairs_of_the_iterative_solver_are_those_of_shift_and_invert(cell_factory):
    """:func:`nearest_pairs` with the iterative solver (lowest 2, 4, 8 bands) returns the two eigenvalues nearest a
    target between bands 5 and 6 at a generic k: those of a shift-and-invert solve at that target."""
    from fem_homog.cells.geometry import INCLUSION, MATRIX
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.hfh import nearest_pairs
    from fem_homog.photonics.materials import Phase, constant

    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, h=0.3)
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))]
    k = [1.0, 0.4, 0.2]
    lowest = BlochProblem(cell, phases, degree=1).solve(k, nev=8).omegas.real
    target = 0.5 * (lowest[4] + lowest[5])
    found = {}
    for method in ("direct", "iterative"):
        problem = BlochProblem(cell, phases, degree=1, solver=method)
        K = problem.stiffness(k)
        omegas = nearest_pairs(problem, k, K, problem.mass, nev=2, target=target).omegas.real
        found[method] = omegas[np.argsort(np.abs(omegas ** 2 - target ** 2))[:2]]
        assert method == "direct" or len(omegas) == 2
    assert np.sort(found["iterative"]) == pytest.approx(lowest[4:6], rel=1e-9)
    assert np.sort(found["direct"]) == pytest.approx(lowest[4:6], rel=1e-9)


BAD = [(["--set", 'solver.method="lu"'], "unknown solver.method 'lu'"),
       (["--set", 'solver.method="iterative"', "--set", 'material.inclusion_model="drude"'],
        "dispersive ones need solver.method = 'direct'"),
       (["--set", 'solver.method="iterative"', "--set", 'hfh.path="GXMG"', "--set", "hfh.search_from=0.2",
         "--set", "hfh.path_points=2"], "hfh.search_from must be 0 for a path study with the iterative")]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
def test_bad_solver_input(tmp_path, args, message, run_driver):
    proc = run_driver("hfh", ["--set", "mesh.h=0.15", "--set", "hfh.check_points=0", "--set", "output.plot=false",
                              *args], tmp_path, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
