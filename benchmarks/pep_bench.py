"""Seconds per k-point of the dispersive (Drude, TM) polynomial eigenproblem, and the k-group speed-up.

    .venv/bin/python benchmarks/pep_bench.py [--h 0.015]

Runs ``drivers/band_diagram.py`` with ``drivers/configs/drude_rods_tm.toml`` (P2, 4 bands, 25 k-points) on one
rank, on two ranks (mesh parallelism) and on two ranks as two k-groups; prints dofs, the median seconds per
k-point (from results.json) and the wall time of each run, as a Markdown table (benchmarks/out/pep.md).
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


def run(h: float, ranks: int, k_groups: int, out: Path) -> dict:
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(ROOT / "drivers" / "band_diagram.py"),
           "--config", str(ROOT / "drivers" / "configs" / "drude_rods_tm.toml"), "--set", f"mesh.h={h}",
           "--set", "output.plot=false", "--k-groups", str(k_groups), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - start
    return {"wall": wall, **json.loads((out / "results.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=float, default=0.015)
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    rows = ["| ranks | k-groups | dofs | k-points | median s per k-point | wall [s] |", "|---|---|---|---|---|---|"]
    for ranks, groups in ((1, 1), (2, 1), (2, 2)):
        r = run(args.h, ranks, groups, out / f"pep-n{ranks}-g{groups}")
        per_k = np.median(r["timings"]["per_k_point"])
        rows.append(f"| {ranks} | {groups} | {r['dofs']} | {len(r['k'])} | {per_k:.2f} | {r['wall']:.1f} |")
        print(rows[-1], flush=True)
    (out / "pep.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
