"""Benchmark of the effective-tensor pipeline: end-to-end driver runs at -n 1 and -n 2.

    .venv/bin/python benchmarks/effective_tensor_bench.py [--cases circle2d sphere3d ...] [--ranks 1 2]

Each case runs ``drivers/effective_tensor.py`` under ``mpiexec -n N`` (fields and plots off) and the table of
dofs, iterations, seconds per stage, wall time and peak memory is printed in Markdown (for benchmarks/README.md)
and saved with the raw results under ``benchmarks/out/``. Wall time is the whole process: start-up, imports,
meshing, solve, output; form compilation is done beforehand by a warm-up run on a coarse mesh, so it is not timed.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"

CASES = {
    "circle2d-P2-curved": ["cell.dim=2", 'cell.shape="circle"', "cell.radius=0.3", "mesh.h=0.01", "mesh.order=2",
                           "fe.degree=2"],
    "circle2d-P1-refined": ["cell.dim=2", 'cell.shape="circle"', "cell.radius=0.3", "mesh.h=0.02",
                            "mesh.order=1", "mesh.refine=2", "fe.degree=1"],
    "sphere3d-P2-curved": ["cell.dim=3", 'cell.shape="sphere"', "cell.radius=0.3", "mesh.h=0.03",
                           "mesh.order=2", "fe.degree=2"],
    "sphere3d-P1-1M": ["cell.dim=3", 'cell.shape="sphere"', "cell.radius=0.3", "mesh.h=0.035", "mesh.order=1",
                       "mesh.refine=2", "fe.degree=1"],
    "sphere3d-elasticity-P2": ["cell.dim=3", 'cell.shape="sphere"', "cell.radius=0.3", "mesh.h=0.06",
                               "mesh.order=2", "fe.degree=2", 'physics.problem="elasticity"'],
}
STAGES = ["mesh", "assemble", "prolongation", "setup", "solve", "postprocess"]


def warm_up(name: str, out: Path) -> None:
    """Run the case once on a coarse mesh so that form compilation (JIT) is cached and not timed."""
    coarse = [*CASES[name], "mesh.h=0.3", "mesh.refine=0"]
    args = [a for item in coarse for a in ("--set", item)]
    subprocess.run([sys.executable, str(ROOT / "drivers" / "effective_tensor.py"), *args, "--set",
                    "output.plot=false", "--set", "output.fields=false", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)


def run_case(name: str, ranks: int, out: Path) -> dict:
    args = [a for item in CASES[name] for a in ("--set", item)]
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(ROOT / "drivers" / "effective_tensor.py"),
           *args, "--set", "output.plot=false", "--set", "output.fields=false", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    result = json.loads((out / "results.json").read_text())
    return {"case": name, "ranks": ranks, "wall": wall, **result}


def markdown(rows: list[dict]) -> str:
    head = ["case", "ranks", "cells", "dofs", "iterations", *STAGES, "wall [s]", "peak MiB/rank", "A_hom_11"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        tensor = r.get("A_hom") or r.get("C_hom")
        lines.append("| " + " | ".join([
            r["case"], str(r["ranks"]), str(r["mesh_cells"]), str(r["dofs"]), str(r["iterations"]),
            *[f"{r['timings'].get(s, 0.0):.2f}" for s in STAGES], f"{r['wall']:.1f}",
            f"{r['peak_memory_mb']['max_rank']:.0f}", f"{tensor[0][0]:.8f}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args()
    out_root = ROOT / "benchmarks" / "out"
    rows = []
    for name in args.cases:
        warm_up(name, out_root / "warm-up")
        for ranks in args.ranks:
            print(f"running {name} on {ranks} rank(s) ...", flush=True)
            rows.append(run_case(name, ranks, out_root / f"{name}-n{ranks}"))
    table = markdown(rows)
    (out_root / "effective_tensor.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
