"""The rve driver's configuration turned into checked, typed objects (errors name the config keys).

Tables: ``[rve]`` (the medium: ``kind``, ``dim``, ``fraction``, ``gap``, ``image``, ``image_mode``,
``threshold``; the ensemble: ``size``, ``samples``, ``seed``, ``boundary``, ``precision``, ``groups``),
``[material]`` (``matrix``, ``inclusion``, or ``labels`` for a labelled image), ``[mesh]`` (``h``, ``order``,
``cells_per_voxel``, ``grading``), ``[fe]`` (``degree``), ``[solver]`` (``method``, ``rtol``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.random_media import Medium, image_tags, read_image
from fem_homog.cli.driver import Config
from fem_homog.cli.keys import config_keys
from fem_homog.cli.statics import symmetric_phase_value
from fem_homog.core.errors import require
from fem_homog.fem.coefficients import PhaseValue
from fem_homog.fem.petsc import METHODS
from fem_homog.statics.apparent import BOUNDARIES
from fem_homog.statics.ensemble import WindowOptions

RVE_DEFAULTS = {"kind": "checkerboard", "dim": 2, "size": 8, "samples": 16, "seed": 1, "boundary": "all",
                "fraction": 0.5, "gap": 0.02, "image": "", "image_mode": "threshold", "threshold": 0.5,
                "precision": 0.01, "groups": 1}
"""The ``[rve]`` section (see :func:`medium_from_config` and :func:`rve_setup`)."""


@dataclass(frozen=True)
class RVESetup:
    """What the rve story needs, checked: the medium and its phase values (tag → conductivity), the window
    sizes (increasing), the boundary conditions, the ensemble (``samples``, ``seed``, ``groups``), the target
    ``precision`` and the per-window mesh and solver options."""

    medium: Medium
    values: dict[int, PhaseValue]
    sizes: list[float]
    boundaries: list[str]
    samples: int
    seed: int
    groups: int
    precision: float
    options: WindowOptions


def medium_from_config(rve: dict) -> Medium:
    """The random medium of an ``[rve]`` table (missing keys take :data:`RVE_DEFAULTS`; the dimension is fixed
    by disks, spheres and images)."""
    rve = {**RVE_DEFAULTS, **rve}
    with config_keys("rve", mode="rve.image_mode"):
        if rve["kind"] == "image":
            require(bool(rve["image"]), "rve.kind = 'image' needs rve.image (a .npy array or an image file)")
            tags = image_tags(read_image(rve["image"]), mode=rve["image_mode"], threshold=rve["threshold"])
            return Medium("image", dim=tags.ndim, image=tags)
        dim = {"disks": 2, "spheres": 3}.get(rve["kind"], rve["dim"])
        return Medium(rve["kind"], dim=dim, fraction=rve["fraction"], gap=rve["gap"])


def phase_values(config: Config, medium: Medium) -> dict[int, PhaseValue]:
    """Phase tag → conductivity: matrix/inclusion, or ``material.labels`` (one per label of a labelled image)."""
    mat, d = config["material"], medium.dim
    with config_keys("material"):
        if medium.kind == "image" and config["rve"]["image_mode"] == "labels" and mat["labels"]:
            count = int(medium.image.max())
            require(len(mat["labels"]) == count,
                    f"material.labels must give {count} values (one per image label), got {len(mat['labels'])}")
            return {k + 1: symmetric_phase_value(v, d, f"labels[{k}]") for k, v in enumerate(mat["labels"])}
        return {MATRIX: symmetric_phase_value(mat["matrix"], d, "matrix"),
                INCLUSION: symmetric_phase_value(mat["inclusion"], d, "inclusion")}


def rve_setup(config: Config) -> RVESetup:
    """The typed objects of the rve ``config``; fails fast on everything but the realizations themselves."""
    rve = config["rve"]
    sizes = rve["size"] if isinstance(rve["size"], list) else [rve["size"]]
    require(len(sizes) > 0 and all(isinstance(s, (int, float)) and s > 0 for s in sizes),
            f"rve.size must be a positive number or a list of them, got {rve['size']}")
    boundaries = list(BOUNDARIES) if rve["boundary"] == "all" else [rve["boundary"]]
    require(boundaries[0] in BOUNDARIES,
            f"unknown rve.boundary '{rve['boundary']}' (known: {', '.join(BOUNDARIES)}, all)")
    require(rve["samples"] >= 2, f"a confidence interval needs rve.samples >= 2, got {rve['samples']}")
    seed = rve["seed"]
    require(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0,
            f"rve.seed must be a non-negative integer, got {seed!r}")
    require(config["fe"]["degree"] in (1, 2, 3), f"fe.degree must be 1, 2 or 3, got {config['fe']['degree']}")
    require(config["solver"]["method"] in METHODS,
            f"unknown solver.method '{config['solver']['method']}' (known: {', '.join(METHODS)})")
    medium = medium_from_config(rve)
    values = phase_values(config, medium)
    sizes = sorted(float(s) for s in sizes)
    for size in sizes:
        with config_keys("rve"):
            available = medium.available(size, rve["samples"])
        require(available >= 2, f"the image holds {available} window(s) of side {size:g}; a confidence interval "
                                "needs at least 2 (lower rve.size)")
    mesh, solver = config["mesh"], config["solver"]
    options = WindowOptions(cells_per_voxel=mesh["cells_per_voxel"], grading=mesh["grading"], h=mesh["h"],
                            order=mesh["order"],
                            degree=config["fe"]["degree"], method=solver["method"], rtol=solver["rtol"])
    return RVESetup(medium=medium, values=values, sizes=sizes, boundaries=boundaries, samples=rve["samples"],
                    seed=rve["seed"], groups=rve["groups"], precision=rve["precision"], options=options)


def solve_keys() -> AbstractContextManager[None]:
    """The config keys of the arguments the ensemble may still refuse (sample generation, window meshing,
    solvers, sub-communicators): wrap the study in it."""
    return config_keys("rve", probability="rve.fraction", boundaries="rve.boundary", values="material.labels",
                       h="mesh.h", order="mesh.order", cells_per_voxel="mesh.cells_per_voxel",
                       grading="mesh.grading", degree="fe.degree",
                       method="solver.method", rtol="solver.rtol")
