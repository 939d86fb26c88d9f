"""Benchmark of the finite-crystal solvers: a 14×14 crystal of Drude rods (full wave, P2) vs the HFH envelope.

    .venv/bin/python benchmarks/crystal_bench.py [--ranks 1 2] [--n 14] [--h 0.05]

Each rank count runs this script's worker under ``mpiexec -n N``: the crystal (circular rods r = 0.2a, Drude
ε∞ = 1, ω_p a/2πc = 1, γ a/2πc = 0.02, in vacuum) is tiled from one curved periodic cell mesh of size ``h``
(:func:`fem_homog.cells.crystal_mesh.tile_crystal`: the rods and the skin depth 1/(Ω√|ε|) ≈ 0.17a are resolved with
P2 at h = 0.05), a line source at the centre is driven at a/λ = 0.4 (TM) and solved by MUMPS; then the envelope
equation with a hyperbolic T on the same domain without microstructure (P2, h = 0.25). Forms are compiled by a
warm-up run on a 3×3 crystal first, so JIT time is not counted. The Markdown table is printed and saved with the
raw results under ``benchmarks/out/``.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
FREQUENCY = 0.4


def worker(n: int, h: float, out: Path) -> None:
    """Mesh, solve the full wave and the envelope; write ``out/results.json`` (rank 0)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from mpi4py import MPI

    import fem_homog  # noqa: F401
    from fem_homog.cells.crystal_mesh import mesh_box, tile_crystal
    from fem_homog.cells.geometry import INCLUSION, MATRIX
    from fem_homog.cli.cells import geometry_from_config
    from fem_homog.core.units import to_omega
    from fem_homog.output.results import peak_memory_mb, write_results
    from fem_homog.photonics import crystal, materials
    from fem_homog.photonics.helmholtz import PointSource

    comm = MPI.COMM_WORLD
    omega = float(to_omega(FREQUENCY))
    centre = (n / 2, n / 2)
    start = time.perf_counter()
    cm = tile_crystal(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), (n, n), margin=1.0,
                      pml_width=1.0, h=h, order=2, comm=comm)
    mesh_seconds = time.perf_counter() - start
    rods = materials.drude(1.0, 2 * math.pi, 2 * math.pi * 0.02)
    full = crystal.solve_full_wave(cm, omega, PointSource(centre), phases=[
        materials.Phase(MATRIX, materials.constant(1.0)), materials.Phase(INCLUSION, rods)])
    full_seconds = time.perf_counter() - start
    memory = peak_memory_mb(comm)

    start = time.perf_counter()
    box = mesh_box(cm.lower, cm.upper, pml_width=cm.pml_width, h=0.25, source=centre, h_source=0.05, comm=comm)
    envelope = crystal.solve_envelope(box, np.diag([0.5, -0.4]), 0.3 + 0.05j, PointSource(centre))
    envelope_seconds = time.perf_counter() - start
    results = {"n": n, "h": h, "ranks": comm.size, "mesh_cells": cm.mesh.topology.index_map(2).size_global,
               "dofs": full.dofs, "mesh": mesh_seconds, **full.timings, "full_wave": full_seconds,
               "peak_memory_mb": memory, "envelope_dofs": envelope.dofs, "envelope": envelope_seconds,
               "envelope_timings": envelope.timings, "ratio": full_seconds / envelope_seconds}
    out.mkdir(parents=True, exist_ok=True)
    write_results(out, results, comm)


def run(ranks: int, n: int, h: float, out: Path) -> dict:
    cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, __file__, "--worker", "--n", str(n), "--h", str(h),
           "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    return {**json.loads((out / "results.json").read_text()), "wall": time.perf_counter() - start}


def markdown(rows: list[dict]) -> str:
    head = ["crystal", "ranks", "cells", "dofs", "mesh [s]", "assemble [s]", "solve [s]", "full wave [s]",
            "wall [s]", "peak MiB/rank (total)", "envelope dofs", "envelope [s]", "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([
            f"{r['n']}×{r['n']}, h = {r['h']}", str(r["ranks"]), str(r["mesh_cells"]), str(r["dofs"]),
            f"{r['mesh']:.1f}", f"{r['assemble']:.1f}", f"{r['solve']:.1f}", f"{r['full_wave']:.1f}",
            f"{r['wall']:.1f}", f"{r['peak_memory_mb']['max_rank']:.0f} ({r['peak_memory_mb']['total']:.0f})",
            str(r["envelope_dofs"]), f"{r['envelope']:.2f}", f"{r['ratio']:.0f}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--n", type=int, default=14)
    parser.add_argument("--h", type=float, default=0.05)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.n, args.h, args.out)
        return
    out_root = ROOT / "benchmarks" / "out"
    run(1, 3, 0.1, out_root / "crystal-warm-up")
    rows = []
    for ranks in args.ranks:
        print(f"running {args.n}x{args.n} on {ranks} rank(s) ...", flush=True)
        rows.append(run(ranks, args.n, args.h, out_root / f"crystal-{args.n}x{args.n}-n{ranks}"))
    table = markdown(rows)
    print(table)
    (out_root / "crystal.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
