"""Seconds for one HFH tensor (eigenpair + d corrector solves) on a 2D cell (~20k dofs, lossy Drude rods, PEP)
and 3D cells (dielectric spheres, EPS: P2 ~50k dofs, P1 ~200k dofs), at -n 1 and -n 2.

    .venv/bin/python benchmarks/hfh_bench.py [--cases 2d 3d-P2 3d-P1] [--ranks 1 2]

Runs ``drivers/hfh.py`` (asymptotic check and plots off) under ``mpiexec``; reports dofs, the seconds of the
HFH stage (eigen solve, bordered corrector solves, tensors) and of mesh + set-up, the wall time and the peak
memory per rank, as a Markdown table (benchmarks/out/hfh.md). A coarse warm-up run compiles the forms first.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
CASES = {
    "2d": ["--config", "drivers/configs/hfh_drude_square_rods_tm.toml", "--set", "mesh.h=0.015",
           "--set", "hfh.target=0.56"],
    "3d-P2": ["--set", "cell.dim=3", "--set", 'cell.shape="sphere"', "--set", "cell.radius=0.25",
              "--set", "mesh.h=0.05"],
    "3d-P1": ["--set", "cell.dim=3", "--set", 'cell.shape="sphere"', "--set", "cell.radius=0.25",
              "--set", "mesh.h=0.015", "--set", "mesh.order=1", "--set", "fe.degree=1"],
}
QUIET = ["--set", "hfh.check_points=0", "--set", 'hfh.path=""', "--set", "output.plot=false"]


def run(case: str, ranks: int, out: Path, extra: list[str] = ()) -> dict:
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(ROOT / "drivers" / "hfh.py"), *CASES[case],
           *QUIET, *extra, "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return {"wall": time.perf_counter() - start, **json.loads((out / "results.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    rows = ["| case | ranks | dofs | case found | mesh + set-up [s] | HFH tensor [s] | wall [s] | peak MiB/rank |",
            "|---|---|---|---|---|---|---|---|"]
    for case in args.cases:
        run(case, 1, out / f"hfh-{case}-warmup", ["--set", "mesh.h=0.2"])
        for ranks in args.ranks:
            r = run(case, ranks, out / f"hfh-{case}-n{ranks}")
            t = r["timings"]
            rows.append(f"| {case} | {ranks} | {r['dofs']} | {r['case']} | {t['mesh_and_setup']:.1f} | {t['hfh']:.1f} "
                        f"| {r['wall']:.1f} | {r['memory_mb']['max_rank']:.0f} |")
            print(rows[-1], flush=True)
    (out / "hfh.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
