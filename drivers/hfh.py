"""High-frequency homogenization: the effective tensor of a Bloch mode at a Brillouin-zone point.

The story: describe the cell → mesh it periodically → give each phase its ε(Ω) (μ_r(Ω)) → at the zone point
find the chosen band and its neighbours, decide the case (simple, repeated, nearby, interior, low-frequency)
→ solve the corrector problems and assemble the tensor T (Ω² ≈ Ω0² + T_ij κ_i κ_j) or the coupled model →
classify the effective operator (elliptic / parabolic / hyperbolic) and its star → check the asymptotic
dispersion against the exact bands around the point (plot, and the error's log-log slope) → write the fields.

    python drivers/hfh.py                                         # rods ε = 8.9, r = 0.2a, TM, X, band 1
    python drivers/hfh.py --config drivers/configs/hfh_drude_square_rods_tm.toml
    python drivers/hfh.py --config drivers/configs/hfh_drude_square_rods_tm.toml --set hfh.path='"GXMG"' --set hfh.band=3
    mpiexec -n 2 python drivers/hfh.py --set hfh.point='"M"' --set hfh.band=2

Frequencies in units of 2πc/a (inputs and ``omega0``); T in non-dimensional units (cell = 1, Ω = ωa/c).
"""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from fem_homog.photonics.bands import k_path
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.slots import POLARIZATIONS
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.photonics.classification import classify, star
from fem_homog.core.errors import InputError, require
from fem_homog.photonics.hfh import HFHResult, Selection, hfh_at_point
from fem_homog.photonics.hfh_path import bands_along, compare_along, fitted_slope, probe_directions
from fem_homog.cells.lattice import named_point
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.output.plotting import plot_fields
from fem_homog.core.units import to_reduced

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.2},
    "material": dict(MATERIAL_DEFAULTS),
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "hfh": {"point": "X", "band": 1, "target": 0.0, "search_from": 0.0, "cluster_tol": 0.02,
            "repeated_tol": 1e-5, "parabolic_tol": 0.05, "kappa_max": 0.4, "check_points": 5,
            "path": "", "path_points": 12, "path_bands": 0},
    "output": {"plot": True},
}


def summary(result: HFHResult, hfh: dict, lattice: np.ndarray) -> dict:
    """The numbers of ``results.json`` that describe the effective model."""
    T = result.T if result.T is not None else None
    out = {"case": result.case, "k0": result.k0, "omega0": complex(to_reduced(result.omega0)),
           "omegas": [complex(to_reduced(w)) for w in result.omegas], "T": T,
           "solvability_multiplier": result.solvability_multiplier}
    if result.case == "nearby":
        out["T_bands"] = result.T_bands
    if result.D is not None:
        out["D"] = result.D
    if result.W is not None and result.case in ("repeated", "nearby"):
        out["W"] = result.W
    if result.T_blocks is not None:
        out["T_blocks"] = result.T_blocks
    if result.case in ("repeated", "nearby", "interior"):
        out["slopes"] = {name: result.slopes(e) for name, e in probe_directions(result.k0, lattice).items()}
    if result.case == "interior":
        out["gradient"] = result.gradient
        out["group_velocity"] = result.gradient / (2 * result.omega0.real)
    if T is not None:
        out["classification"] = classify(T, hfh["parabolic_tol"])
        out["star"] = star(result.k0, T, lattice)
    return out


def asymptotic_check(problem: BlochProblem, result: HFHResult, hfh: dict, lattice: np.ndarray) -> dict:
    """Exact vs asymptotic bands along each probe direction; the error's fitted log-log slope (skipped with
    ``hfh.check_points = 0``)."""
    if hfh["check_points"] == 0:
        return {}
    require(hfh["check_points"] >= 2 and hfh["kappa_max"] > 0,
            "hfh.check_points must be 0 (no check) or >= 2, and hfh.kappa_max positive")
    kappas = hfh["kappa_max"] * 0.5 ** np.arange(hfh["check_points"])[::-1]
    comparisons = {}
    for name, e in probe_directions(result.k0, lattice).items():
        comparisons[name] = compare_along(problem, result, e, kappas)
        log(f"  asymptotics along {name}: error slope {fitted_slope(kappas, comparisons[name].error):.2f}")
    return comparisons


def plot(comparisons: dict, result: HFHResult, path_out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    fine = np.linspace(0, max(c.kappa.max() for c in comparisons.values()), 60)
    for n, (name, c) in enumerate(comparisons.items()):
        colour = f"C{n}"
        predicted = np.sqrt(result.predict(fine[:, None] * c.direction).astype(complex))
        axes[0].plot(fine, to_reduced(predicted.real), "-", color=colour, lw=1)
        axes[0].plot(c.kappa, to_reduced(c.exact.real), "o", color=colour, ms=4, label=f"exact, {name}")
        axes[1].loglog(c.kappa, c.error, "o-", color=colour,
                       label=f"{name}: slope {fitted_slope(c.kappa, c.error):.2f}")
    axes[0].set_xlabel("|κ| a")
    axes[0].set_ylabel("Re ω a/2πc")
    axes[0].set_title(f"{result.case}: HFH asymptotics (lines) vs exact bands")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("|κ| a")
    axes[1].set_ylabel("|Ω²exact − Ω²HFH| / |Ω0²|")
    axes[1].set_title("asymptotic error")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)


def report(out: dict) -> None:
    log(f"  case: {out['case']}, ω0 a/2πc = {np.round(out['omegas'], 6).tolist()}")
    if out["T"] is not None:
        log(f"  T = {np.round(out['T'], 6).tolist()}")
        c = out["classification"]
        log(f"  type: {c['type']} ({c['extremum']}), principal values {np.round(c['eigenvalues'], 6).tolist()}")
    if "slopes" in out:
        log(f"  slopes dΩ²/d|κ|: { {k: np.round(v, 6).tolist() for k, v in out['slopes'].items()} }")
    log(f"  solvability multiplier {out['solvability_multiplier']:.1e}")


def path_study(problem: BlochProblem, hfh: dict, selection: Selection, lattice: np.ndarray, out: Path) -> dict:
    """``hfh.path`` (e.g. "GXMG"): the HFH model of bands 1..``hfh.path_bands`` (default ``hfh.band``) at every
    vertex of the path, printed point by point, and the exact band diagram along the path with the asymptotic
    curves around each vertex."""
    path = k_path(hfh["path"], hfh["path_points"], len(lattice), lattice)
    top = hfh["path_bands"] or hfh["band"]
    require(top >= 1, f"hfh.path_bands must be >= 0, got {hfh['path_bands']}")
    models = {}
    for index, letter in path.labels:
        if letter in models:
            continue
        models[letter] = []
        for band in range(1, top + 1):
            log(f"  point {letter}, band {band}:")
            try:
                result = hfh_at_point(problem, path.k[index], replace(selection, band=band, target=None))
            except InputError as error:  # e.g. the acoustic band of a medium without a static limit
                log(f"    skipped: {error}")
                continue
            models[letter].append((band, result))
            report(summary(result, hfh, lattice))
    exact = bands_along(problem, path.k, top + 1, selection.search_from)
    if problem.mesh.comm.rank == 0 and out is not None:
        plot_path(path, exact, models, hfh["kappa_max"], out / "hfh_path.png")
    return {"k": path.k, "labels": [[i, n] for i, n in path.labels], "exact": to_reduced(exact),
            "points": {letter: [{"band": band, **summary(r, hfh, lattice)} for band, r in entries]
                       for letter, entries in models.items()}}


def plot_path(path, exact: np.ndarray, models: dict, kappa_max: float, path_out: Path) -> None:
    """Exact bands (dots, Re and Im ω) along the path and each vertex's HFH curves within ``kappa_max``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    s = path.distance
    for column in exact.T:
        axes[0].plot(s, to_reduced(column.real), "k.", ms=3)
        axes[1].plot(s, to_reduced(column.imag), "k.", ms=3)
    for index, letter in path.labels:
        near = np.flatnonzero(np.abs(s - s[index]) <= kappa_max)
        fine = np.linspace(s[near].min(), s[near].max(), 40)
        ks = np.array([np.interp(fine, s[near], path.k[near, j]) for j in range(path.k.shape[1])]).T
        for _, result in models.get(letter, []):
            omega = np.sqrt(result.predict(ks - path.k[index]).astype(complex))
            axes[0].plot(fine, to_reduced(omega.real), "r-", lw=1)
            axes[1].plot(fine, to_reduced(omega.imag), "r-", lw=1)
    for ax, name in zip(axes, ("Re ω a/2πc", "Im ω a/2πc")):
        ax.set_xticks([s[i] for i, _ in path.labels], [("Γ" if n == "G" else n) for _, n in path.labels])
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].set_title("exact bands (dots) and HFH asymptotics (red)")
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)


def main(config: Config, out: Path) -> None:
    require(config["physics"]["polarization"] in POLARIZATIONS,
            f"unknown physics.polarization '{config['physics']['polarization']}' (known: TM, TE)")
    hfh = config["hfh"]
    phases = phases_from_config(config["material"])
    geometry = geometry_from_config(config["cell"])
    k0 = named_point(hfh["point"], geometry.lattice_vectors)
    selection = Selection.from_config(hfh)
    log(f"hfh: {config['physics']['polarization']}, k0 = {np.round(k0, 6).tolist()}, "
        f"{'target' if selection.target else 'band'} {hfh['target'] if selection.target else hfh['band']}")
    timings = {}
    start = time.perf_counter()
    cell = mesh_cell(geometry, h=config["mesh"]["h"], order=config["mesh"]["order"], refine=config["mesh"]["refine"])
    problem = BlochProblem(cell, phases, polarization=config["physics"]["polarization"],
                           degree=config["fe"]["degree"])
    timings["mesh_and_setup"] = time.perf_counter() - start
    start = time.perf_counter()
    result = hfh_at_point(problem, k0, selection)
    timings["hfh"] = time.perf_counter() - start
    numbers = summary(result, hfh, geometry.lattice_vectors)
    report(numbers)

    if hfh["path"]:
        start = time.perf_counter()
        numbers["path"] = path_study(problem, hfh, selection, geometry.lattice_vectors,
                                     out if config["output"]["plot"] else None)
        timings["path"] = time.perf_counter() - start
    start = time.perf_counter()
    comparisons = asymptotic_check(problem, result, hfh, geometry.lattice_vectors)
    timings["asymptotic_check"] = time.perf_counter() - start
    numbers["asymptotics"] = {name: {"direction": c.direction, "kappa": c.kappa,
                                     "exact": to_reduced(c.exact), "hfh": to_reduced(c.predicted),
                                     "error": c.error, "error_slope": fitted_slope(c.kappa, c.error)}
                              for name, c in comparisons.items()}
    results = {**numbers, "dofs": problem.V.dofmap.index_map.size_global, "ranks": cell.mesh.comm.size,
               "timings": timings, "memory_mb": peak_memory_mb()}
    write_results(out, results)
    fields = [*result.U0, *result.U1]
    names = [f"U0_{p}" for p in range(len(result.U0))] + [f"U1_{n}" for n in range(len(result.U1))]
    for f, name in zip(fields, names):
        f.name = name
    write_fields(out / "hfh_fields.bp", fields)
    if config["output"]["plot"]:
        if cell.mesh.comm.rank == 0 and comparisons:
            plot(comparisons, result, out / "hfh_asymptotics.png")
        if cell.mesh.geometry.dim > 1:
            plot_fields([f for f in fields[:3]], [f"Re {n}" for n in names[:3]], out / "hfh_fields.png")
    log(f"  results: {out / 'results.json'}  plots: {out / 'hfh_asymptotics.png'}, {out / 'hfh_fields.png'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
