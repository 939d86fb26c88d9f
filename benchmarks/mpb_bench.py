"""MPB's bands of the benchmark crystals at increasing resolution: the independent reference our Maxwell solver is
compared with (benchmarks/README.md, issue 13 "Measure").

    make mpb                                          # installs Debian's MPB (apt-get), once
    python benchmarks/mpb_bench.py                    # diamond and simple cubic, resolutions 16 24 32 48 64
    python benchmarks/mpb_bench.py --crystal diamond --resolutions 16 24 --interp 0

The crystals are the ctl files of ``benchmarks/mpb/`` (ours; MPB itself is not part of this repository):
``diamond.ctl`` (MPB's documented diamond example: fcc, cubic constant a, two ε = 11.56 spheres of radius 0.25a
at ±(a/8, a/8, a/8)) and ``simple_cubic.ctl`` (ε = 11.56 spheres of radius 0.25a, the crystal of
``maxwell_bench.py``). Each resolution is one MPB run over the band path with ``--interp`` k-points inserted per
segment; recorded: the bands at the named points (fcc X, W, K, L, U; sc X, M, R), MPB's complete gaps over the
computed k-points (its "Gap from band i to band j" lines), the relative change of each number against the finest
resolution, the wall time of the run and per k-point. Frequencies are MPB's ω a / 2πc, our units of 2πc/a (MPB's
documentation calls them "c/a"). One process, ``OMP_NUM_THREADS=1``; timings are disturbed by anything else
running on the machine. Writes ``benchmarks/out/mpb.json`` and ``mpb.md``.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CTL = Path(__file__).resolve().parent / "mpb"
OUT = Path(__file__).resolve().parent / "out"
# The vertices of each ctl file's path, in order (every vertex is followed by `interp` interpolated points).
PATHS = {"diamond": ("diamond.ctl", "GXWKGLUWLK"), "simple_cubic": ("simple_cubic.ctl", "GXMRG")}
GAP = re.compile(r"Gap from band (\d+) \(([-\d.eE+]+)\) to band (\d+) \(([-\d.eE+]+)\), ([-\d.eE+]+)%")


def run_mpb(ctl: str, resolution: int, interp: int) -> tuple[str, float]:
    """Run MPB on one ctl file in a scratch directory (it writes epsilon.h5 there); its output and wall time."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        done = subprocess.run(["mpb", f"res={resolution}", f"interp={interp}", str(CTL / ctl)], cwd=scratch,
                              env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
    if done.returncode != 0 or "freqs:," not in done.stdout:
        raise RuntimeError(f"mpb failed on {ctl} at resolution {resolution}:\n{done.stdout[-2000:]}{done.stderr}")
    return done.stdout, seconds


def parse(output: str, letters: str, interp: int) -> dict:
    """Bands at the path's named points and MPB's gaps from one run's output."""
    rows = [line.split(",")[1:] for line in output.splitlines() if line.startswith("freqs:,")]
    bands = [[float(v) for v in row[5:]] for row in rows[1:]]  # rows[0] is the header
    points = {letter: bands[i * (interp + 1)] for i, letter in enumerate(letters) if letter != "G"}
    gaps = [{"bands": [int(m[1]), int(m[3])], "lower": float(m[2]), "upper": float(m[4]),
             "gap_over_midgap": float(m[5]) / 100} for m in GAP.finditer(output)]
    return {"points": points, "gaps": gaps, "num_k": len(bands)}


def relative_changes(runs: list[dict]) -> None:
    """Add to each run the largest relative change of its point bands and gap edges against the finest run."""
    ref = runs[-1]
    for run in runs:
        point_err = max(abs(a - b) / abs(b) for p, bands in run["points"].items()
                        for a, b in zip(bands, ref["points"][p]) if b)
        run["max_rel_change_points"] = point_err
        shared = [(g, h) for g in run["gaps"] for h in ref["gaps"] if g["bands"] == h["bands"]]
        run["max_rel_change_gap_edges"] = max((abs(g[e] - h[e]) / h[e] for g, h in shared
                                               for e in ("lower", "upper")), default=None)


def table(name: str, runs: list[dict]) -> str:
    letters = [p for p in runs[0]["points"]]
    head = ["res", "k-points", "s", "s/k"] + [f"{p} bands" for p in letters] + ["gaps (lower–upper, Δω/ω)",
                                                                               "max rel. change"]
    lines = [f"### {name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        gaps = "; ".join(f"{g['bands'][0]}–{g['bands'][1]}: {g['lower']:.5f}–{g['upper']:.5f} "
                         f"({g['gap_over_midgap']:.4f})" for g in r["gaps"]) or "none"
        cells = [str(r["resolution"]), str(r["num_k"]), f"{r['seconds']:.1f}", f"{r['seconds_per_k']:.2f}"]
        cells += [" ".join(f"{v:.5f}" for v in r["points"][p]) for p in letters]
        cells += [gaps, f"{r['max_rel_change_points']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crystal", choices=sorted(PATHS), action="append")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[16, 24, 32, 48, 64])
    parser.add_argument("--interp", type=int, default=3, help="k-points inserted on each path segment")
    args = parser.parse_args()
    if shutil.which("mpb") is None:
        raise SystemExit("error: mpb is not installed (make mpb)")
    version = subprocess.run(["mpb", "--version"], capture_output=True, text=True).stdout.splitlines()[0].strip()
    results = {"mpb": version, "interp": args.interp, "units": "omega a / (2 pi c)", "crystals": {}}
    report = [f"MPB comparison runs ({version}, interp = {args.interp}).\n"]
    for name in args.crystal or sorted(PATHS):
        ctl, letters = PATHS[name]
        runs = []
        for res in sorted(args.resolutions):
            output, seconds = run_mpb(ctl, res, args.interp)
            run = {"resolution": res, "seconds": seconds, **parse(output, letters, args.interp)}
            run["seconds_per_k"] = seconds / run["num_k"]
            runs.append(run)
            print(f"{name} res {res}: {seconds:.1f} s, gaps {run['gaps']}", flush=True)
        relative_changes(runs)
        results["crystals"][name] = {"ctl": f"benchmarks/mpb/{ctl}", "path": letters, "runs": runs}
        report.append(table(name, runs))
    OUT.mkdir(exist_ok=True)
    (OUT / "mpb.json").write_text(json.dumps(results, indent=1))
    (OUT / "mpb.md").write_text("\n".join(report))
    print("\n".join(report))


if __name__ == "__main__":
    main()
