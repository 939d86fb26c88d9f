"""Vector Maxwell bands (Nédélec, theory.md §11): accuracy, size and time per k-point on a simple cubic crystal.

    .venv/bin/python benchmarks/maxwell_bench.py            # degree 1 and 2 on curved meshes, h from 0.3 down
    .venv/bin/python benchmarks/maxwell_bench.py --quick    # the two coarsest meshes only (a smoke run)

Simple cubic lattice (a = 1) of dielectric spheres ε = 11.56, r = 0.25, in air; the six lowest bands at X and R.
Every run meshes the cell (order 2), builds the problem (entity prolongations, assembly) and solves both k-points
(EPS shift-and-invert, MUMPS, mixed Kikuchi pencil). The error of a run is the largest relative deviation over
the bands at X and R from the finest degree-2 run (the reference, listed last). One process, one core; timings
are disturbed by anything else running on the machine. Writes ``benchmarks/out/maxwell.md`` and ``maxwell.json``.

Scale mode (the largest Nédélec problem in a memory budget, MUMPS block low-rank compression and out-of-core):

    .venv/bin/python benchmarks/maxwell_bench.py --scale --h 0.14 0.1 0.08 --blr 0 1e-8 1e-6 --ranks 1 2
    .venv/bin/python benchmarks/maxwell_bench.py --report          # table and 24 GiB estimate from the JSON
    .venv/bin/python benchmarks/maxwell_bench.py --report --predict --h 0.05   # + predicted peak/time at these h

Each (ranks, h, BLR tolerance) is one fresh process (``mpiexec -n ranks``, so its peak memory is its own): mesh,
build, then one k-point (X, six bands) inside ``mumps_options``. A row per run is printed and appended to
``benchmarks/out/maxwell_scale.json``: N1curl dofs, mixed (Kikuchi) size, seconds per k-point, MUMPS's estimated
and used factorization memory (INFOG(16/36) and INFOG(21), largest rank), factor entries with and without BLR,
the peak resident memory of every rank, the bands and the load average. A run that fails (MUMPS error, a check
of the eigensolver, out of memory, ``--timeout``) is recorded with its error. The estimate fits
MUMPS's memory ∝ N^α plus the rest of the peak linear in N over the three largest runs of each kind (ranks, BLR
tolerance, out-of-core) and solves it for the budget; ``--predict`` evaluates the same fits at planned mesh sizes, so
that a run that would not fit in memory is not started.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import fem_homog  # noqa: E402,F401
from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry, Inclusion  # noqa: E402
from fem_homog.cells.meshing import mesh_cell  # noqa: E402
from fem_homog.core.errors import SolverError  # noqa: E402
from fem_homog.fem.petsc import MumpsOptions, mumps_options  # noqa: E402
from fem_homog.output.results import peak_memory_mb  # noqa: E402
from fem_homog.photonics.materials import Phase, constant  # noqa: E402
from fem_homog.photonics.maxwell import MaxwellBlochProblem  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out"
SCALE_JSON = OUT / "maxwell_scale.json"
MPIEXEC = Path(sys.executable).parent / "mpiexec"
POINTS = {"X": [np.pi, 0.0, 0.0], "R": [np.pi, np.pi, np.pi]}
NUM_BANDS = 6
RUNS = [(1, 0.2), (1, 0.14), (1, 0.1), (1, 0.07), (2, 0.3), (2, 0.2), (2, 0.14), (2, 0.1), (2, 0.07)]


def build(degree: int, h: float) -> tuple[MaxwellBlochProblem, float, float]:
    """The crystal's problem on a curved mesh of size ``h``; with the meshing and set-up seconds."""
    geo = CellGeometry(dim=3, kind="inclusions", inclusions=(Inclusion("sphere", (0.5, 0.5, 0.5), radius=0.25),))
    start = time.perf_counter()
    cell = mesh_cell(geo, h=h, order=2)
    meshed = time.perf_counter()
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(11.56))],
                                            degree=degree)
    return problem, meshed - start, time.perf_counter() - meshed


def run(degree: int, h: float) -> dict:
    problem, mesh_s, setup_s = build(degree, h)
    bands, solve_seconds = {}, []
    for name, k in POINTS.items():
        t = time.perf_counter()
        bands[name] = (problem.solve(k, nev=NUM_BANDS).omegas.real / (2 * np.pi)).tolist()  # units 2πc/a
        solve_seconds.append(time.perf_counter() - t)
    return {"degree": degree, "h": h, "dofs": problem.emap.num_reduced_global,
            "multiplier_dofs": problem.emap_W.num_reduced_global, "mesh_s": mesh_s,
            "setup_s": setup_s, "solve_s_per_k": float(np.mean(solve_seconds)), "bands": bands}


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


def scale_run(args: argparse.Namespace) -> None:
    """One scale row (under ``mpiexec``): mesh, build, one k-point inside ``mumps_options``; appended to the JSON."""
    comm = MPI.COMM_WORLD
    problem, mesh_s, setup_s = build(args.degree, args.h[0])
    n1curl, multipliers = problem.emap.num_reduced_global, problem.emap_W.num_reduced_global
    options = MumpsOptions(blr_tolerance=args.blr[0], out_of_core=args.out_of_core, ooc_tmpdir=args.ooc_dir)
    row = {"run": args.run_id, "degree": args.degree, "h": args.h[0], "ranks": comm.size, **options.to_dict(),
           "n1curl_dofs": n1curl, "mixed_size": n1curl + multipliers, "mesh_s": mesh_s, "setup_s": setup_s}
    start = time.perf_counter()
    try:
        with mumps_options(options) as report:
            omegas = problem.solve(POINTS["X"], nev=NUM_BANDS).omegas.real / (2 * np.pi)
        row.update(bands_X=omegas.tolist(), mumps=report.factorizations[-1].to_dict())
    except SolverError as err:
        row["error"] = str(err)
    row.update(solve_s=time.perf_counter() - start, peak_rss_mb=peak_memory_mb(comm),
               peak_rss_mb_ranks=comm.gather(peak_memory_mb(MPI.COMM_SELF)["max_rank"]), load=os.getloadavg())
    if comm.rank == 0:
        append_row(row, args.json)
        print(json.dumps(row), flush=True)


def append_row(row: dict, path: Path) -> None:
    rows = json.loads(path.read_text()) if path.exists() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([*rows, row], indent=1))


def scale(args: argparse.Namespace) -> None:
    """Every (ranks, h, BLR tolerance) in a fresh process; a row per run, then the table and the estimate."""
    run_id = time.strftime("%Y-%m-%dT%H:%M:%S")
    print("\n".join(scale_table([], []).splitlines()[:2]), flush=True)
    for ranks in args.ranks:
        for h in args.h:
            for blr in args.blr:
                cmd = [str(MPIEXEC), "-n", str(ranks), sys.executable, __file__, "--one", "--run-id", run_id,
                       "--json", str(args.json), "--degree", str(args.degree), "--h", str(h), "--blr", str(blr)]
                if args.out_of_core:
                    cmd += ["--out-of-core"] + (["--ooc-dir", args.ooc_dir] if args.ooc_dir else [])
                failure = None
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                    if proc.returncode != 0:
                        failure = f"exit code {proc.returncode}: {proc.stderr.strip()[-300:]}"
                except subprocess.TimeoutExpired:
                    failure = f"stopped after {args.timeout:.0f} s"
                if failure is not None:
                    append_row({"run": run_id, "degree": args.degree, "h": h, "ranks": ranks, "blr_tolerance": blr,
                                "out_of_core": args.out_of_core, "error": failure, "load": os.getloadavg()},
                               args.json)
                rows = json.loads(args.json.read_text())
                print(scale_table(rows[-1:], rows).splitlines()[-1], flush=True)
    rows = json.loads(args.json.read_text())
    report([r for r in rows if r["run"] == run_id], rows, args.budget_gib)


def full_rank_twin(row: dict, rows: list[dict]) -> dict | None:
    """The other full-rank run of the same size and ranks (latest in ``rows``, the whole JSON; in core preferred,
    else out-of-core: both factorizations are exact), if any."""
    twins = [r for r in rows if (r["ranks"], r["degree"], r["h"]) == (row["ranks"], row["degree"], row["h"])
             and r["blr_tolerance"] == 0 and "bands_X" in r and r is not row]
    twins.sort(key=lambda r: not r["out_of_core"])
    return twins[-1] if twins else None


def scale_table(rows: list[dict], all_rows: list[dict]) -> str:
    lines = ["| ranks | degree | h | N1curl dofs | mixed size | BLR tol | OOC | s per k | MUMPS est. MB/rank | "
             "MUMPS used MB/rank | factor entries BLR/full | peak RSS MiB/rank (sum) | max rel. Δ bands | load |",
             "|" + "---|" * 14]
    for r in rows:
        head = f"| {r['ranks']} | {r['degree']} | {r['h']} | "
        if "mumps" not in r:
            lines.append(head + f"{r.get('n1curl_dofs', '–')} | {r.get('mixed_size', '–')} | {r['blr_tolerance']:g} "
                         f"| {r['out_of_core']} | failed: {r['error'][:120]} |" + " – |" * 5 + f" {r['load'][0]:.1f} |")
            continue
        m, twin = r["mumps"], full_rank_twin(r, all_rows)
        delta = (f"{np.abs(np.array(r['bands_X']) / np.array(twin['bands_X']) - 1).max():.1e}"
                 if twin is not None else "–")
        lines.append(head + f"{r['n1curl_dofs']} | {r['mixed_size']} | {r['blr_tolerance']:g} | {r['out_of_core']} "
                     f"| {r['solve_s']:.1f} | {m['estimated_mb']} | {m['used_mb']} | {m['compression']:.3f} "
                     f"| {r['peak_rss_mb']['max_rank']:.0f} ({r['peak_rss_mb']['total']:.0f}) | {delta} "
                     f"| {r['load'][0]:.1f} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class ScaleFit:
    """Peak memory and time of one run kind (ranks, BLR tolerance, out-of-core) as functions of the mixed size N,
    fitted over its three largest successful runs: MUMPS's factorization memory summed over ranks (INFOG(22), in
    MiB) as c N^α, the rest of the peak RSS (libraries, mesh, matrices, Krylov basis) as a + b N, the time as
    t N^γ."""

    kind: tuple[int, float, bool]
    sizes: tuple[int, ...]
    alpha: float
    log_c: float
    rest_mb: float
    rest_mb_per_dof: float
    gamma: float
    log_t: float

    @classmethod
    def from_runs(cls, kind: tuple[int, float, bool], runs: list[dict]) -> "ScaleFit":
        N = np.array([r["mixed_size"] for r in runs], dtype=float)
        factor = np.array([r["mumps"]["used_mb_total"] for r in runs], dtype=float) * 1e6 / 2**20  # MB → MiB
        alpha, log_c = np.polyfit(np.log(N), np.log(factor), 1)
        slope, base = np.polyfit(N, [r["peak_rss_mb"]["total"] for r in runs] - factor, 1)
        gamma, log_t = np.polyfit(np.log(N), np.log([r["solve_s"] for r in runs]), 1)
        return cls(kind, tuple(int(n) for n in N), alpha, log_c, base, slope, gamma, log_t)

    def mumps_mib(self, n: float) -> float:
        return float(np.exp(self.log_c) * n**self.alpha)

    def peak_mb(self, n: float) -> float:
        """Predicted peak RSS summed over ranks (MiB) at mixed size ``n``."""
        return self.mumps_mib(n) + self.rest_mb + self.rest_mb_per_dof * n

    def seconds(self, n: float) -> float:
        return float(np.exp(self.log_t) * n**self.gamma)

    def describe(self) -> str:
        ranks, blr, ooc = self.kind
        return (f"ranks {ranks}, BLR {blr:g}, OOC {ooc}: MUMPS memory ∝ N^{self.alpha:.2f}, rest "
                f"{self.rest_mb:.0f} + {self.rest_mb_per_dof * 1e3:.2f}/1000 dofs MiB, time ∝ N^{self.gamma:.2f} "
                f"(N = {', '.join(map(str, self.sizes))})")


def scale_fits(rows: list[dict]) -> tuple[list[ScaleFit], tuple[float, float] | None]:
    """A :class:`ScaleFit` per run kind with two sizes or more, and (β, log c) of N = c h^β fitted over the three
    finest meshes (None with fewer than two)."""
    ok = [r for r in rows if "mumps" in r]
    finest = sorted({(r["h"], r["mixed_size"]) for r in ok})[:3]
    mesh_fit = tuple(np.polyfit(*np.log(np.array(finest)).T, 1)) if len(finest) >= 2 else None
    fits = []
    for kind in sorted({(r["ranks"], r["blr_tolerance"], r["out_of_core"]) for r in ok}):
        runs = sorted((r for r in ok if (r["ranks"], r["blr_tolerance"], r["out_of_core"]) == kind),
                      key=lambda r: r["mixed_size"])[-3:]
        if len({r["mixed_size"] for r in runs}) >= 2:
            fits.append(ScaleFit.from_runs(kind, runs))
    return fits, mesh_fit


def budget_estimate(rows: list[dict], budget_gib: float) -> list[str]:
    """Per run kind (:class:`ScaleFit`): the mixed size N at which the predicted peak RSS reaches the budget, its
    h from N ∝ h^β, and the predicted seconds per k-point."""
    fits, mesh_fit = scale_fits(rows)
    if mesh_fit is None:
        return ["(the estimate needs successful runs at two sizes or more)"]
    beta, logc = mesh_fit
    lines = []
    for fit in fits:
        def excess(log_n: float, fit: ScaleFit = fit) -> float:
            return fit.peak_mb(np.exp(log_n)) - budget_gib * 1024

        if excess(np.log(fit.sizes[-1])) > 0 or excess(np.log(1e9)) < 0:
            continue
        n_max = np.exp(brentq(excess, np.log(fit.sizes[-1]), np.log(1e9)))
        lines.append(f"{fit.describe()}: {budget_gib:g} GiB at N ≈ {n_max:.3g} (h ≈ "
                     f"{np.exp((np.log(n_max) - logc) / beta):.3g}), ≈ {fit.seconds(n_max):.3g} s per k")
    return lines


def predictions(rows: list[dict], hs: list[float]) -> list[str]:
    """Predicted mixed size, peak RSS summed over ranks and seconds per k-point of every run kind at the mesh
    sizes ``hs``: check a planned run against the memory limit before launching it."""
    fits, mesh_fit = scale_fits(rows)
    if mesh_fit is None:
        return []
    beta, logc = mesh_fit
    lines = []
    for h in hs:
        n = float(np.exp(logc) * h**beta)
        lines += [f"h = {h:g} (N ≈ {n:.3g}), ranks {fit.kind[0]}, BLR {fit.kind[1]:g}, OOC {fit.kind[2]}: peak "
                  f"≈ {fit.peak_mb(n) / 1024:.1f} GiB (MUMPS {fit.mumps_mib(n) / 1024:.1f}), ≈ {fit.seconds(n):.0f} "
                  f"s per k" for fit in fits]
    return lines


def report(rows: list[dict], all_rows: list[dict], budget_gib: float, hs: list[float] | None = None) -> None:
    print(scale_table(rows, all_rows))
    print(f"\nN ∝ h^β from the three finest meshes; budget {budget_gib:g} GiB of peak RSS summed over ranks:")
    print("\n".join(budget_estimate(rows, budget_gib)))
    if hs:
        print("\nPredicted at the planned mesh sizes (peak RSS summed over ranks):")
        print("\n".join(predictions(rows, hs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only h = 0.3 for degrees 1 and 2")
    parser.add_argument("--scale", action="store_true", help="memory/time scaling with MUMPS options (see above)")
    parser.add_argument("--report", action="store_true", help="table and estimate from the scale JSON")
    parser.add_argument("--predict", action="store_true",
                        help="report: also the predicted peak memory and time of each run kind at --h")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # one scale row (under mpiexec)
    parser.add_argument("--run-id", default="", help=argparse.SUPPRESS)
    parser.add_argument("--h", type=float, nargs="+", default=[0.14, 0.1], help="scale: mesh sizes")
    parser.add_argument("--degree", type=int, default=2, help="scale: Nédélec degree")
    parser.add_argument("--blr", type=float, nargs="+", default=[0.0, 1e-8], help="scale: BLR tolerances (0: off)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="scale: MPI ranks")
    parser.add_argument("--out-of-core", action="store_true", help="scale: MUMPS factors on disk")
    parser.add_argument("--ooc-dir", default=None, help="scale: directory of the out-of-core files")
    parser.add_argument("--timeout", type=float, default=3600.0, help="scale: seconds before a run is stopped")
    parser.add_argument("--json", type=Path, default=SCALE_JSON, help="scale: the JSON the rows are appended to")
    parser.add_argument("--budget-gib", type=float, default=24.0, help="scale: memory budget of the estimate")
    args = parser.parse_args()
    if args.one:
        scale_run(args)
    elif args.scale:
        scale(args)
    elif args.report:
        rows = json.loads(args.json.read_text())
        report(rows, rows, args.budget_gib, args.h if args.predict else None)
    else:
        runs = [(1, 0.3), (2, 0.3)] if args.quick else RUNS
        results = [run(degree, h) for degree, h in runs]
        OUT.mkdir(parents=True, exist_ok=True)
        text = table(results)
        (OUT / "maxwell.md").write_text(text)
        (OUT / "maxwell.json").write_text(json.dumps(results, indent=1))
        print(text)


if __name__ == "__main__":
    main()
