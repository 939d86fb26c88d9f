"""Cost of the multiband real-space model against the exact fine-scale computations it replaces.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/multiband_bench.py

Per frequency (1D): the model's multi-exponential solve against the exact transfer matrix and against a
fine-scale P3 FEM of the slab (exact radiation conditions). Per (ω, angle) (2D, layers normal to the
interface): the reduced model against exact mode matching (transverse Bloch eigenproblem on each side).
Time domain: dolfinx P2 + C0-IP model against P2 on the fine layers, same pulse, same Newmark steps; in 2D
(layers normal to the interface, pulse at 24°, drivers/configs/multiband_timedomain_2d.toml) Q2 + C0-IP for the
2D R_4 model against Q2 on the resolved layers. All serial (1D/2D-transverse problems are tiny; the 2D time
domain uses scipy's sparse LU). Writes ``benchmarks/out/multiband.md`` and ``multiband.json``.
"""

import json
import time
from pathlib import Path

import numpy as np

import fem_homog  # noqa: F401  (dolfinx_solver before dolfinx)
from fem_homog.multiband import homogenize, oblique, scattering, timedomain, timedomain2d
from fem_homog.multiband.fem1d import harmonic_slab
from fem_homog.multiband.model import classical
from fem_homog.multiband.modematching import TransverseProblem
from fem_homog.output.results import peak_memory_mb

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out"
SPEC = [[1.0, 1.0, 0.5], [6.0, 1.5, 0.5]]
E_H, RHO_H = 2.0, 1.0
OMEGAS = np.linspace(0.1, 2.8, 40)


def per_call(fn, items) -> float:
    """Mean seconds per item, after one untimed warm-up call (form compilation, caches)."""
    fn(items[0])
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def one_d() -> list[dict]:
    hom = classical(E_H, RHO_H)
    rows = []
    for order, cells in ((3, None), (2, 10), (2, 40)):
        model = homogenize.laminate(SPEC, order, 1).model
        regions = [hom, model] if cells is None else [hom, model, hom]
        interfaces = [0.0] if cells is None else [0.0, float(cells)]
        row = {"case": f"R_{2 * order}, " + ("single boundary" if cells is None else f"slab of {cells} cells"),
               "model": per_call(lambda w: scattering.solve(regions, interfaces, w), OMEGAS),
               "exact transfer matrix": per_call(lambda w: scattering.exact(SPEC, E_H, RHO_H, w, cells), OMEGAS)}
        if cells is not None:
            row["fine-scale FEM (P3, h = 0.05)"] = per_call(
                lambda w: harmonic_slab(SPEC, cells, E_H, RHO_H, w, h=0.05, degree=3), OMEGAS[::8])
        rows.append(row)
    meta, hom2 = homogenize.laminate([[1.0, 1.0, 0.5], [10.0, 5.0, 0.5]], 2, 2, cutoff=True), \
        homogenize.homogeneous(2.6, 2.0, 2)
    w2 = np.linspace(0.1, 7.0, 40)
    rows.append({"case": "two-band (R_4 × R_2), single boundary",
                 "model": per_call(lambda w: scattering.solve([hom2.model, meta.model], [0.0], w), w2),
                 "exact transfer matrix": per_call(
                     lambda w: scattering.exact([[1.0, 1.0, 0.5], [10.0, 5.0, 0.5]], 2.6, 2.0, w, None), w2)})
    return rows


def two_d() -> list[dict]:
    rows = []
    for bands, omegas in ((1, [1.0, 2.0, 2.6]), (2, [5.5, 6.0, 6.5])):
        meta, hom = oblique.fit(SPEC, bands), oblique.fit_homogeneous(E_H, RHO_H, bands)
        cases = [(w, np.radians(a)) for w in omegas for a in range(0, 90, 10)]

        def model(case):
            w, a = case
            k2 = w * np.sqrt(RHO_H / E_H) * np.sin(a)
            return scattering.solve([oblique.reduce(hom.C2, "normal", k2), oblique.reduce(meta.C2, "normal", k2)],
                                    [0.0], w)

        row = {"case": f"2D oblique, layers normal, {bands} band(s)", "model": per_call(model, cases)}
        for h, degree in ((0.05, 2), (0.02, 3)):
            start = time.perf_counter()
            exact = TransverseProblem(SPEC, E_H, RHO_H, h=h, degree=degree)
            setup = time.perf_counter() - start
            row[f"exact mode matching (P{degree}, h = {h})"] = setup / len(cases) + per_call(
                lambda c: exact.solve(c[0], c[0] * np.sqrt(RHO_H / E_H) * np.sin(c[1])), cases)
        rows.append(row)
    return rows


def time_domain() -> list[dict]:
    model = homogenize.laminate(SPEC, 2, 1).model
    discs = {"model R_4 (P2 + C0-IP, h = 0.1)": timedomain.model_discretization(model, E_H, RHO_H, 40.0, 40.0, 0.1)}
    for h_fine in (0.025, 0.0125):
        discs[f"fine scale (P2, h = {h_fine})"] = timedomain.fine_discretization(SPEC, 40, E_H, RHO_H, 40.0, h_fine)
    rows = []
    for name, disc in discs.items():
        u0, v0 = timedomain.gaussian_pulse(disc.x, -20.0, 1.8, np.sqrt(E_H / RHO_H), 4.0)
        hist = timedomain.newmark(disc, u0, v0, 0.02, 1500, [])
        rows.append({"case": name, "dofs": disc.M.shape[0], "seconds (1500 steps)": hist.seconds,
                     "transmitted energy": hist.energy_right[-1] / hist.energy[0]})
    return rows


def time_domain_2d() -> list[dict]:
    fit = oblique.fit(SPEC, 1, order=2)
    k2, height = np.pi / 6, 6.0
    builds = {"model 2D R_4 (Q2 + C0-IP, h = 0.5)": lambda: timedomain2d.model_discretization(
        fit.C2, "normal", E_H, RHO_H, 30.0, 30.0, height, 0.5)}
    for h_fine in (0.25, 0.125):
        builds[f"fine scale (Q2, h = {h_fine})"] = lambda h=h_fine: timedomain2d.fine_discretization(
            SPEC, "normal", 30, E_H, RHO_H, 30.0, height, h)
    rows = []
    for name, build in builds.items():
        start = time.perf_counter()
        disc = build()
        assembly = time.perf_counter() - start
        u0, v0 = timedomain2d.oblique_pulse(disc.x, -15.0, 1.8, np.sqrt(E_H / RHO_H), 3.0, k2)
        hist = timedomain.newmark(disc, u0, v0, 0.05, 420, [])
        rows.append({"case": name, "dofs": disc.M.shape[0], "assembly seconds": assembly,
                     "seconds (420 steps)": hist.seconds, "transmitted energy": hist.energy_right[-1] / hist.energy[0],
                     "peak RSS so far (MB)": peak_memory_mb()["max_rank"]})
    return rows


def table(rows: list[dict], unit: str) -> str:
    keys = [k for k in rows[0] if k != "case"]
    for row in rows[1:]:
        keys += [k for k in row if k not in keys and k != "case"]
    lines = ["| case | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for row in rows:
        cells = [("—" if k not in row else f"{row[k]:.3g}" if isinstance(row[k], float) else str(row[k])) for k in keys]
        lines.append(f"| {row['case']} | " + " | ".join(cells) + " |")
    return f"({unit})\n\n" + "\n".join(lines)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results = {"one_d": one_d(), "two_d": two_d(), "time_domain": time_domain(),
               "time_domain_2d": time_domain_2d(), "peak_memory_mb": peak_memory_mb()}
    (OUT / "multiband.json").write_text(json.dumps(results, indent=2))
    text = "\n\n".join([
        "### 1D, seconds per frequency\n\n" + table(results["one_d"], "s per frequency"),
        "### 2D oblique incidence, seconds per (ω, angle)\n\n" + table(results["two_d"], "s per (ω, angle)"),
        "### Time domain, pulse ω = 1.8 into 40 cells\n\n" + table(results["time_domain"], "s per run"),
        "### Time domain 2D, pulse ω = 1.8 at 24° into 30 cells (layers normal)\n\n"
        + table(results["time_domain_2d"], "s per run")])
    (OUT / "multiband.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
