"""Apparent conductivity of random media: ensembles of windows, three boundary conditions, confidence intervals.

The story: pick a random medium (periodic RSA disks or spheres, a random checkerboard, or windows cut from a
voxel image) → for every window size R draw ``rve.samples`` realizations, each from its own seed, on groups of
ranks → mesh each window and compute its apparent tensors with periodic, Dirichlet (kinematic) and Neumann
(static) boundary conditions → mean, standard deviation and 95 % Student interval of (1/d) tr A per size, the
slope of the variance against R, the samples needed for a requested precision → write numbers and plots
(theory.md §3).

    python drivers/rve.py                                                   # random checkerboard, R = 8
    python drivers/rve.py --set 'rve.size=[4, 8, 16]'                       # the R-study
    python drivers/rve.py --config drivers/configs/rve_disks.toml           # RSA disks, gmsh
    mpiexec -n 2 python drivers/rve.py --set rve.groups=2                   # two samples at a time
    python drivers/rve.py --set rve.kind=image --set rve.image=micro.png --set rve.size=32

Outputs in ``--out`` (default ``results/rve``): ``results.json``, ``config.toml``, ``rve_estimate.png``
(estimate vs R with the confidence band), ``sample.png`` (one realization).
"""

import math
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.statics import ensemble, rve_stats
from fem_homog.statics.apparent import BOUNDARIES
from fem_homog.statics.bounds import loewner_between
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.fem.coefficients import as_phase_value
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.core.errors import require
from fem_homog.output.results import peak_memory_mb, write_results
from fem_homog.cells.random_media import KINDS, Medium, Spheres, image_tags, read_image
from fem_homog.fem.petsc import METHODS

DEFAULTS: Config = {
    "rve": {"kind": "checkerboard", "dim": 2, "size": 8, "samples": 16, "seed": 1, "boundary": "all",
            "fraction": 0.5, "gap": 0.02, "image": "", "image_mode": "threshold", "threshold": 0.5,
            "precision": 0.01, "groups": 1},
    "material": {"matrix": 1.0, "inclusion": 4.0, "labels": []},
    "mesh": {"h": 0.1, "order": 1, "cells_per_voxel": 2},
    "fe": {"degree": 1},
    "solver": {"method": "cg-gamg", "rtol": 1e-10},
    "output": {"plot": True},
}
LEVEL = 0.95


def medium_from_config(rve: dict) -> Medium:
    """The random medium of the ``[rve]`` section (dimension fixed by disks/spheres/images)."""
    require(rve["kind"] in KINDS, f"unknown rve.kind '{rve['kind']}' (known: {', '.join(KINDS)})")
    if rve["kind"] == "image":
        require(bool(rve["image"]), "rve.kind = 'image' needs rve.image (a .npy array or an image file)")
        tags = image_tags(read_image(rve["image"]), mode=rve["image_mode"], threshold=rve["threshold"])
        return Medium("image", dim=tags.ndim, image=tags)
    dim = {"disks": 2, "spheres": 3}.get(rve["kind"], rve["dim"])
    return Medium(rve["kind"], dim=dim, fraction=rve["fraction"], gap=rve["gap"])


def phase_values(config: Config, medium: Medium) -> dict:
    """Phase tag → conductivity: matrix/inclusion, or ``material.labels`` (one per label of a labelled image)."""
    mat, d = config["material"], medium.dim
    if medium.kind == "image" and config["rve"]["image_mode"] == "labels" and mat["labels"]:
        count = int(medium.image.max())
        require(len(mat["labels"]) == count,
                f"material.labels must give {count} values (one per image label), got {len(mat['labels'])}")
        return {k + 1: as_phase_value(v, d, f"material.labels[{k}]") for k, v in enumerate(mat["labels"])}
    return {MATRIX: as_phase_value(mat["matrix"], d, "material.matrix"),
            INCLUSION: as_phase_value(mat["inclusion"], d, "material.inclusion")}


def check_inputs(config: Config) -> tuple[list[float], list[str]]:
    """Window sizes and boundary conditions; fail fast on options that are not the medium."""
    rve = config["rve"]
    sizes = rve["size"] if isinstance(rve["size"], list) else [rve["size"]]
    require(len(sizes) > 0 and all(isinstance(s, (int, float)) and s > 0 for s in sizes),
            f"rve.size must be a positive number or a list of them, got {rve['size']}")
    boundaries = list(BOUNDARIES) if rve["boundary"] == "all" else [rve["boundary"]]
    require(boundaries[0] in BOUNDARIES,
            f"unknown rve.boundary '{rve['boundary']}' (known: {', '.join(BOUNDARIES)}, all)")
    require(rve["samples"] >= 2, f"a confidence interval needs rve.samples >= 2, got {rve['samples']}")
    require(config["fe"]["degree"] in (1, 2, 3), f"fe.degree must be 1, 2 or 3, got {config['fe']['degree']}")
    require(config["solver"]["method"] in METHODS,
            f"unknown solver.method '{config['solver']['method']}' (known: {', '.join(METHODS)})")
    return sorted(float(s) for s in sizes), boundaries


def boundary_block(results: list[ensemble.SizeResult], boundary: str, precision: float) -> dict:
    """Statistics of (1/d) tr A for one boundary condition: per size, and at the largest size on top."""
    by_size, estimates = [], []
    for res in results:
        values = [rve_stats.mean_trace(T) for T in res.tensors[boundary]]
        est = rve_stats.estimate(values, LEVEL)
        estimates.append(est)
        by_size.append({"size": res.size, **est.as_dict(), "values": values,
                        "samples_needed": rve_stats.samples_needed(est, precision),
                        "tensors": res.tensors[boundary]})
    sizes = [b["size"] for b in by_size]
    top = by_size[-1]
    return {"size": top["size"], "mean": top["mean"], "std": top["std"], "ci": top["ci"],
            "variance_slope": rve_stats.variance_slope(sizes, [b["std"] for b in by_size]),
            "extrapolation": rve_stats.extrapolate(sizes, estimates), "by_size": by_size}


def ordering(results: list[ensemble.SizeResult]) -> dict:
    """Per-sample check of ``A^N ⪯ A^P ⪯ A^D`` (Loewner order, up to 1e-8 relative)."""
    checks = [loewner_between(N, P, D)
              for res in results
              for N, P, D in zip(res.tensors["neumann"], res.tensors["periodic"], res.tensors["dirichlet"])]
    return {"neumann_le_periodic_le_dirichlet": all(checks), "violations": checks.count(False),
            "samples": len(checks)}


def reference(medium: Medium, values: dict) -> dict:
    """Exact values known for the medium: Dykhne's √(a1 a2) for the fair 2D random checkerboard."""
    scalar = all(np.ndim(v) == 0 for v in values.values())
    if medium.kind == "checkerboard" and medium.dim == 2 and medium.fraction == 0.5 and scalar:
        return {"dykhne": math.sqrt(values[MATRIX] * values[INCLUSION])}
    return {}


def plot_estimates(blocks: dict, ref: dict, path: Path) -> None:
    """(1/d) tr A against R per boundary condition, with the 95 % confidence band and the exact value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for (name, block), colour in zip(blocks.items(), ("C0", "C1", "C2")):
        R = [b["size"] for b in block["by_size"]]
        mean = [b["mean"] for b in block["by_size"]]
        lo, hi = zip(*(b["ci"] for b in block["by_size"]))
        ax.fill_between(R, lo, hi, color=colour, alpha=0.25)
        ax.errorbar(R, mean, yerr=[np.subtract(mean, lo), np.subtract(hi, mean)], color=colour, marker="o",
                    capsize=4, label=name)
    for label, value in ref.items():
        ax.axhline(value, color="k", linestyle="--", label=f"{label} {value:.4g}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("window size R")
    ax.set_ylabel("(1/d) tr A_R  (mean, 95 % CI)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sample(sample, path: Path) -> None:
    """A picture of one 2D realization (a central slice of 3D voxels; disks drawn, spheres skipped)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(sample, Spheres) and sample.dim == 3:
        return
    fig, ax = plt.subplots(figsize=(5, 5))
    R = sample.size
    if isinstance(sample, Spheres):
        for c in sample.centres:
            for shift in np.ndindex(3, 3):
                ax.add_patch(plt.Circle(c + R * (np.array(shift) - 1), sample.radius, color="C1"))
    else:
        tags = sample.tags if sample.dim == 2 else sample.tags[:, :, sample.tags.shape[2] // 2]
        ax.imshow(tags.T, origin="lower", extent=(0, R, 0, R), cmap="viridis", interpolation="nearest")
    ax.set_xlim(0, R)
    ax.set_ylim(0, R)
    ax.set_aspect("equal")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(config: Config, out: Path) -> None:
    comm, rve = MPI.COMM_WORLD, config["rve"]
    sizes, boundaries = check_inputs(config)
    medium = medium_from_config(rve)
    values = phase_values(config, medium)
    for size in sizes:
        available = medium.available(size, rve["samples"])
        require(available >= 2, f"the image holds {available} window(s) of side {size:g}; a confidence interval "
                                "needs at least 2 (lower rve.size)")
    disc = ensemble.Discretization(cells_per_voxel=config["mesh"]["cells_per_voxel"], h=config["mesh"]["h"],
                                   order=config["mesh"]["order"], degree=config["fe"]["degree"],
                                   method=config["solver"]["method"], rtol=config["solver"]["rtol"])
    log(f"rve: {medium.kind} ({medium.dim}D), R = {sizes}, {rve['samples']} samples, {boundaries}, "
        f"{comm.size} rank(s) in {rve['groups']} group(s)")
    start = time.perf_counter()
    results = ensemble.run(medium, sizes, rve["samples"], rve["seed"], values, boundaries, disc,
                           groups=rve["groups"], comm=comm)
    seconds = time.perf_counter() - start
    blocks = {b: boundary_block(results, b, rve["precision"]) for b in boundaries}
    ref = reference(medium, values)
    for name, block in blocks.items():
        lo, hi = block["ci"]
        log(f"  {name:9s} R = {block['size']:g}: (1/d) tr A = {block['mean']:.6f} ± {block['std']:.2e} "
            f"(95 % CI [{lo:.6f}, {hi:.6f}]), variance slope {block['variance_slope']}")
    out_results = {**blocks, "kind": medium.kind, "dim": medium.dim, "sizes": sizes,
                   "samples": [len(r.samples) for r in results], "seed": rve["seed"], "reference": ref,
                   "mesh_cells": [[s.cells for s in r.samples] for r in results],
                   "dofs": [[s.dofs for s in r.samples] for r in results], "ranks": comm.size,
                   "groups": rve["groups"], "peak_memory_mb": peak_memory_mb(comm),
                   "timings": {"total": seconds,
                               "sample_seconds": [[s.seconds for s in r.samples] for r in results]}}
    if {"dirichlet", "neumann"} <= set(boundaries):
        out_results["dirichlet_minus_neumann"] = [d["mean"] - n["mean"] for d, n in
                                                  zip(blocks["dirichlet"]["by_size"], blocks["neumann"]["by_size"])]
    if len(boundaries) == len(BOUNDARIES):
        out_results["ordering"] = ordering(results)
        log(f"  per-sample ordering N <= P <= D: {out_results['ordering']}")
    if config["output"]["plot"] and comm.rank == 0:
        plot_estimates(blocks, ref, out / "rve_estimate.png")
        plot_sample(medium.sample(sizes[-1], 0, rve["seed"]), out / "sample.png")
    path = write_results(out, out_results)
    log(f"  results: {path}  ({seconds:.1f} s)")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
