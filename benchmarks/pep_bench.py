"""Seconds per k-point of the dispersive (Drude, TM) band sweep, the k-group speed-up, and a baseline tree.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pep_bench.py [--h 0.015] [--baseline DIR] [--runs 1,2,2g]

Runs ``drivers/band_diagram.py`` with ``drivers/configs/drude_rods_tm.toml`` (P2, 4 bands, 25 k-points) on one
rank (``1``), on two ranks (mesh parallelism, ``2``) and on two ranks as two k-groups (``2g``); ``c1`` is the
constant-ε rods (ε = 8.9) on the same mesh and one rank, the reference the dispersive sweep is compared with.
With ``--baseline DIR`` (another checkout of the repository, e.g. ``git archive <commit> | tar -x -C DIR``) each
run is repeated right after with that tree's driver (same venv), so before and after are measured back to back.
Prints dofs, the median and mean seconds per k-point (from results.json), how many k-points were continued,
the wall time, and writes the Markdown table to benchmarks/out/pep.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
RUNS = {"1": (1, 1, "drude"), "2": (2, 1, "drude"), "2g": (2, 2, "drude"), "c1": (1, 1, "constant")}


def run(tree: Path, h: float, name: str, out: Path) -> dict:
    ranks, k_groups, model = RUNS[name]
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(tree / "drivers" / "band_diagram.py"),
           "--config", str(ROOT / "drivers" / "configs" / "drude_rods_tm.toml"), "--set", f"mesh.h={h}",
           "--set", "output.plot=false", "--set", f"material.inclusion_model=\"{model}\"", "--k-groups",
           str(k_groups), "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=tree, capture_output=True, env=env)
    wall = time.perf_counter() - start
    return {"wall": wall, **json.loads((out / "results.json").read_text())}


def row(label: str, name: str, r: dict) -> str:
    per_k = np.array(r["timings"]["per_k_point"])
    methods = r["timings"].get("method", [])
    continued = f"{methods.count('continued')}/{len(methods)}" if methods else "–"
    ranks, groups, model = RUNS[name]
    return (f"| {label} | {model} | {ranks} | {groups} | {r['dofs']} | {len(r['k'])} | {np.median(per_k):.2f} | "
            f"{per_k.mean():.2f} | {continued} | {r['wall']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=float, default=0.015)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to time right after")
    parser.add_argument("--runs", default="1,2,2g,c1", help=f"comma-separated, of {', '.join(RUNS)}")
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    rows = ["| tree | ε | ranks | k-groups | dofs | k-points | median s/k | mean s/k | continued | wall [s] |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name in args.runs.split(","):
        trees = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
        for label, tree in trees:
            rows.append(row(label, name, run(tree, args.h, name, out / f"pep-{label}-{name}")))
            print(rows[-1], flush=True)
    (out / "pep.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
