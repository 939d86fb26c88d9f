"""Apparent conductivity of random media: ensembles of windows, three boundary conditions, confidence intervals.

The story: pick a random medium (periodic RSA disks or spheres, a random checkerboard, or windows cut from a
voxel image) → for every window size R draw ``rve.samples`` realizations, each from its own seed, on groups of
ranks → mesh each window and compute its apparent tensors with periodic, Dirichlet (kinematic) and Neumann
(static) boundary conditions → mean, standard deviation and 95 % Student interval of (1/d) tr A per size, the
slope of the variance against R, the samples needed for a requested precision → solve the first samples of the
largest window again on a twice finer mesh: the discretization error per boundary condition, with a warning when
it is not well inside the interval → write numbers and plots (theory.md §3). Windows default to P2; voxel and
checkerboard windows to 4 cells per voxel graded towards the voxel faces (``mesh.grading``), where the corner
singularities sit; disk and sphere windows to curved (order 2) interfaces, whose polygon-area error would
otherwise exceed the interval.

    python drivers/rve.py                                                   # random checkerboard, R = 8
    python drivers/rve.py --set 'rve.size=[4, 8, 16]'                       # the R-study
    python drivers/rve.py --config drivers/configs/rve_disks.toml           # RSA disks, gmsh
    mpiexec -n 2 python drivers/rve.py --set rve.groups=2                   # two samples at a time
    python drivers/rve.py --set rve.kind=image --set rve.image=micro.png --set rve.size=32

Outputs in ``--out`` (default ``results/rve``): ``results.json``, ``config.toml``, ``rve_estimate.png``
(estimate vs R with the confidence band), ``sample.png`` (one realization).
"""

from pathlib import Path

from mpi4py import MPI

from fem_homog.cells.random_media import plot_sample
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.rve import RVE_DEFAULTS, rve_setup, solve_keys
from fem_homog.core.logging import log
from fem_homog.output.results import write_results
from fem_homog.statics.rve_study import plot_estimates, rve_study

DEFAULTS: Config = {
    "rve": dict(RVE_DEFAULTS),
    "material": {"matrix": 1.0, "inclusion": 4.0, "labels": []},
    "mesh": {"h": 0.1, "order": 2, "cells_per_voxel": 4, "grading": 2.0},
    "fe": {"degree": 2},
    "solver": {"method": "cg-gamg", "rtol": 1e-10},
    "output": {"plot": True},
}


ACCEPTS = {"material.matrix": (list,), "material.inclusion": (list,), "rve.size": (list, float)}
"""Keys that also take another kind than their default's (see :func:`~fem_homog.cli.driver.run_driver`)."""


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    setup = rve_setup(config)
    medium = setup.medium
    log(f"rve: {medium.kind} ({medium.dim}D), R = {setup.sizes}, {setup.samples} samples, {setup.boundaries}, "
        f"{comm.size} rank(s) in {setup.groups} group(s)")
    with solve_keys():
        study = rve_study(medium, setup.sizes, samples=setup.samples, seed=setup.seed, values=setup.values,
                          boundaries=setup.boundaries, options=setup.options, precision=setup.precision,
                          groups=setup.groups, comm=comm)
    for name, stats in study.statistics.items():
        top = stats.largest.estimate
        lo, hi = top.ci
        log(f"  {name:9s} R = {stats.largest.size:g}: (1/d) tr A = {top.mean:.6f} ± {top.std:.2e} "
            f"(95 % CI [{lo:.6f}, {hi:.6f}]), variance slope {stats.variance_slope}")
    if study.ordering is not None:
        log(f"  per-sample ordering N <= P <= D: {study.ordering}")
    if config["output"]["plot"] and comm.rank == 0:
        plot_estimates(study, out / "rve_estimate.png")
        plot_sample(medium.sample(setup.sizes[-1], 0, setup.seed), out / "sample.png")
    path = write_results(out, study.to_dict())
    log(f"  results: {path}  ({study.timings.seconds['total']:.1f} s)")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0], accepts=ACCEPTS))
