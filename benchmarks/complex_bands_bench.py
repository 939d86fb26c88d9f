"""Complex band structure k(ω): its cost against the ω(k) route, and its gap decay against a finite crystal.

    .venv/bin/python benchmarks/complex_bands_bench.py timing     # ~3 min on one core
    .venv/bin/python benchmarks/complex_bands_bench.py decay      # ~1 min on one core

``timing``: Drude rods (r = 0.2a, ω_p a/2πc = 1, γ a/2πc = 0.02, TM, P2 on a curved mesh, h = 0.015: ~21k
dofs), propagating k along ΓX at three frequencies of the first pass band (0.29–0.52), by both routes in the same
run (the machine is shared, so only same-run ratios mean something): (a) k(ω), one quadratic eigenproblem in k per
frequency (all roots with |Im k| ≤ 3, evanescent and complex ones included); (b) ω(k), a band diagram along ΓX
(``POINTS`` k-points, the dispersive PEP in Ω per point), then per frequency a secant search on the bracketing
band, Re Ω(k) = Ω, one PEP per step, to |Re Ω − Ω| ≤ 1e-9 Ω. With loss (b) answers a slightly different question
(real k, complex Ω): the two k agree to O(γ).

``decay``: the finite-crystal driver's default cell (square rods of side 0.5a, Drude ω_p a/2πc = 1,
γ a/2πc = 0.01, TM). Below the plasma-like cut-off (ω a/2πc ≲ 0.41) no real k exists in any direction (checked
at k_y = 0 and π): a line source in the middle of a 14×14 crystal (PMLs, the full-wave solver of
``finite_crystal.py``) gives a field decaying along x; its rate, fitted on the equivalent points x = x_s + n
(n = 2..6) of the source row with the 2D line-source factor n^{-1/2} removed, is compared with min Im k over k_y.
Writes ``benchmarks/out/complex_bands_<study>.md``.
"""

import sys
import time
from pathlib import Path

import numpy as np

import fem_homog  # noqa: F401
from fem_homog.cells.crystal_mesh import tile_crystal
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.fem.evaluation import point_values
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.complex_bands import ComplexBandProblem
from fem_homog.photonics.crystal import solve_full_wave
from fem_homog.photonics.helmholtz import PointSource
from fem_homog.photonics.materials import Phase, constant, drude

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out"
TWO_PI = 2 * np.pi
FREQUENCIES = (0.35, 0.42, 0.48)
POINTS = 9


def secant_k(problem: BlochProblem, omega: float, k0: float, k1: float) -> tuple[float, int]:
    """Real k with Re Ω(k) = omega on the band nearest omega, by the secant method from k0, k1; and the solves."""
    def g(k):
        w = problem.solve([k, 0.0], nev=4, target=omega).omegas
        return w[np.argmin(np.abs(w.real - omega))].real - omega

    g0, g1, solves = g(k0), g(k1), 2
    while abs(g1) > 1e-9 * omega and solves < 30:
        k0, k1, g0 = k1, k1 - g1 * (k1 - k0) / (g1 - g0), g1
        g1, solves = g(k1), solves + 1
    return k1, solves


def timing() -> str:
    cell = mesh_cell(geometry_from_config({"shape": "circle", "radius": 0.2}), h=0.015, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)),
                                  Phase(INCLUSION, drude(1.0, TWO_PI, 0.02 * TWO_PI))])
    dofs = problem.V.dofmap.index_map.size_global
    start = time.perf_counter()
    cp = ComplexBandProblem(problem, [1.0, 0.0])
    setup = time.perf_counter() - start
    route_a, seconds_a = {}, []
    for f in FREQUENCIES:
        m = cp.solve(TWO_PI * f, max_imag_k=3.0, num_modes=8)
        seconds_a.append(m.seconds)
        route_a[f] = max((k for k in m.k if k.real > 0), key=lambda k: -abs(k.imag))
    start = time.perf_counter()
    ks = np.linspace(0.0, np.pi, POINTS)
    bands = np.array([[w.real for w in problem.solve([k, 0.0], nev=6, target=TWO_PI * 0.15).omegas[:4]]
                      for k in ks])
    diagram = time.perf_counter() - start
    rows = []
    for f in FREQUENCIES:
        start = time.perf_counter()
        band = next(b for b in range(bands.shape[1]) if bands[:, b].min() < TWO_PI * f < bands[:, b].max())
        i = int(np.argmin(np.abs(bands[:, band] - TWO_PI * f)))
        j = min(i + 1, POINTS - 1) if i == 0 else i - 1
        k_b, solves = secant_k(problem, TWO_PI * f, ks[i], ks[j])
        rows.append((f, route_a[f], k_b, solves, time.perf_counter() - start))
    lines = [f"Drude rods TM, P2, {dofs} dofs, one rank; k(ω) set-up (K1 forms, flux forms) {setup:.2f} s.", "",
             "| ω a/2πc | k(ω): k a (least-decaying, Re k > 0) | s | ω(k) + secant: k a | secant solves | s |",
             "|---|---|---|---|---|---|"]
    for (f, ka, kb, solves, sec), sa in zip(rows, seconds_a):
        lines.append(f"| {f} | {ka.real:.6f} {ka.imag:+.2e}i | {sa:.2f} | {kb:.6f} | {solves} | {sec:.2f} |")
    per_a, search = np.mean(seconds_a), np.mean([r[4] for r in rows])
    per_b = diagram / len(FREQUENCIES) + search
    lines += ["", f"k(ω): {per_a:.2f} s per frequency (all roots in |Im k| ≤ 3). ω(k): band diagram along ΓX at "
              f"{POINTS} k-points {diagram:.1f} s ({diagram / POINTS:.2f} s per k-point), then {search:.2f} s per "
              f"frequency for the secant search: {per_b:.2f} s per frequency with the diagram shared by the "
              f"{len(FREQUENCIES)} frequencies, {per_b / per_a:.1f}× the k(ω) route."]
    return "\n".join(lines)


def decay(frequencies=(0.35, 0.38), n_cells: int = 14, h: float = 0.1) -> str:
    geo = geometry_from_config({"shape": "square", "side": 0.5})
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, TWO_PI, 0.01 * TWO_PI))]
    problem = BlochProblem(mesh_cell(geo, h=0.05, order=2), phases)
    crystal = tile_crystal(geo, (n_cells, n_cells), margin=1.0, pml_width=2.0, h=h, order=2)
    source = (n_cells / 2, n_cells / 2)  # a cell corner, between rods
    n = np.arange(2, 7)
    lines = ["| ω a/2πc | Im k, k_y = 0 | Im k, k_y = π | decay length 1/min Im k (a) | finite crystal: fitted rate "
             "(n^-1/2 removed) | raw log-slope |", "|---|---|---|---|---|---|"]
    for f in frequencies:
        im = []
        for ky in (0.0, np.pi):
            m = ComplexBandProblem(problem, [1.0, 0.0], [0.0, ky]).solve(TWO_PI * f, max_imag_k=4.0, num_modes=4)
            assert "propagating" not in m.classes
            im.append(float(np.min(np.abs(m.k.imag))))
        u = solve_full_wave(crystal, TWO_PI * f, PointSource(source), phases=phases).u
        values = np.abs(point_values(u, np.array([[source[0] + j, source[1]] for j in n])))
        raw = -np.polyfit(n, np.log(values), 1)[0]
        fitted = -np.polyfit(n, np.log(values * np.sqrt(n)), 1)[0]
        lines.append(f"| {f} | {im[0]:.4f} | {im[1]:.4f} | {1 / min(im):.4f} | {fitted:.4f} | {raw:.4f} |")
    return "\n".join([f"{n_cells}×{n_cells} square Drude rods (side 0.5a, γ a/2πc = 0.01), TM, crystal mesh h = {h}, "
                      "cell mesh h = 0.05 (P2).", ""] + lines)


if __name__ == "__main__":
    study = sys.argv[1] if len(sys.argv) > 1 else "timing"
    report = {"timing": timing, "decay": decay}[study]()
    print(report)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"complex_bands_{study}.md").write_text(report + "\n")
