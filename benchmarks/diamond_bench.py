"""Our vector Maxwell solver and MPB side by side, same machine, same k-points (issue 13 "Measure"): accuracy of the
band frequencies and of the complete-gap edges against resolution, and the time per k-point each code needs to
reach a relative accuracy of 1e-3 and 1e-4.

    make mpb                                                   # Debian's MPB, once
    .venv/bin/python benchmarks/diamond_bench.py --help
    .venv/bin/python benchmarks/diamond_bench.py --quick       # smoke run (< 1 min): one size each, L and P only
    .venv/bin/python benchmarks/diamond_bench.py               # diamond, the default sequences below (~45 min)
    .venv/bin/python benchmarks/diamond_bench.py --points LP --resolutions --out diamond_graded \
        --ours 2:0.2:0.05 2:0.2:0.035 2:0.15:0.025 2:0.15:0.018  # ours only, meshes graded at the intersections
    .venv/bin/python benchmarks/diamond_bench.py --analyse benchmarks/out/diamond.json \
        benchmarks/out/diamond_graded.json --out diamond_all  # no solving: both outputs analysed together
    .venv/bin/python benchmarks/diamond_bench.py --crystal simple_cubic --ours 2:0.14 2:0.1 2:0.07 --resolutions 32 64
    OMP_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python benchmarks/diamond_bench.py --points LP \
        --resolutions --out diamond_sg_g --ours 2:0.09:0.0025:0.3:0.6667 --out-of-core /work/scratch_ooc2
        # one power-law graded mesh (q = 2/3, reach 0.3) on 2 ranks, MUMPS factors on disk

Crystals (cubic constant a = 1, ε = 11.56 spheres of radius 0.25 in air):

* ``diamond`` – MPB's diamond example: fcc lattice, two spheres at ±(1/8, 1/8, 1/8) (they overlap). Bands 1–6 at
  X, L, W, K and at P = W + 3/8 (K − W) = 2π(0.59375, 0.90625, 0). The complete gap lies between bands 2 and 3:
  its lower edge is the maximum of band 2, on the W–K edge of the zone (found with MPB over the whole path and the
  hexagonal and square faces; along W–K it is so flat that ω₂(P) is within 2e-6 of it, t ≈ 0.36 at res 32), its
  upper edge the minimum of band 3, at L. The "gap edges" measured here are ω₂(P) and ω₃(L).
* ``simple_cubic`` – one sphere per cubic cell: bands 1–6 at X, M, R (no complete gap among them); the accuracy
  measured is the largest relative error over those bands.

Ours: ``MaxwellBlochProblem`` (theory.md §11; Nédélec of the first kind, degree 1 or 2, on curved order-2 meshes,
mixed Kikuchi pencil, EPS shift-and-invert with MUMPS), each ``DEGREE:H`` of ``--ours`` one mesh, ``DEGREE:H:HMIN``
one graded towards the circles where the spheres intersect (``mesh_crystal(h_min=HMIN, grade_reach=0.15)``, linear
growth from HMIN to H: the field is singular there and limits quasi-uniform meshes to O(h^1.37)),
``DEGREE:H:HMIN:REACH:POWER`` one with ``grade_reach=REACH, grade_power=POWER`` (theory.md §11.4). Under
``mpiexec -n 2`` our runs are distributed (CPU time and peak memory summed over the ranks; MPB refused);
``--out-of-core DIR`` puts MUMPS's factors on disk. MPB: each
``--resolutions`` entry one run over the same k-points (``benchmarks/mpb/*.ctl`` with ``kpoints=...``). The runs
alternate (ours, MPB, ours, ...) in order of the lists so that both see a similar machine load; each run records the
1-minute load average. Times: ours "s/k" is the eigensolve per k-point (mesh and setup are listed apart: they are
paid once per band diagram), MPB's is its whole run divided by the number of k-points. CPU time is the measure used
for the time to accuracy (the machine may be shared); wall time is recorded too, and ours "peak GB" (the process's
peak resident memory so far: list our runs from small to large).

Reference values, per k-point: extrapolated from our degree-2 runs — from a power-law graded family (one reach and
power, at least four runs over two h and two h_min) as ω = ω∞ + a h^4 + b h_min^s (:func:`split_extrapolation`),
else from the linearly graded runs when there are three or more, else the quasi-uniform ones, as
ω(N) = ω∞ + c N^(−p/3) with N the N1curl dofs, fitted by least squares to the five finest runs with one order p
for all bands of the point (the observed order in [0.5, 4], not assumed) — and from MPB's runs the same way
(ω∞ + c res^(−p); also reported at p = 2λ). The reference is the mean of the two; its relative uncertainty is the
largest of half their difference and each fit's sensitivity to its orders. The time to an accuracy is
interpolated (log-log) between the two runs that bracket it, or extrapolated from the two finest (marked). Writes
``benchmarks/out/<name>.json`` (``--out``; default the crystal's name) and prints the tables. One process per code,
``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import fem_homog  # noqa: E402,F401
from fem_homog.cells.crystal3d import CrystalGeometry, mesh_crystal  # noqa: E402
from fem_homog.cells.geometry import INCLUSION, MATRIX  # noqa: E402
from fem_homog.cells.lattice import high_symmetry_points  # noqa: E402
from fem_homog.fem.petsc import MumpsOptions, mumps_options  # noqa: E402
from fem_homog.photonics.materials import Phase, constant  # noqa: E402
from fem_homog.photonics.maxwell import MaxwellBlochProblem  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
EPS, RADIUS, NUM_BANDS = 11.56, 0.25, 6
TARGETS = (1e-3, 1e-4)
FIT_RUNS = 5  # the finest runs of a method that its extrapolation is fitted to
ORDER_RANGE = (0.5, 4.0)  # orders p (in 1/h) a fit may pick: the singular edge gives 1.37 for quasi-uniform meshes
GRADE_REACH = 0.15  # distance from the intersection circles over which graded elements grow from HMIN to H
EDGE_EXPONENT = 0.6864  # λ of E ~ ρ^(λ−1) at the circles (odd root of ε₁ cot(5πλ/6) = −ε₂ cot(πλ/6), ε₁ = 11.56)
SPLIT_H_ORDER = 4.0  # ω = ω∞ + a h^4 + b h_min^s: P2 away from the circles (s fitted, ≤ 2λ: the floor on them)
# Per crystal: MPB ctl file, our geometry, the k-point names, and the gap edges as (name, point, band index).
CRYSTALS = {
    "diamond": {"ctl": "diamond.ctl", "geometry": ("fcc", "diamond"), "points": "XLWKP",
                "edges": (("lower", "P", 1), ("upper", "L", 2))},
    "simple_cubic": {"ctl": "simple_cubic.ctl", "geometry": ("cubic", "sphere"), "points": "XMR", "edges": ()},
}
DEFAULT_OURS = {"diamond": ["1:0.07", "2:0.1", "1:0.05", "2:0.07", "2:0.2:0.05", "2:0.15:0.025", "2:0.1:0.03",
                           "2:0.09:0.0225"],  # each under ~4 GB
                "simple_cubic": ["2:0.2", "2:0.14", "2:0.1", "1:0.07", "2:0.07"]}
DEFAULT_RESOLUTIONS = [16, 24, 32, 48, 64, 80, 96]


def k_points(crystal: str, geo: CrystalGeometry, names: str) -> dict[str, np.ndarray]:
    """Cartesian k (units 1/a) of the named points; P is the gap's lower edge on W–K (diamond only)."""
    points = high_symmetry_points(geo.lattice_vectors)
    if crystal == "diamond":
        points["P"] = points["W"] + 3 / 8 * (points["K"] - points["W"])
    return {name: points[name] for name in names}


# -- the two codes --------------------------------------------------------------------------------------------
def run_ours(geo: CrystalGeometry, ks: dict[str, np.ndarray], degree: int, h: float, h_min: float | None,
             reach: float = GRADE_REACH, power: float = 1.0, *, mumps: MumpsOptions = MumpsOptions()) -> dict:
    """Mesh (graded towards the spheres' intersections if ``h_min`` is given: size ``h_min + (h − h_min)
    (d / reach)^power`` at the distance d from them), set up and solve every k-point with our solver (on every
    rank of ``mpiexec``; CPU seconds and peak memory summed over the ranks); bands in units of 2πc/a."""
    comm = MPI.COMM_WORLD
    load = os.getloadavg()[0]
    start = time.perf_counter()
    cell = mesh_crystal(geo, h=h, order=2, h_min=h_min, grade_reach=reach, grade_power=power)
    meshed = time.perf_counter()
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(EPS))],
                                            degree=degree)
    built, cpu = time.perf_counter(), time.process_time()
    bands = {}
    with mumps_options(mumps):
        for name, k in ks.items():
            bands[name] = (problem.solve(k, nev=NUM_BANDS).omegas.real / (2 * np.pi)).tolist()
    solved, cpu = time.perf_counter(), comm.allreduce(time.process_time() - cpu)
    label = f"P{degree} h={h}" + ("" if h_min is None else f" graded {h_min}")
    if h_min is not None and (reach, power) != (GRADE_REACH, 1.0):
        label += f" reach {reach} power {power:.3g}"
    return {"code": "ours", "label": label, "degree": degree, "h": h, "h_min": h_min,
            "grade_reach": None if h_min is None else reach, "grade_power": None if h_min is None else power,
            "dofs": problem.emap.num_reduced_global, "multiplier_dofs": problem.emap_W.num_reduced_global,
            "cells": cell.mesh.topology.index_map(3).size_global, "mesh_s": meshed - start,
            "setup_s": built - meshed, "wall_s_per_k": (solved - built) / len(ks), "s_per_k": cpu / len(ks),
            "load": load, "ranks": comm.size, "out_of_core": mumps.out_of_core,
            "peak_rss_gb": comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6), "bands": bands}


def run_mpb(ctl: str, lattice: np.ndarray, ks: dict[str, np.ndarray], resolution: int) -> dict:
    """One MPB run over the same k-points (converted to MPB's reciprocal basis: k_j = k · a_j / 2π)."""
    listed = " ".join("(vector3 {:.12f} {:.12f} {:.12f})".format(*(lattice @ k / (2 * np.pi))) for k in ks.values())
    command = ["mpb", f"res={resolution}", f"nbands={NUM_BANDS}", f"kpoints=(list {listed})", str(HERE / "mpb" / ctl)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:  # MPB writes epsilon.h5 into its working directory
        start, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run(command, cwd=scratch, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True,
                              text=True, check=False)
        seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    rows = [line.split(",")[1:] for line in done.stdout.splitlines() if line.startswith("freqs:,")][1:]
    if done.returncode != 0 or len(rows) != len(ks):
        raise RuntimeError(f"mpb failed on {ctl} at resolution {resolution}:\n{done.stdout[-2000:]}{done.stderr}")
    bands = {name: [float(v) for v in row[5:]] for name, row in zip(ks, rows)}
    return {"code": "mpb", "label": f"res {resolution}", "resolution": resolution, "s_per_k": cpu / len(ks),
            "wall_s_per_k": seconds / len(ks), "load": load, "peak_rss_gb": None, "bands": bands}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- reference and errors -------------------------------------------------------------------------------------
def _limits(n: np.ndarray, values: np.ndarray, p: float) -> tuple[np.ndarray, float]:
    """Least-squares ``ω∞`` of ``ω = ω∞ + c n^(−p)`` for every column of ``values`` and the total squared residual."""
    basis = np.stack([np.ones_like(n), n ** (-p)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return coef[0], float(np.sum((basis @ coef - values) ** 2))


def extrapolated_point(runs: list[dict], size: str, point: str) -> dict:
    """The bands at ``point`` extrapolated from the :data:`FIT_RUNS` finest ``runs`` (at least three; the coarser
    ones are not in the asymptotic range): ``ω = ω∞ + c n^(−p)`` with one order ``p`` for all bands, the one of
    least total residual in :data:`ORDER_RANGE` (``size`` = "dofs": n = N^(1/3); "resolution": n = res);
    ``spread``: how far each ω∞ moves when p is taken 1.5 times larger or smaller (the fit's sensitivity to the
    unknown rate)."""
    runs = sorted(runs, key=lambda r: r[size])[-FIT_RUNS:]
    n = np.array([r[size] for r in runs], dtype=float) ** (1 / 3 if size == "dofs" else 1)
    values = np.array([r["bands"][point] for r in runs])
    orders = np.linspace(*ORDER_RANGE, 141)
    p = float(orders[np.argmin([_limits(n, values, q)[1] for q in orders])])
    omega = _limits(n, values, p)[0]
    spread = np.max([np.abs(_limits(n, values, q)[0] - omega) for q in (p / 1.5, p * 1.5)], axis=0)
    return {"omega": omega.tolist(), "order": p, "spread": spread.tolist(), "from": [r["label"] for r in runs],
            "omega_at_edge_order": _limits(n, values, 2 * EDGE_EXPONENT)[0].tolist()}


def split_extrapolation(runs: list[dict], point: str) -> dict | None:
    """The bands at ``point`` from meshes graded with one law (reach, power < 1) at several ``h`` and ``h_min``:
    ``ω = ω∞ + a h^4 + b h_min^s``, least squares over all runs (theory.md §11.4: the graded region converges at
    P2's order in h, the floor on the circles in h_min). ``s`` is fitted, one for all bands of the point, in
    [0.4, 2λ] (:data:`EDGE_EXPONENT`): 2λ when the grading resolves the singularity, less when it does not
    (measured for q = 2/3: 1.3–1.4 at h = 0.09, 0.5–0.8 at h = 0.12). ``spread``: the largest change of ω∞
    when the h order is 2 instead of 4 or ``s`` is 1.25 times larger or smaller, or the fit's largest residual,
    whichever is larger. None with fewer than four runs or fewer than two values of ``h`` or of ``h_min``."""
    h = np.array([r["h"] for r in runs], dtype=float)
    h_min = np.array([r["h_min"] for r in runs], dtype=float)
    if len(runs) < 4 or len(set(h)) < 2 or len(set(h_min)) < 2:
        return None
    values = np.array([r["bands"][point] for r in runs])

    def fit(h_order: float, s: float) -> tuple[np.ndarray, np.ndarray]:
        basis = np.stack([np.ones_like(h), h**h_order, h_min**s], axis=1)
        coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
        return coef[0], np.abs(basis @ coef - values).max(axis=0)

    orders = np.linspace(0.4, 2 * EDGE_EXPONENT, 49)
    s = float(orders[np.argmin([np.sum(fit(SPLIT_H_ORDER, q)[1] ** 2) for q in orders])])
    omega, residual = fit(SPLIT_H_ORDER, s)
    moved = [np.abs(fit(*o)[0] - omega) for o in ((2.0, s), (SPLIT_H_ORDER, s * 1.25), (SPLIT_H_ORDER, s / 1.25))]
    return {"omega": omega.tolist(), "order": s, "orders": [SPLIT_H_ORDER, s],
            "spread": np.max([*moved, residual], axis=0).tolist(), "from": [r["label"] for r in runs]}


def edge_values(bands: dict, edges: tuple) -> dict[str, float]:
    return {name: bands[point][band] for name, point, band in edges}


def add_errors(runs: list[dict], reference: dict, edges: tuple) -> None:
    """Relative errors of every run against the reference: the gap edges (``edge_error``, the larger of the two;
    for crystals without edges the bands) and all bands at the points (``band_error``)."""
    ref = {name: np.array(v["omega"]) for name, v in reference.items()}
    for run in runs:
        band_errors = [np.abs(np.array(bands) / ref[p] - 1).max() for p, bands in run["bands"].items()]
        run["band_error"] = float(max(band_errors))
        run["edge_error"] = run["band_error"]
        if edges and all(point in run["bands"] for _, point, _ in edges):
            got, want = edge_values(run["bands"], edges), edge_values(ref, edges)
            run["edges"] = got
            run["edge_error"] = float(max(abs(got[e] / want[e] - 1) for e in got))


def families(runs: list[dict]) -> dict[str, list[dict]]:
    """The runs by method: MPB, our degree 1, degree 2, degree 2 on linearly graded meshes and on meshes graded
    by one power law (q < 1) and reach."""
    def method(r: dict) -> str:
        if r["code"] == "mpb":
            return "MPB"
        if not r.get("h_min"):
            return f"ours P{r['degree']}"
        return f"ours P{r['degree']} graded" + ("" if r.get("grade_power", 1.0) == 1.0 else
                                                f" q={r['grade_power']:.3g} reach {r['grade_reach']}")
    out: dict[str, list[dict]] = {}
    for r in runs:
        out.setdefault(method(r), []).append(r)
    return out


def time_to_accuracy(runs: list[dict], target: float) -> dict:
    """Seconds per k-point at which the error reaches ``target``: log-log interpolation between the two runs that
    bracket it (``"interpolated"``), or extrapolation from the two finest runs (``"extrapolated"``, an estimate)."""
    pts = sorted((r["s_per_k"], r["edge_error"]) for r in runs if r["edge_error"] > 0)
    for (t0, e0), (t1, e1) in itertools.pairwise(pts):
        if e0 > target >= e1:
            return {"s_per_k": float(np.exp(np.interp(np.log(target), [np.log(e1), np.log(e0)],
                                                      [np.log(t1), np.log(t0)]))), "how": "interpolated"}
    if pts and pts[0][1] <= target:
        return {"s_per_k": pts[0][0], "how": "already at the smallest size"}
    (t0, e0), (t1, e1) = pts[-2], pts[-1]
    if e1 >= e0 or t1 <= t0:
        return {"s_per_k": None, "how": "not reached; the two finest runs give no trend"}
    estimate = t1 * (target / e1) ** (np.log(t1 / t0) / np.log(e1 / e0))
    if estimate > 100 * t1:
        return {"s_per_k": None, "how": f"not reached; extrapolated > {100 * t1:.0f}"}
    return {"s_per_k": float(estimate), "how": "extrapolated"}


def reference(runs: list[dict]) -> tuple[dict, dict, dict]:
    """Per k-point: the reference (the mean of our extrapolation — from the graded degree-2 runs when there are
    three, else the degree-2 runs — and MPB's; either alone when the other is missing), MPB's extrapolation, and
    the relative uncertainty of each reference number: the largest of half the two extrapolations' difference and
    their sensitivity to the fitted order (``spread`` of :func:`extrapolated_point`)."""
    by = families(runs)
    ref, ref_mpb, spread = {}, {}, {}
    for point in dict.fromkeys(p for r in runs for p in r["bands"]):
        def having(name: str) -> list[dict]:
            return [r for r in by.get(name, []) if point in r["bands"]]
        split = next(filter(None, (split_extrapolation(having(f), point) for f in by if " q=" in f)), None)
        ours = next((having(f) for f in ("ours P2 graded", "ours P2") if len(having(f)) >= 3), [])
        if len(having("MPB")) >= 3:
            ref_mpb[point] = extrapolated_point(having("MPB"), "resolution", point)
        if (split or ours) and point in ref_mpb:  # both codes: their mean, uncertain by half their difference
            mine = split or extrapolated_point(ours, "dofs", point)
            pair = np.array([mine["omega"], ref_mpb[point]["omega"]])
            ref[point] = {"omega": pair.mean(axis=0).tolist(), "order": mine["order"],
                          "spread": np.max([mine["spread"], ref_mpb[point]["spread"], np.ptp(pair, axis=0) / 2],
                                           axis=0).tolist(), "from": mine["from"] + ["MPB"]}
        elif split or ours:
            ref[point] = split or extrapolated_point(ours, "dofs", point)
        elif point in ref_mpb:
            ref[point] = ref_mpb[point]
        else:  # too few runs to extrapolate (--quick): the finest of ours
            finest = max((r for r in runs if r["code"] == "ours" and point in r["bands"]), key=lambda r: r["dofs"])
            ref[point] = {"omega": finest["bands"][point], "order": None, "spread": [0.0] * NUM_BANDS,
                          "from": [finest["label"]]}
            continue
        spread[point] = (np.array(ref[point]["spread"]) / np.array(ref[point]["omega"])).tolist()
    return ref, ref_mpb, spread


# -- report ---------------------------------------------------------------------------------------------------
def tables(crystal: str, runs: list[dict], ref: dict, ref_mpb: dict, spread: dict, timing: dict) -> str:
    edges = CRYSTALS[crystal]["edges"]
    names = list(ref)
    head = ["code", "size", "dofs", "load", "mesh+setup s", "CPU s/k", "wall s/k", "peak GB"]
    head += [f"{e} edge" for e, _, _ in edges] + ["edge rel. err" if edges else "", "bands rel. err"]
    head = [h for h in head if h]
    lines = [f"### {crystal}: runs in the order made", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        setup = f"{r['mesh_s'] + r['setup_s']:.1f}" if r.get("setup_s") is not None else "–"
        cells = [r["code"], r["label"], str(r.get("dofs", "–")), f"{r['load']:.1f}", setup, f"{r['s_per_k']:.2f}",
                 "–" if r["wall_s_per_k"] is None else f"{r['wall_s_per_k']:.2f}",
                 "–" if r["peak_rss_gb"] is None else f"{r['peak_rss_gb']:.1f}"]
        cells += [f"{r['edges'][e]:.6f}" if "edges" in r else "–" for e, _, _ in edges]
        cells += ([f"{r['edge_error']:.1e}"] if edges else []) + [f"{r['band_error']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"### {crystal}: reference bands (units 2πc/a) — ours extrapolated; MPB extrapolated; "
                  "rel. uncertainty; observed order (ours)", ""]
    for p in names:
        order = f"{ref[p]['order']:.2f}" if ref[p]["order"] is not None else "/".join(
            f"{o:.3g}" for o in ref[p].get("orders", [])) or "–"
        mpb = "–" if p not in ref_mpb else (" ".join(f"{v:.6f}" for v in ref_mpb[p]["omega"]) + " (at 2λ: " +
                                             " ".join(f"{v:.6f}" for v in ref_mpb[p]["omega_at_edge_order"]) + ")")
        unc = " ".join(f"{u:.0e}" for u in spread[p]) if p in spread else "–"
        lines.append(f"- {p}: {' '.join(f'{v:.6f}' for v in ref[p]['omega'])} | MPB {mpb} | ± {unc} | p = {order} "
                     f"| from {', '.join(ref[p]['from'])}")
    if edges:
        lines += ["", "| gap edge | point, band | reference | rel. uncertainty |", "|---|---|---|---|"]
        lines += [f"| {e} | {p}, {b + 1} | {ref[p]['omega'][b]:.6f} | "
                  f"{spread[p][b] if p in spread else float('nan'):.0e} |" for e, p, b in edges if p in ref]
    lines += ["", f"### {crystal}: CPU seconds per k-point to reach a relative error (edges) of", "",
              "| code | " + " | ".join(f"{t:.0e}" for t in TARGETS) + " |", "|---|" + "---|" * len(TARGETS)]
    for code, by_target in timing.items():
        cells = [v["how"] if v["s_per_k"] is None else f"{v['s_per_k']:.1f} ({v['how']})" for v in by_target.values()]
        lines.append(f"| {code} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse_ours(specs: list[str]) -> list[tuple]:
    """``DEGREE:H``, or ``DEGREE:H:HMIN[:REACH[:POWER]]`` (graded towards the spheres' intersection circles; reach
    ``GRADE_REACH`` and power 1 unless given)."""
    out = []
    for spec in specs:
        degree, h, *grading = spec.split(":")
        if len(grading) > 3:
            raise SystemExit(f"error: --ours {spec}: expected DEGREE:H[:HMIN[:REACH[:POWER]]]")
        out.append((int(degree), float(h), *([float(g) for g in grading] or [None])))
    return out


def measure(args: argparse.Namespace, spec: dict, ks: dict[str, np.ndarray], geo: CrystalGeometry) -> list[dict]:
    """Our runs and MPB's, alternating (similar machine load for both), each record printed as it comes."""
    ours_specs = parse_ours(DEFAULT_OURS[args.crystal] if args.ours is None else args.ours)
    resolutions = args.resolutions
    if args.quick:
        ours_specs, resolutions = [(2, 0.2, None)], [16, 24]
    if resolutions and shutil.which("mpb") is None:
        raise SystemExit("error: mpb is not installed (make mpb)")
    runs = []
    if resolutions and MPI.COMM_WORLD.size > 1:
        raise SystemExit("error: under mpiexec only our runs (give --resolutions without values)")
    if args.out_of_core is not None and not Path(args.out_of_core).is_dir():
        raise SystemExit(f"error: --out-of-core {args.out_of_core}: not an existing directory")
    mumps = MumpsOptions(out_of_core=args.out_of_core is not None, ooc_tmpdir=args.out_of_core)
    for ours_spec, res in itertools.zip_longest(ours_specs, resolutions):
        if ours_spec is not None:
            runs.append(run_ours(geo, ks, *ours_spec, mumps=mumps))
            if MPI.COMM_WORLD.rank == 0:
                print(f"ours {runs[-1]['label']}: {runs[-1]['s_per_k']:.1f} s/k, {runs[-1]['dofs']} dofs",
                      flush=True)
        if res is not None:
            runs.append(run_mpb(spec["ctl"], geo.lattice_vectors, ks, res))
            print(f"mpb res {res}: {runs[-1]['s_per_k']:.1f} s/k", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Writes benchmarks/out/<--out>.json; see the module docstring.")
    parser.add_argument("--crystal", choices=sorted(CRYSTALS), default="diamond")
    parser.add_argument("--ours", nargs="*", metavar="DEGREE:H[:HMIN[:REACH[:POWER]]]",
                        help="our runs: Nédélec degree, mesh size and, for a mesh graded towards the spheres' "
                             "intersection circles, the size on them (default: a sequence per crystal)")
    parser.add_argument("--resolutions", type=int, nargs="*", default=DEFAULT_RESOLUTIONS,
                        help="MPB resolutions (grid points per a)")
    parser.add_argument("--points", help="k-point names to solve (default: all of the crystal's)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: ours P2 h = 0.2 and MPB res 16, 24 at the gap-edge points only")
    parser.add_argument("--analyse", type=Path, nargs="+", metavar="JSON",
                        help="solve nothing: merge the runs of these earlier outputs and analyse them together")
    parser.add_argument("--out", help="output name (default: the crystal's name)")
    parser.add_argument("--out-of-core", metavar="DIR",
                        help="our runs: MUMPS factors on disk in DIR (an existing directory; with mpiexec -n 2 the "
                             "largest graded meshes fit in 24 GB)")
    args = parser.parse_args()
    spec = CRYSTALS[args.crystal]
    names = args.points or spec["points"]
    if args.quick:
        names = "".join(sorted({p for _, p, _ in spec["edges"]})) or spec["points"][:2]
    geo = CrystalGeometry(*spec["geometry"], RADIUS)
    ks = k_points(args.crystal, geo, names)
    if args.analyse:
        runs = [r for f in args.analyse for r in json.loads(f.read_text())["runs"]]
        runs = list({(r["code"], r["label"]): r for r in runs}.values())  # a run listed in two files counts once
    else:
        runs = measure(args, spec, ks, geo)
    if MPI.COMM_WORLD.rank != 0:
        return
    ref, ref_mpb, spread = reference(runs)
    add_errors(runs, ref, spec["edges"])
    timing = {name: {f"{t:.0e}": time_to_accuracy(group, t) for t in TARGETS}
              for name, group in families(runs).items() if len(group) >= 2}
    text = tables(args.crystal, runs, ref, ref_mpb, spread, timing)
    OUT.mkdir(exist_ok=True)
    result = {"crystal": args.crystal, "eps": EPS, "radius": RADIUS, "units": "omega a / (2 pi c)",
              "k_points": {p: k.tolist() for p, k in ks.items()}, "edges": spec["edges"], "runs": runs,
              "reference": ref, "reference_mpb": ref_mpb, "reference_rel_uncertainty": spread,
              "time_to_accuracy": timing}
    name = args.out or args.crystal + ("_quick" if args.quick else "")
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=1))
    print(text)


if __name__ == "__main__":
    main()
