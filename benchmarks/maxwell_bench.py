"""Vector Maxwell bands (Nédélec, theory.md §11): accuracy, size and time per k-point on a simple cubic crystal.

    .venv/bin/python benchmarks/maxwell_bench.py            # degree 1 and 2 on curved meshes, h from 0.3 down
    .venv/bin/python benchmarks/maxwell_bench.py --quick    # the two coarsest meshes only (a smoke run)

Simple cubic lattice (a = 1) of dielectric spheres ε = 11.56, r = 0.25, in air; the six lowest bands at X and R.
Every run meshes the cell (order 2), builds the problem (entity prolongations, assembly) and solves both k-points
(EPS shift-and-invert, MUMPS, mixed Kikuchi pencil). The error of a run is the largest relative deviation over
the bands at X and R from the finest degree-2 run (the reference, listed last). One process, one core; timings
are disturbed by anything else running on the machine. Writes ``benchmarks/out/maxwell.md`` and ``maxwell.json``.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import fem_homog  # noqa: E402,F401
from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry, Inclusion  # noqa: E402
from fem_homog.cells.meshing import mesh_cell  # noqa: E402
from fem_homog.photonics.materials import Phase, constant  # noqa: E402
from fem_homog.photonics.maxwell import MaxwellBlochProblem  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out"
POINTS = {"X": [np.pi, 0.0, 0.0], "R": [np.pi, np.pi, np.pi]}
NUM_BANDS = 6
RUNS = [(1, 0.2), (1, 0.14), (1, 0.1), (1, 0.07), (2, 0.3), (2, 0.2), (2, 0.14), (2, 0.1), (2, 0.07)]


def run(degree: int, h: float) -> dict:
    geo = CellGeometry(dim=3, kind="inclusions", inclusions=(Inclusion("sphere", (0.5, 0.5, 0.5), radius=0.25),))
    start = time.perf_counter()
    cell = mesh_cell(geo, h=h, order=2)
    meshed = time.perf_counter()
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(11.56))],
                                            degree=degree)
    built = time.perf_counter()
    bands, solve_seconds = {}, []
    for name, k in POINTS.items():
        t = time.perf_counter()
        bands[name] = (problem.solve(k, nev=NUM_BANDS).omegas.real / (2 * np.pi)).tolist()  # units 2πc/a
        solve_seconds.append(time.perf_counter() - t)
    return {"degree": degree, "h": h, "dofs": problem.emap.num_reduced_global,
            "multiplier_dofs": problem.emap_W.num_reduced_global, "mesh_s": meshed - start,
            "setup_s": built - meshed, "solve_s_per_k": float(np.mean(solve_seconds)), "bands": bands}


def table(results: list[dict]) -> str:
    reference = np.concatenate([results[-1]["bands"][p] for p in POINTS])
    lines = ["| degree | h | N1curl dofs | mesh s | setup s | solve s / k | max rel. error vs last row |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        err = np.abs(np.concatenate([r["bands"][p] for p in POINTS]) / reference - 1).max()
        r["error"] = float(err)
        lines.append(f"| {r['degree']} | {r['h']} | {r['dofs']} | {r['mesh_s']:.1f} | {r['setup_s']:.1f} | "
                     f"{r['solve_s_per_k']:.1f} | {err:.1e} |")
    ref = {p: np.round(results[-1]["bands"][p], 5).tolist() for p in POINTS}
    lines += ["", f"Reference bands (units 2πc/a): X {ref['X']}, R {ref['R']}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only h = 0.3 for degrees 1 and 2")
    runs = [(1, 0.3), (2, 0.3)] if parser.parse_args().quick else RUNS
    results = [run(degree, h) for degree, h in runs]
    OUT.mkdir(parents=True, exist_ok=True)
    text = table(results)
    (OUT / "maxwell.md").write_text(text)
    (OUT / "maxwell.json").write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()
