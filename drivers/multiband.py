"""Multiband real-space homogenization of a laminate: rational fits, higher-order model, scattering.

The story: exact bands of the laminate (transfer matrix) → rational fit R_2N of the first band (or a two-band
product model with a gap) → the higher-order real-space model with its interface conditions → reflection and
transmission at a single boundary (half-space | metamaterial) or by a slab of N cells, frequency by frequency,
against the exact fine-scale answer → optionally 2D oblique incidence (tensor fits, reflection vs angle against
exact mode matching) and a pulse in the time domain (dolfinx FEM of the model against the fine-scale
laminate, in 1D or, with ``timedomain.dim = 2``, at oblique incidence on a strip) → numbers and plots
(theory.md §10).

    python drivers/multiband.py                                              # R_6, single boundary
    python drivers/multiband.py --config drivers/configs/multiband_double.toml
    python drivers/multiband.py --config drivers/configs/multiband_timedomain_2d.toml     # 2D pulse at 24°
    python drivers/multiband.py --set model.order=1 --set 'scattering.frequencies=[0.5, 1.0, 2.0]'

Units: period 1, angular frequency ω of −(E u')' = ω² ρ u. ``scattering.frequencies`` and ``oblique.angles``
take a list or a range ``"start:stop:count"`` (``count`` evenly spaced values, both ends included);
``oblique.frequencies`` a list. Outputs in ``--out``: ``results.json``, ``config.toml``, ``fits.png``, ``transmission.png``
(+ ``field.png``, ``reflection_vs_angle.png``, ``timedomain.png`` when those studies are enabled; in 2D also the
final fields ``timedomain_model.bp``, ``timedomain_fine.bp``).
"""

import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.core.errors import InputError, require
from fem_homog.output.results import write_results
from fem_homog.multiband import homogenize, oblique, plots, scattering, timedomain2d
from fem_homog.multiband.fem1d import harmonic_slab
from fem_homog.multiband.fits import band_edges, elastic_layers
from fem_homog.multiband.model import interface_conditions
from fem_homog.multiband.timedomain import pulse_study

DEFAULTS: Config = {
    "laminate": {"layers": [[1.0, 1.0, 0.5], [6.0, 1.5, 0.5]]},
    "homogeneous": {"E": 2.0, "rho": 1.0},
    "model": {"order": 3, "bands": 1},
    "fit": {"samples": 60, "refine": True, "cutoff": False},
    "scattering": {"kind": "single", "cells": 10, "termination": 0, "frequencies": "0.05:3.8:120",
                   "field_omega": 0.0},
    "timedomain": {"enabled": False, "cells": 40, "length": 40.0, "omega": 1.0, "width": 4.0, "time": 30.0,
                   "dt": 0.02, "h_model": 0.1, "h_fine": 0.025, "degree": 2, "snapshots": 4, "dim": 1,
                   "orientation": "parallel", "height": 4.0, "mode": 1},
    "oblique": {"enabled": False, "orientation": "normal", "frequencies": [1.0, 2.0, 2.6], "angles": "0:85:18",
                "samples": 16, "k_t_max": 6.283185307179586, "h": 0.05},
    "output": {"plot": True},
}
KINDS = ("single", "double")


def parse_values(spec, key: str, positive: bool = True) -> np.ndarray:
    """A list of numbers, or ``"start:stop:count"`` (``count`` evenly spaced values, both ends included)."""
    if isinstance(spec, str):
        parts = spec.split(":")
        require(len(parts) == 3, f"{key} range must be 'start:stop:count', got '{spec}'")
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise InputError(f"{key} range '{spec}' is not numeric") from None
        require(count >= 1 and stop >= start, f"{key} range '{spec}' is empty")
        values = np.linspace(start, stop, count)
    else:
        require(len(spec) > 0 and all(isinstance(w, (int, float)) for w in spec),
                f"{key} must be a non-empty list of numbers or 'start:stop:count'")
        values = np.asarray(spec, dtype=float)
    require(not positive or bool(np.all(values > 0)), f"{key} must be positive")
    return values


def check_inputs(config: Config) -> None:
    elastic_layers(config["laminate"]["layers"])
    sc, model = config["scattering"], config["model"]
    require(sc["kind"] in KINDS, f"unknown scattering.kind '{sc['kind']}' (known: {', '.join(KINDS)})")
    require(isinstance(sc["cells"], int) and sc["cells"] >= 1, f"scattering.cells must be ≥ 1, got {sc['cells']}")
    require(isinstance(model["order"], int) and 1 <= model["order"] <= 6,
            f"model.order must be an integer 1..6, got {model['order']}")
    require(config["homogeneous"]["E"] > 0 and config["homogeneous"]["rho"] > 0,
            "homogeneous.E and homogeneous.rho must be positive")
    require(not config["timedomain"]["enabled"] or (model["bands"] == 1 and model["order"] <= 2),
            "the time-domain study needs model.bands = 1 and model.order ≤ 2")
    require(config["timedomain"]["dim"] in (1, 2), f"timedomain.dim must be 1 or 2, got {config['timedomain']['dim']}")


def fit_report(h: homogenize.Homogenized) -> dict:
    return {"bands": [{"numerator": b.num, "denominator": b.den} for b in h.bands], "errors": h.errors,
            "C": h.model.C, "order": h.model.order, "time_order": h.model.time_order}


def scatter(config: Config, meta, hom, omegas: np.ndarray) -> tuple[list[dict], dict]:
    """One row per frequency: model and exact energy transmission, the model's energy balance."""
    sc, spec = config["scattering"], config["laminate"]["layers"]
    E_h, rho_h = config["homogeneous"]["E"], config["homogeneous"]["rho"]
    single = sc["kind"] == "single"
    models = [hom.model, meta.model] if single else [hom.model, meta.model, hom.model]
    interfaces = [0.0] if single else [0.0, float(sc["cells"])]
    rows, seconds = [], {"model": 0.0, "exact": 0.0}
    for w in omegas:
        t0 = time.perf_counter()
        m = scattering.solve(models, interfaces, float(w))
        t1 = time.perf_counter()
        e = scattering.exact(spec, E_h, rho_h, float(w), None if single else sc["cells"], sc["termination"])
        seconds["model"] += t1 - t0
        seconds["exact"] += time.perf_counter() - t1
        rows.append({"omega": float(w), "exact": e.T_E, "model": m.T_E, "energy_balance": m.energy_balance,
                     "R_exact": abs(e.R), "R_model": abs(m.R), "flux_mismatch": m.flux_mismatch,
                     "propagating_transmitted": sum(1 for mode in m.modes
                                                    if mode.region == len(models) - 1 and mode.propagating)})
    return rows, {k: v / len(omegas) for k, v in seconds.items()}


def field_study(config: Config, meta, hom, out: Path) -> dict:
    """Field of the slab at ``scattering.field_omega``: model against a P3 FEM of the laminate (exact exteriors)."""
    sc, spec = config["scattering"], config["laminate"]["layers"]
    E_h, rho_h, w, L = config["homogeneous"]["E"], config["homogeneous"]["rho"], sc["field_omega"], sc["cells"]
    require(sc["kind"] == "double", "scattering.field_omega needs scattering.kind = double")
    model = scattering.solve([hom.model, meta.model, hom.model], [0.0, float(L)], w)
    fine = harmonic_slab(scattering.terminated(spec, sc["termination"]), L, E_h, rho_h, w)
    q, pad = w * np.sqrt(rho_h / E_h), np.linspace(0.0, 3.0, 120)
    x_fine = np.concatenate([pad - 3.0, fine.x, L + pad])
    u_fine = np.concatenate([np.exp(1j * q * (pad - 3.0)) + fine.scattering.R * np.exp(-1j * q * (pad - 3.0)),
                             fine.u, fine.scattering.t * np.exp(1j * q * pad)])
    x_model = np.linspace(-3.0, L + 3.0, 40 * (L + 6))
    if out is not None:
        plots.plot_field(x_model, model.field(x_model), x_fine, u_fine, w, (0.0, float(L)), out / "field.png")
    inside = (fine.x > 0) & (fine.x < L)
    diff = np.abs(model.field(fine.x[inside]) - fine.u[inside])
    return {"omega": w, "max_abs_difference": float(diff.max()),
            "relative_l2_difference": float(np.linalg.norm(diff) / np.linalg.norm(fine.u[inside]))}


def summary(rows: list[dict]) -> dict:
    diff = np.array([r["model"] - r["exact"] for r in rows])
    return {"max_abs_T_error": float(np.max(np.abs(diff))), "rms_T_error": float(np.sqrt(np.mean(diff ** 2))),
            "max_energy_balance_error": float(max(abs(r["energy_balance"] - 1) for r in rows)),
            "max_flux_mismatch": float(max(r["flux_mismatch"] for r in rows))}


def oblique_study(config: Config, out: Path | None) -> dict:
    """2D oblique incidence (R_2 per band, tensor coefficients): reflection vs angle, model against exact."""
    ob, spec, bands = config["oblique"], config["laminate"]["layers"], config["model"]["bands"]
    E_h, rho_h = config["homogeneous"]["E"], config["homogeneous"]["rho"]
    require(ob["orientation"] in oblique.ORIENTATIONS,
            f"unknown oblique.orientation '{ob['orientation']}' (known: {', '.join(oblique.ORIENTATIONS)})")
    angles = parse_values(ob["angles"], "oblique.angles", positive=False)
    require(bool(np.all((angles >= 0) & (angles < 90))), "oblique.angles must lie in [0, 90) degrees")
    t0 = time.perf_counter()
    meta = oblique.fit(spec, bands, ob["samples"], ob["k_t_max"], config["fit"]["cutoff"], config["fit"]["refine"])
    hom = oblique.fit_homogeneous(E_h, rho_h, bands, ob["samples"], ob["k_t_max"])
    log(f"  oblique ({ob['orientation']} layers): 2D fit errors per band {[f'{e:.2%}' for e in meta.errors]}, "
        f"{time.perf_counter() - t0:.1f} s")
    rows = oblique.angle_rows(meta, hom, spec, E_h, rho_h, ob["orientation"],
                              parse_values(ob["frequencies"], "oblique.frequencies"), angles,
                              config["scattering"]["termination"], ob["h"])
    diff = [abs(r["model_R_E"] - r["exact_R_E"]) for r in rows]
    log(f"  oblique R_E model vs exact: max |error| {max(diff):.3f}; max |balance − 1| "
        f"{max(abs(r['energy_balance'] - 1) for r in rows):.1e}")
    if out is not None:
        plots.plot_angles(rows, f"{ob['orientation']} layers, {bands} band(s)", out / "reflection_vs_angle.png")
    return {"fit": {"C2": meta.C2, "bands": meta.bands, "errors": meta.errors},
            "homogeneous_fit": {"C2": hom.C2, "errors": hom.errors}, "rows": rows,
            "max_abs_R_error": max(diff)}


def main(config: Config, out: Path) -> None:
    check_inputs(config)
    spec, mc, fc = config["laminate"]["layers"], config["model"], config["fit"]
    omegas = parse_values(config["scattering"]["frequencies"], "scattering.frequencies")
    log(f"multiband: {len(spec)}-layer laminate, order N = {mc['order']}, {mc['bands']} band(s), "
        f"{config['scattering']['kind']} boundary, {len(omegas)} frequencies")
    t0 = time.perf_counter()
    meta = homogenize.laminate(spec, mc["order"], mc["bands"], fc["samples"], fc["refine"], fc["cutoff"])
    hom = homogenize.homogeneous(config["homogeneous"]["E"], config["homogeneous"]["rho"], mc["bands"],
                                 fc["samples"])
    t_fit = time.perf_counter() - t0
    edges = band_edges(elastic_layers(spec), max(mc["bands"], 2))
    log(f"  exact pass bands {np.round(edges, 4).tolist()}; fit errors per band "
        f"{[f'{e:.2%}' for e in meta.errors]}")
    rows, per_frequency = scatter(config, meta, hom, omegas)
    plot_dir = out if config["output"]["plot"] and MPI.COMM_WORLD.rank == 0 else None  # 1D work is serial
    stats = summary(rows)
    log(f"  T_E model vs exact: max |error| {stats['max_abs_T_error']:.3f}, rms {stats['rms_T_error']:.3f}; "
        f"max ||R|²+T_E−1| {stats['max_energy_balance_error']:.1e}")
    log(f"  seconds per frequency: model {per_frequency['model']:.2e}, exact {per_frequency['exact']:.2e}")
    results = {"fit": fit_report(meta), "homogeneous_model": fit_report(hom), "band_edges": edges,
               "interface_conditions": interface_conditions(hom.model.order, meta.model.order),
               "transmission": rows, "summary": stats,
               "timings": {"fit": t_fit, "seconds_per_frequency": per_frequency}}
    if config["timedomain"]["enabled"]:
        results["timedomain"] = (pulse_study(config, meta.model, plot_dir) if config["timedomain"]["dim"] == 1
                                 else timedomain2d.pulse_study(config, plot_dir))
    if config["scattering"]["field_omega"] > 0:
        results["field"] = field_study(config, meta, hom, plot_dir)
        log(f"  field at ω = {results['field']['omega']}: relative L2 difference model − fine "
            f"{results['field']['relative_l2_difference']:.3f}")
    if config["oblique"]["enabled"]:
        results["oblique"] = oblique_study(config, plot_dir)
    if plot_dir is not None:
        k_model = np.linspace(1e-3, 1.6 * np.pi, 300)
        plots.plot_fits(meta.ks, meta.exact, k_model, homogenize.model_bands(meta.model, k_model), meta.errors,
                        out / "fits.png")
        plots.plot_transmission(rows, edges, f"{config['scattering']['kind']} boundary, "
                                f"{meta.model.name} (N = {meta.model.order})", out / "transmission.png")
    path = write_results(out, results)
    log(f"  results: {path}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
