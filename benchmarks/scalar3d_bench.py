"""Scalar 3D Bloch bands at scale: the iterative eigensolver (GD + GAMG, no factorization) against sparse direct.

    .venv/bin/python benchmarks/scalar3d_bench.py --cases p2-44k --solvers iterative direct --ranks 1 2
    PETSC_OPTIONS="-matptap_via allatonce" \
        .venv/bin/python benchmarks/scalar3d_bench.py --cases p1-1M --solvers iterative --ranks 2   # 1.07M dofs
    .venv/bin/python benchmarks/scalar3d_bench.py --cases p2-44k --hfh --ranks 2             # one HFH tensor
    .venv/bin/python benchmarks/scalar3d_bench.py --table                                     # the tables only

Simple cubic cell (a = 1) with a dielectric sphere ε = 11.56, r = 0.3, in air (TM, μ_r = 1); the six lowest bands
at X = (π, 0, 0), tolerance 1e-10 (with ``--hfh``: the HFH tensor of band 1 at X, theory.md §8.2, whose three
corrector solves are bordered systems: MUMPS, or GMRES + GAMG for the iterative solver). Each row is one process
group ``mpiexec -n N python scalar3d_bench.py --worker ...`` for one case and one solver
(``BlochProblem(..., solver=...)``, theory.md §5), so that its peak resident memory is its own (the high-water mark
of the largest rank after each stage is kept too): seconds to mesh, to build the problem (spaces, prolongation,
mass matrices) and to solve (stiffness assembly at X included); the eigensolver's outer iterations (SLEPc, from
``-..._eps_converged_reason``), the GMRES iterations of the bordered solves, the preconditioner applications (GAMG
V-cycles for the iterative solver, MUMPS solves for the direct one) and the peak RSS of the largest rank. Rows are
appended to ``benchmarks/out/scalar3d.json`` and printed as Markdown table rows (load: the 1-min load average at
the start and at the end of the run); the last column is the largest
deviation of the bands (or of T, relative to its largest entry) from the direct row of the same case (if there is
one); ``PETSC_OPTIONS`` is recorded with each row (``-matptap_via allatonce`` lowers the parallel peak memory of the
reductions ``P^T A P`` by 20–30 %). Timings are disturbed by anything else running on the machine.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "scalar3d.json"
MPIEXEC = Path(sys.executable).parent / "mpiexec"
CASES = {  # mesh.h, geometry order, uniform refinements, Lagrange degree
    "p2-44k": (0.05, 2, 0, 2),
    "p2-100k": (0.04, 2, 0, 2),
    "p2-210k": (0.03, 2, 0, 2),
    "p1-135k": (0.035, 1, 1, 1),
    "p1-370k": (0.05, 1, 2, 1),
    "p1-720k": (0.04, 1, 2, 1),
    "p1-1M": (0.035, 1, 2, 1),
    "p2-1M": (0.035, 1, 1, 2),
}
EPS_INCLUSION, RADIUS, NUM_BANDS, TOL = 11.56, 0.3, 6, 1e-10
PREFIX = {"direct": "bloch_", "iterative": "bloch_iterative_"}


def worker(case: str, solver: str, quantity: str) -> None:
    """One measurement in this process group; prints one JSON line on rank 0."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import resource

    from mpi4py import MPI

    import fem_homog  # noqa: F401
    from fem_homog.cells.geometry import INCLUSION, MATRIX
    from fem_homog.cells.meshing import mesh_cell
    from fem_homog.cli.cells import geometry_from_config
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.hfh import Selection, hfh_at_point
    from fem_homog.photonics.materials import Phase, constant

    from petsc4py import PETSc

    h, order, refine, degree = CASES[case]
    geo = geometry_from_config({"dim": 3, "shape": "sphere", "radius": RADIUS})
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(EPS_INCLUSION))]
    k = [np.pi, 0.0, 0.0]

    def measure(problem: BlochProblem) -> dict:
        if quantity == "hfh":  # the first band at X: eigenpair and three bordered corrector solves
            result = hfh_at_point(problem, k, Selection(band=1))
            return {"omega0": result.omegas[0].real / (2 * np.pi), "T": np.real(result.T).tolist()}
        solution = problem.eigenpairs(k, problem.stiffness(k), problem.mass, nev=NUM_BANDS, tol=TOL)
        return {"bands": (solution.omegas.real[:NUM_BANDS] / (2 * np.pi)).tolist(),
                "max_residual": max(p.residual for p in solution.pairs)}

    measure(BlochProblem(mesh_cell(geo, h=0.25, order=order), phases, degree=degree, solver=solver))  # JIT
    comm = MPI.COMM_WORLD
    comm.barrier()
    t, peaks = [time.perf_counter()], []

    def stage_done() -> None:
        t.append(time.perf_counter())
        peaks.append(comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, op=MPI.MAX))

    cell = mesh_cell(geo, h=h, order=order, refine=refine)
    stage_done()
    problem = BlochProblem(cell, phases, degree=degree, solver=solver)
    stage_done()
    PETSc.Log.begin()
    pc_apply = PETSc.Log.Event("PCApply")
    before = pc_apply.getPerfInfo()["count"]
    values = measure(problem)
    stage_done()
    applications = pc_apply.getPerfInfo()["count"] - before
    if comm.rank == 0:
        print("RESULT " + json.dumps({
            "case": case, "solver": solver, "quantity": quantity, "ranks": comm.size, "h": h, "order": order,
            "refine": refine, "degree": degree, "dofs": problem.mass[0].getSize()[0], "mesh_s": t[1] - t[0],
            "setup_s": t[2] - t[1], "solve_s": t[3] - t[2], "pc_applications": int(applications),
            "peak_mib_max_rank": peaks[-1], "peak_mib_after_mesh_setup_solve": peaks, **values}), flush=True)


def run(case: str, solver: str, ranks: int, quantity: str) -> dict:
    """Launch one worker under ``mpiexec -n ranks``; its row with the iteration counts and the load average."""
    reasons = f"-{PREFIX[solver]}eps_converged_reason -bordered_ksp_converged_reason"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PETSC_OPTIONS": f"{os.environ.get('PETSC_OPTIONS', '')} {reasons}"}
    start, load = time.perf_counter(), os.getloadavg()[0]
    proc = subprocess.run([str(MPIEXEC), "-n", str(ranks), sys.executable, __file__, "--worker", case, solver,
                           quantity], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{case} {solver} -n {ranks} failed:\n{proc.stderr[-3000:]}")
    row = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    eigen = re.findall(r"eigensolve converged.* iterations (\d+)", proc.stdout)
    bordered = re.findall(r"bordered_ solve converged.* iterations (\d+)", proc.stdout)
    measured = bordered[len(bordered) // 2:]  # the warm-up run made the same solves first
    row.update(outer_iterations=int(eigen[-1]) if eigen else None, bordered_iterations=[int(n) for n in measured],
               wall_s=time.perf_counter() - start, load_before=load, load_after=os.getloadavg()[0],
               petsc_options=os.environ.get("PETSC_OPTIONS", ""))
    return row


def _deviation(values: list, reference: list | None) -> str:
    if reference is None:
        return "–"
    a, b = np.ravel(values), np.ravel(reference)
    return f"{np.abs(a - b).max() / np.abs(b).max():.0e}"


def _load(row: dict) -> str:
    """The 1-min load average at the start of the row's run, and at its end (rows since session 6)."""
    after = row.get("load_after")
    return f"{row['load_before']:.1f}" + ("" if after is None else f"–{after:.1f}")


def markdown(rows: list[dict], quantity: str) -> str:
    """The rows of one quantity as a Markdown table; the last column against the direct row of the same case."""
    key = "T" if quantity == "hfh" else "bands"
    result = "Ω0 (2πc/a), diag T" if quantity == "hfh" else "bands at X (2πc/a)"
    head = ["case", "solver", "ranks", "dofs", "mesh s", "setup s", "solve s", "eigen its",
            *(["bordered GMRES its"] if quantity == "hfh" else []), "PC applications", "peak MiB/rank", "load",
            result, "vs direct"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = [r for r in rows if r.get("quantity", "bands") == quantity]
    direct = {r["case"]: r[key] for r in rows if r["solver"] == "direct"}
    for r in rows:
        name = r["case"] + (f" `{r['petsc_options'].strip()}`" if r.get("petsc_options", "").strip() else "")
        shown = ([f"{r['omega0']:.6f}", *(f"{r['T'][i][i]:.6f}" for i in range(3))] if quantity == "hfh"
                 else [f"{b:.5f}" for b in r["bands"]])
        lines.append("| " + " | ".join([
            name, r["solver"], str(r["ranks"]), str(r["dofs"]), f"{r['mesh_s']:.1f}", f"{r['setup_s']:.1f}",
            f"{r['solve_s'] + r.get('assemble_s', 0.0):.1f}", str(r["outer_iterations"]),
            *([", ".join(map(str, r["bordered_iterations"]))] if quantity == "hfh" else []),
            str(r["pc_applications"]), f"{r['peak_mib_max_rank']:.0f}", _load(r), " ".join(shown),
            _deviation(r[key], direct.get(r["case"]))]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["p2-44k"], choices=list(CASES))
    parser.add_argument("--solvers", nargs="+", default=["iterative", "direct"], choices=list(PREFIX))
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--hfh", action="store_true", help="the HFH tensor of band 1 at X instead of six bands")
    parser.add_argument("--table", action="store_true", help="print the tables of the stored rows and stop")
    parser.add_argument("--worker", nargs=3, metavar=("CASE", "SOLVER", "QUANTITY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    quantity = "hfh" if args.hfh else "bands"
    rows = json.loads(OUT.read_text()) if OUT.exists() else []
    if not args.table:
        for case in args.cases:
            for solver in args.solvers:
                for ranks in args.ranks:
                    print(f"running {case} {solver} {quantity} on {ranks} rank(s) ...", flush=True)
                    rows.append(run(case, solver, ranks, quantity))
                    OUT.parent.mkdir(parents=True, exist_ok=True)
                    OUT.write_text(json.dumps(rows, indent=1))
                    print(markdown(rows[-1:], quantity).splitlines()[-1], flush=True)
    for name in ("bands", "hfh"):
        print(markdown(rows, name) + "\n")


if __name__ == "__main__":
    main()
