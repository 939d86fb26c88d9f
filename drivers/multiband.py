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
``oblique.frequencies`` a list. Outputs in ``--out``: ``results.json``, ``config.toml``, ``fits.png``,
``transmission.png`` (+ ``field.png``, ``reflection_vs_angle.png``, ``timedomain.png`` when those studies are
enabled; in 2D also the final fields ``timedomain_model.bp``, ``timedomain_fine.bp``).
"""

from pathlib import Path

from mpi4py import MPI

from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.multiband import multiband_inputs
from fem_homog.core.logging import log
from fem_homog.core.parallel import on_root
from fem_homog.core.timing import Timings
from fem_homog.multiband import homogenize, oblique, plots, timedomain, timedomain2d
from fem_homog.multiband.fem1d import compare_slab_field
from fem_homog.multiband.report import MultibandReport
from fem_homog.multiband.scattering import transmission_sweep
from fem_homog.output.results import write_results

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


def main(config: Config, out: Path) -> None:
    inputs = multiband_inputs(config)
    media, fit = inputs.media, inputs.fit
    log(f"multiband: {len(media.layers)}-layer laminate, order N = {fit.order}, {fit.bands} band(s), "
        f"{inputs.sweep.kind} boundary, {len(inputs.sweep.frequencies)} frequencies")

    timings = Timings()
    with timings.stage("fit"):
        meta, hom = homogenize.fit_media(media, fit)
    edges = media.pass_bands(max(fit.bands, 2))
    log(f"  exact pass bands {[[round(float(e), 4) for e in band] for band in edges]}; fit errors per band "
        f"{[f'{e:.2%}' for e in meta.errors]}")

    sweep = transmission_sweep(hom.model, meta.model, media, inputs.sweep)
    stats, seconds = sweep.summary(), sweep.seconds_per_frequency
    log(f"  T_E model vs exact: max |error| {stats['max_abs_T_error']:.3f}, rms {stats['rms_T_error']:.3f}; "
        f"max ||R|²+T_E−1| {stats['max_energy_balance_error']:.1e}")
    log(f"  seconds per frequency: model {seconds['model']:.2e}, exact {seconds['exact']:.2e}")
    report = MultibandReport(meta, hom, edges, sweep, timings.seconds["fit"])

    plot_dir = plots.output_folder(out, inputs.plot)
    if isinstance(inputs.pulse, timedomain2d.StripPulseOptions):
        report.timedomain = timedomain2d.pulse_study(media, inputs.pulse, out=plot_dir)
    elif inputs.pulse is not None:
        report.timedomain = timedomain.pulse_study(meta.model, media, inputs.pulse, out=plot_dir)
    if inputs.field_omega > 0:
        report.field = compare_slab_field(hom, meta, media, inputs.sweep.cells, inputs.field_omega, out=plot_dir)
        log(f"  field at ω = {report.field.omega}: relative L2 difference model − fine "
            f"{report.field.relative_l2_difference:.3f}")
    if inputs.angles is not None:
        report.oblique = oblique.angle_study(media, inputs.angles, out=plot_dir)
    if inputs.plot:  # drawn by rank 0; a failure there ends every rank (not one waiting in write_results)
        on_root(MPI.COMM_WORLD, lambda: report.plot(plot_dir), broadcast=False)
    log(f"  results: {write_results(out, report.to_dict())}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
