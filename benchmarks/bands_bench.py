"""Band diagram accuracy versus time: fem-homog against MPB (Debian's ``mpb``) on the same machine.

    .venv/bin/python benchmarks/bands_bench.py            # needs `mpb` on PATH (apt-get install mpb)

The classic square lattice of dielectric rods (ε = 8.9, r = 0.2a, TM, 6 bands, Γ–X–M–Γ with 31 k-points).
Both codes run end to end as separate processes on one core (start-up, meshing or grid set-up included).
The error of a run is the largest relative deviation, over all bands and k-points (the ω = 0 point excepted),
from a reference: fem-homog with P2 on a curved mesh much finer than any timed run (``REFERENCE_H``); that
MPB's finest run approaches the same reference shows the two codes converge to the same bands.
Writes ``benchmarks/out/bands.md`` (the table) and ``benchmarks/out/bands_accuracy_time.png``.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
NUM_BANDS, PER_SEGMENT = 6, 10
FEM_H = [0.1, 0.07, 0.05, 0.035, 0.025]
REFERENCE_H = 0.01
MPB_RESOLUTIONS = [16, 32, 64, 128]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

MPB_CTL = """
(set! num-bands {bands})
(set! geometry-lattice (make lattice (size 1 1 no-size)))
(set! geometry (list (make cylinder (center 0 0 0) (radius 0.2) (height infinity)
                           (material (make dielectric (epsilon 8.9))))))
(set! k-points (interpolate {inner} (list (vector3 0 0 0) (vector3 0.5 0 0) (vector3 0.5 0.5 0) (vector3 0 0 0))))
(set! resolution {resolution})
(set! tolerance 1e-9)
(run-tm)
"""


def run_fem(h: float, out: Path) -> tuple[np.ndarray, float]:
    args = ["--set", f"mesh.h={h}", "--set", f"bands.points_per_segment={PER_SEGMENT}",
            "--set", f"bands.num_bands={NUM_BANDS}", "--set", "output.plot=false", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "drivers" / "band_diagram.py"), *args], check=True, cwd=ROOT,
                   env=ENV, capture_output=True)
    wall = time.perf_counter() - start
    results = json.loads((out / "results.json").read_text())
    return np.array([[w[0] for w in ws] for ws in results["omega_a_over_2pi_c"]]), wall


def run_mpb(resolution: int) -> tuple[np.ndarray, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ctl = Path(tmp) / "rods.ctl"
        ctl.write_text(MPB_CTL.format(bands=NUM_BANDS, inner=PER_SEGMENT - 1, resolution=resolution))
        start = time.perf_counter()
        proc = subprocess.run(["mpb", str(ctl)], check=True, cwd=tmp, env=ENV, capture_output=True, text=True)
        wall = time.perf_counter() - start
    rows = [line.split(",") for line in proc.stdout.splitlines() if re.match(r"tmfreqs:\s*,?\s*\d", line)]
    return np.array([[float(v) for v in row[6:6 + NUM_BANDS]] for row in rows]), wall


def max_relative_error(bands: np.ndarray, reference: np.ndarray) -> float:
    mask = reference > 1e-6
    return float(np.max(np.abs(bands[mask] - reference[mask]) / reference[mask]))


def main() -> None:
    if shutil.which("mpb") is None:
        raise SystemExit("error: mpb is not installed (apt-get install mpb)")
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"reference: fem-homog P2, h = {REFERENCE_H} ...", flush=True)
    reference, ref_wall = run_fem(REFERENCE_H, OUT / "bands-reference")
    rows = [("fem-homog P2 curved (reference)", f"h={REFERENCE_H}", ref_wall, 0.0)]
    curves = {"fem-homog": [], "MPB": []}
    for h in FEM_H:
        bands, wall = run_fem(h, OUT / f"bands-h{h}")
        err = max_relative_error(bands, reference)
        rows.append(("fem-homog P2 curved", f"h={h}", wall, err))
        curves["fem-homog"].append((wall, err))
        print(rows[-1], flush=True)
    for resolution in MPB_RESOLUTIONS:
        bands, wall = run_mpb(resolution)
        err = max_relative_error(bands, reference)
        rows.append(("MPB 1.11 (Debian)", f"resolution={resolution}", wall, err))
        curves["MPB"].append((wall, err))
        print(rows[-1], flush=True)

    table = ["| code | discretization | wall [s] | max relative error |", "|---|---|---|---|"]
    table += [f"| {c} | {d} | {w:.1f} | {e:.1e} |" for c, d, w, e in rows]
    (OUT / "bands.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, points in curves.items():
        wall, err = np.array(points).T
        ax.loglog(wall, err, "o-", label=name)
    ax.axhline(1e-4, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("wall time [s], one core, 31 k-points, 6 bands")
    ax.set_ylabel("max relative error of ω")
    ax.set_title("TM rods ε = 8.9, r = 0.2a")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(OUT / "bands_accuracy_time.png", dpi=120)


if __name__ == "__main__":
    main()
