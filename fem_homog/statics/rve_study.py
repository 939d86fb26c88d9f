"""The RVE study: apparent tensors of random windows at several sizes, and what they say about ``A_hom``
(theory.md §3).

:func:`rve_study` runs an ensemble at every window size (:func:`fem_homog.statics.ensemble.run`) and reduces it
per boundary condition to the statistics of ``(1/d) tr A_R`` (:mod:`fem_homog.statics.rve_stats`): mean, standard
deviation and Student interval per size, the slope of the variance against ``R``, the extrapolation of the means
to ``R → ∞`` and the samples needed for a requested precision. With all three conditions it also checks the
per-sample ordering ``A^N_R ⪯ A^P_R ⪯ A^D_R``, and it reports the exact value where one is known (Dykhne). The
first samples of the largest window are solved again on a twice finer mesh: their difference gives each boundary
condition's ``discretization_error``, and a warning when it is not well inside the confidence interval (or when
the Dirichlet/Neumann means do not bracket the periodic one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.random_media import Medium
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.fem.coefficients import PhaseValue
from fem_homog.output.results import jsonable, peak_memory_mb
from fem_homog.statics import ensemble, rve_stats
from fem_homog.statics.apparent import BOUNDARIES
from fem_homog.statics.bounds import loewner_between

LEVEL = 0.95
"""Confidence level of the intervals."""


@dataclass(frozen=True)
class SizeStatistics:
    """``(1/d) tr A_R`` of every sample of one window size under one boundary condition, its estimate and the
    samples needed for the requested precision."""

    size: float
    estimate: rve_stats.Estimate
    values: list[float]
    samples_needed: int
    tensors: np.ndarray

    def to_dict(self) -> dict:
        return jsonable({"size": self.size, **self.estimate.to_dict(), "values": self.values,
                         "samples_needed": self.samples_needed, "tensors": self.tensors})


@dataclass(frozen=True)
class BoundaryStatistics:
    """The statistics of one boundary condition over all sizes (increasing), the fits across sizes, and the
    estimated discretization error of the largest size's mean (:func:`discretization_error`)."""

    by_size: list[SizeStatistics]
    variance_slope: float | None
    extrapolation: dict | None
    discretization_error: float | None = None

    @property
    def largest(self) -> SizeStatistics:
        """The statistics at the largest window, the best estimate."""
        return self.by_size[-1]

    def to_dict(self) -> dict:
        """JSON-ready: the largest window's ``size``, ``mean``, ``std``, ``ci`` on top, then the fits and
        ``by_size``."""
        top = self.largest.estimate
        return jsonable({"size": self.largest.size, "mean": top.mean, "std": top.std, "ci": list(top.ci),
                         "discretization_error": self.discretization_error,
                         "variance_slope": self.variance_slope, "extrapolation": self.extrapolation,
                         "by_size": [s.to_dict() for s in self.by_size]})


def boundary_statistics(results: Sequence[ensemble.SizeResult], boundary: str, *, precision: float,
                        level: float = LEVEL) -> BoundaryStatistics:
    """Statistics of ``(1/d) tr A_R`` for ``boundary``: per size, the variance slope and the extrapolation."""
    by_size = []
    for res in results:
        values = [rve_stats.mean_trace(T) for T in res.tensors[boundary]]
        est = rve_stats.estimate(values, level)
        by_size.append(SizeStatistics(size=res.size, estimate=est, values=values,
                                      samples_needed=rve_stats.samples_needed(est, precision),
                                      tensors=res.tensors[boundary]))
    sizes = [s.size for s in by_size]
    estimates = [s.estimate for s in by_size]
    return BoundaryStatistics(by_size=by_size,
                              variance_slope=rve_stats.variance_slope(sizes, [e.std for e in estimates]),
                              extrapolation=rve_stats.extrapolate(sizes, estimates))


CHECKED_SAMPLES = 4
"""Samples of the largest window solved again on a twice finer mesh to estimate the discretization error."""


def discretization_error(coarse: ensemble.SizeResult, fine: ensemble.SizeResult, boundary: str) -> float:
    """Estimated discretization error of the mean ``(1/d) tr A_R``: twice the mean difference between the same
    samples on the run's mesh and on one twice as fine (Richardson for a first-order rate, the rate of the
    voxel corner singularities; theory.md §3)."""
    n = len(fine.samples)
    diff = [rve_stats.mean_trace(c) - rve_stats.mean_trace(f)
            for c, f in zip(coarse.tensors[boundary][:n], fine.tensors[boundary])]
    return 2.0 * abs(float(np.mean(diff)))


def warnings(statistics: Mapping[str, BoundaryStatistics]) -> list[str]:
    """What the user must know about the numbers: a discretization error not well inside (below half of) the
    confidence half-width, and Dirichlet/Neumann means that do not bracket the periodic one."""
    out = []
    for name, stats in statistics.items():
        lo, hi = stats.largest.estimate.ci
        if stats.discretization_error is not None and stats.discretization_error > 0.25 * (hi - lo):
            out.append(f"{name}: the discretization error {stats.discretization_error:.2e} is not well inside the "
                       f"confidence half-width {0.5 * (hi - lo):.2e}: refine the window mesh or raise the degree")
    if {"dirichlet", "neumann", "periodic"} <= set(statistics):
        for d, p, n in zip(*(statistics[b].by_size for b in ("dirichlet", "periodic", "neumann"))):
            if not n.estimate.mean <= p.estimate.mean <= d.estimate.mean:
                out.append(f"R = {p.size:g}: the Dirichlet/Neumann means [{n.estimate.mean:.6f}, "
                           f"{d.estimate.mean:.6f}] do not bracket the periodic mean {p.estimate.mean:.6f}")
    return out


def ordering(results: Sequence[ensemble.SizeResult]) -> dict:
    """Per-sample check of ``A^N ⪯ A^P ⪯ A^D`` (Loewner order, up to 1e-8 relative)."""
    checks = [loewner_between(N, P, D)
              for res in results
              for N, P, D in zip(res.tensors["neumann"], res.tensors["periodic"], res.tensors["dirichlet"])]
    return {"neumann_le_periodic_le_dirichlet": all(checks), "violations": checks.count(False),
            "samples": len(checks)}


def reference(medium: Medium, values: Mapping[int, PhaseValue]) -> dict:
    """Exact values known for the medium: Dykhne's √(a1 a2) for the fair 2D random checkerboard."""
    scalar = all(np.ndim(v) == 0 for v in values.values())
    if medium.kind == "checkerboard" and medium.dim == 2 and medium.fraction == 0.5 and scalar:
        return {"dykhne": math.sqrt(values[MATRIX] * values[INCLUSION])}
    return {}


@dataclass
class RVEStudy:
    """The ensembles of every window size and their statistics per boundary condition.

    ``results`` holds the apparent tensors (one :class:`~fem_homog.statics.ensemble.SizeResult` per size),
    ``statistics`` the :class:`BoundaryStatistics` per boundary condition, ``ordering`` the per-sample check (all
    three conditions only), ``reference`` the known exact values. ``timings`` has the ``total`` seconds of the
    ensembles.
    """

    medium: Medium
    sizes: list[float]
    seed: int
    groups: int
    results: list[ensemble.SizeResult]
    statistics: dict[str, BoundaryStatistics]
    ordering: dict | None
    reference: dict
    warnings: list[str]
    ranks: int
    memory_mb: dict[str, float]
    timings: Timings

    def to_dict(self) -> dict:
        """JSON-ready: the rve driver's ``results.json``."""
        out = {**{name: s.to_dict() for name, s in self.statistics.items()}, "kind": self.medium.kind,
               "dim": self.medium.dim, "sizes": self.sizes, "samples": [len(r.samples) for r in self.results],
               "seed": self.seed, "reference": self.reference, "warnings": self.warnings,
               "mesh_cells": [[s.cells for s in r.samples] for r in self.results],
               "dofs": [[s.dofs for s in r.samples] for r in self.results], "ranks": self.ranks,
               "groups": self.groups, "peak_memory_mb": self.memory_mb,
               "timings": {"total": self.timings.seconds["total"],
                           "sample_seconds": [[s.seconds for s in r.samples] for r in self.results]}}
        if {"dirichlet", "neumann"} <= set(self.statistics):
            out["dirichlet_minus_neumann"] = [
                d.estimate.mean - n.estimate.mean
                for d, n in zip(self.statistics["dirichlet"].by_size, self.statistics["neumann"].by_size)]
        if self.ordering is not None:
            out["ordering"] = self.ordering
        return jsonable(out)


def rve_study(medium: Medium, sizes: Sequence[float], *, samples: int, seed: int, values: Mapping[int, PhaseValue],
              boundaries: Sequence[str], options: ensemble.WindowOptions = ensemble.WindowOptions(),
              precision: float = 0.01, groups: int = 1, comm: MPI.Comm = MPI.COMM_WORLD) -> RVEStudy:
    """Apparent tensors of ``samples`` realizations of ``medium`` at every window size in ``sizes`` (increasing)
    under each of ``boundaries``, ``groups`` samples at a time (:func:`fem_homog.statics.ensemble.run`), and their
    statistics (theory.md §3). ``precision`` is the relative half-width the reported ``samples_needed``
    (:func:`~fem_homog.statics.rve_stats.samples_needed`) aim at. Identical on every rank of ``comm``.
    """
    timings = Timings()
    with timings.stage("total"):
        results = ensemble.run(medium, sizes, samples, seed, values, boundaries, options, groups=groups, comm=comm)
        check = min(CHECKED_SAMPLES, len(results[-1].samples))
        fine = ensemble.run(medium, sizes[-1:], check, seed, values, boundaries, options.refined(),
                            groups=min(groups, check), comm=comm)[0]
    statistics = {b: replace(boundary_statistics(results, b, precision=precision),
                             discretization_error=discretization_error(results[-1], fine, b)) for b in boundaries}
    for message in warnings(statistics):
        log(f"  warning: {message}", comm)
    return RVEStudy(medium=medium, sizes=list(sizes), seed=seed, groups=groups, results=results,
                    statistics=statistics, ordering=ordering(results) if len(boundaries) == len(BOUNDARIES) else None,
                    reference=reference(medium, values), warnings=warnings(statistics), ranks=comm.size,
                    memory_mb=peak_memory_mb(comm),
                    timings=timings)


def plot_estimates(study: RVEStudy, path: str | Path) -> None:
    """``(1/d) tr A`` against ``R`` per boundary condition, with the confidence band and the exact value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for (name, stats), colour in zip(study.statistics.items(), ("C0", "C1", "C2")):
        R = [s.size for s in stats.by_size]
        mean = [s.estimate.mean for s in stats.by_size]
        lo, hi = zip(*(s.estimate.ci for s in stats.by_size))
        ax.fill_between(R, lo, hi, color=colour, alpha=0.25)
        ax.errorbar(R, mean, yerr=[np.subtract(mean, lo), np.subtract(hi, mean)], color=colour, marker="o",
                    capsize=4, label=name)
    for label, value in study.reference.items():
        ax.axhline(value, color="k", linestyle="--", label=f"{label} {value:.4g}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("window size R")
    ax.set_ylabel(f"(1/d) tr A_R  (mean, {100 * LEVEL:g} % CI)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
