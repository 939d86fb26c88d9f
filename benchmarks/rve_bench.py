"""Seconds for an ensemble of random windows: one rank, two ranks per window, and two groups of one rank.

    .venv/bin/python benchmarks/rve_bench.py [--samples 32] [--size 7]

Runs ``drivers/rve.py`` on RSA disks (``size^2`` disks a window, 49 for R = 7, fraction 0.3, contrast 10,
P1, h = 0.1) with periodic, Dirichlet and Neumann conditions (3 × 2 solves a sample): ``-n 1``, ``-n 2`` with
each window distributed over both ranks, and ``-n 2`` as two sub-communicator groups (one window per rank).
Prints dofs, the median seconds per sample (from results.json), the wall time and the peak memory as a
Markdown table (benchmarks/out/rve.md); checks that the three runs give the same per-sample tensors.
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


def run(samples: int, size: float, ranks: int, groups: int, out: Path) -> dict:
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(ROOT / "drivers" / "rve.py"),
           "--set", "rve.kind=disks", "--set", f"rve.size={size}", "--set", f"rve.samples={samples}",
           "--set", "rve.fraction=0.3", "--set", "material.inclusion=10.0", "--set", "mesh.h=0.1",
           "--set", f"rve.groups={groups}", "--set", "output.plot=false", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - start
    return {"wall": wall, **json.loads((out / "results.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--size", type=float, default=7.0)
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    rows = ["| ranks | groups | samples | dofs (median) | median s per sample | ensemble s | wall [s] | "
            "peak MiB (max rank) |", "|---|---|---|---|---|---|---|---|"]
    reference = None
    for ranks, groups in ((1, 1), (2, 1), (2, 2)):
        r = run(args.samples, args.size, ranks, groups, out / f"rve-n{ranks}-g{groups}")
        per_sample = np.median(r["timings"]["sample_seconds"][0])
        rows.append(f"| {ranks} | {groups} | {r['samples'][0]} | {int(np.median(r['dofs'][0]))} | "
                    f"{per_sample:.2f} | {r['timings']['total']:.1f} | {r['wall']:.1f} | "
                    f"{r['peak_memory_mb']['max_rank']:.0f} |")
        print(rows[-1], flush=True)
        tensors = np.array(r["periodic"]["by_size"][0]["tensors"])
        reference = tensors if reference is None else reference
        assert np.abs(tensors - reference).max() < 1e-8, "runs disagree"
    (out / "rve.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
