"""Benchmark of the Stokes→Darcy permeability driver on 3D sphere cells: MUMPS against MINRES + fieldsplit.

    .venv/bin/python benchmarks/darcy_bench.py [--cases S-mumps S-fieldsplit M-fieldsplit ...] [--ranks 1 2]
                                               [--timeout 180]

Each case runs ``drivers/permeability.py`` under ``mpiexec -n N`` (fields and plots off) on a simple cubic array
of spheres (radius 0.2, Taylor–Hood P2/P1 on a curved mesh). The table of dofs (Taylor–Hood on the whole cell,
and the periodic fluid unknowns solved for), iterations, seconds per stage, wall time, peak memory and K_11 is
printed in Markdown and saved with the raw results under ``benchmarks/out/``. A run that exceeds ``--timeout``
seconds is stopped and reported as such. Form compilation is done beforehand by a coarse warm-up run.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"

SIZES = {"S": 0.1, "M": 0.06, "L": 0.045, "XL": 0.033}  # mesh.h: about 24k, 95k, 220k, 570k dofs
CASES = {f"{size}-{method}": [f"mesh.h={h}", f'solver.method="{method}"']
         for size, h in SIZES.items() for method in ("mumps", "fieldsplit")}
COMMON = ["cell.dim=3", 'cell.shape="sphere"', "cell.radius=0.2", "mesh.order=2", "solver.rtol=1e-8",
          "output.plot=false", "output.fields=false"]
STAGES = ["mesh", "topology", "assemble", "prolongation", "setup", "solve", "postprocess"]


def command(settings: list[str], out: Path, ranks: int) -> list[str]:
    args = [a for item in [*COMMON, *settings] for a in ("--set", item)]
    return [str(MPIEXEC), "-n", str(ranks), sys.executable, str(ROOT / "drivers" / "permeability.py"), *args,
            "--out", str(out)]


def warm_up(out: Path) -> None:
    """Compile the 3D forms once on a coarse mesh, so that the timed runs do not include JIT."""
    subprocess.run(command(["mesh.h=0.3"], out, 1), check=True, cwd=ROOT, capture_output=True)


def run_case(name: str, ranks: int, out: Path, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        subprocess.run(command(CASES[name], out, ranks), check=True, cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": name, "ranks": ranks, "wall": time.perf_counter() - start, "timeout": True}
    wall = time.perf_counter() - start
    return {"case": name, "ranks": ranks, "wall": wall, **json.loads((out / "results.json").read_text())}


def markdown(rows: list[dict]) -> str:
    head = ["case", "ranks", "dofs", "fluid unknowns", "iterations", *STAGES, "wall [s]", "peak MiB/rank",
            "K_11"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.get("timeout"):
            lines.append("| " + " | ".join([r["case"], str(r["ranks"])] + ["–"] * (len(head) - 5) +
                                           [f"> {r['wall']:.0f} (stopped)", "–", "–"]) + " |")
            continue
        lines.append("| " + " | ".join([
            r["case"], str(r["ranks"]), str(r["dofs"]), str(r["reduced_dofs"]), str(r["iterations"]),
            *[f"{r['timings'].get(s, 0.0):.2f}" for s in STAGES], f"{r['wall']:.1f}",
            f"{r['peak_memory_mb']['max_rank']:.0f}", f"{r['K'][0][0]:.6f}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["S-mumps", "S-fieldsplit", "M-fieldsplit"],
                        choices=list(CASES))
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before a run is stopped")
    args = parser.parse_args()
    out_root = ROOT / "benchmarks" / "out"
    warm_up(out_root / "warm-up")
    rows = []
    for name in args.cases:
        for ranks in args.ranks:
            print(f"running {name} on {ranks} rank(s) ...", flush=True)
            rows.append(run_case(name, ranks, out_root / f"darcy-{name}-n{ranks}", args.timeout))
    table = markdown(rows)
    print(table)
    (out_root / "darcy.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
