"""Random periodic microstructures on a window ``Q_R = [0, R]^d`` (theory.md §3).

Three kinds of realization, each a pure function of its parameters and a seed (no MPI, no meshing), so the
same seed gives the same sample whatever the number of ranks that later mesh and solve it:

* :class:`Spheres` — non-overlapping disks (2D) or spheres (3D) placed by random sequential addition (RSA)
  on the torus ``R^d / (R Z)^d``: an inclusion that crosses the window boundary reappears on the opposite
  side. ``round(R^d)`` inclusions (one per unit cell of side 1, the *inclusion spacing*), radius set by the
  volume fraction. A minimum gap between inclusions, and between an inclusion and the window's faces,
  edges and corners, keeps the geometry meshable.
* :class:`Voxels` (random checkerboard) — ``R^d`` unit squares/cubes, each of the inclusion phase with
  probability ``p`` independently.
* :class:`Voxels` (image) — a user voxel image (``.npy`` array or an image file read by
  ``matplotlib.image``), thresholded to two phases or read as integer labels, cut into windows.

Phase tags are ``MATRIX`` and ``INCLUSION`` (of :mod:`fem_homog.cells.geometry`); labelled images use tags
``1 … K`` in increasing label order. :func:`plot_sample` draws a realization.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import InputError, require

KINDS = ("disks", "spheres", "checkerboard", "image")
RSA_JAMMING = {2: 0.547, 3: 0.384}  # saturation fraction of RSA of equal disks / spheres (Feder 1980; Torquato)
RSA_ATTEMPTS_PER_INCLUSION = 2000


@dataclass(frozen=True)
class Spheres:
    """Equal disks/spheres on the periodic window ``[0, R]^d`` (centres in the window, images implied)."""

    centres: np.ndarray
    radius: float
    size: float

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    def volume_fraction(self) -> float:
        ball = math.pi * self.radius**2 if self.dim == 2 else 4.0 / 3.0 * math.pi * self.radius**3
        return len(self.centres) * ball / self.size**self.dim


@dataclass(frozen=True)
class Voxels:
    """A voxel image on ``[0, R]^d``: ``tags[i_1, …, i_d]`` is the phase tag of the voxel whose lower corner is
    ``(i_1, …, i_d) * voxel`` (index ``i_1`` along ``x``)."""

    tags: np.ndarray
    voxel: float = 1.0

    @property
    def dim(self) -> int:
        return self.tags.ndim

    @property
    def size(self) -> float:
        return self.tags.shape[0] * self.voxel


# ----------------------------------------------------------------------------------------------------------
# seeds
# ----------------------------------------------------------------------------------------------------------

def sample_rng(seed: int, size: float, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of the ensemble at window size ``size``: depends on nothing else."""
    return np.random.default_rng([int(seed), int(round(1000 * size)), int(index)])


# ----------------------------------------------------------------------------------------------------------
# random checkerboard
# ----------------------------------------------------------------------------------------------------------

def random_checkerboard(size: int, dim: int, probability: float, rng: np.random.Generator) -> Voxels:
    """``size^d`` unit squares/cubes, each of the inclusion phase with probability ``probability`` (i.i.d.)."""
    require(dim in (2, 3), f"must be 2 or 3, got {dim}", argument="dim")
    require(0.0 < probability < 1.0, f"must lie in (0, 1), got {probability}", argument="probability")
    n = _integer_size(size)
    inclusion = rng.random((n,) * dim) < probability
    return Voxels(np.where(inclusion, INCLUSION, MATRIX).astype(np.int32))


def _integer_size(size: float) -> int:
    require(float(size) == int(size) and size >= 1,
            f"must be a whole number of squares/voxels for voxel windows, got {size}", argument="size")
    return int(size)


# ----------------------------------------------------------------------------------------------------------
# random sequential addition of disks / spheres
# ----------------------------------------------------------------------------------------------------------

def ball_radius(fraction: float, size: float, dim: int) -> tuple[int, float]:
    """Number of inclusions ``N = round(R^d)`` and the radius giving volume fraction ``fraction``."""
    require(dim in (2, 3), f"must be 2 or 3, got {dim}", argument="dim")
    require(0.0 < fraction < 1.0, f"must lie in (0, 1), got {fraction}", argument="fraction")
    require(size > 0.0, f"must be positive, got {size}", argument="size")
    count = max(1, round(size**dim))
    unit_ball = math.pi if dim == 2 else 4.0 / 3.0 * math.pi
    return count, (fraction * size**dim / (count * unit_ball)) ** (1.0 / dim)


def _periodic_distances(points: np.ndarray, x: np.ndarray, size: float) -> np.ndarray:
    """Distances on the torus of side ``size`` from ``x`` to every row of ``points``."""
    delta = points - x
    delta -= size * np.round(delta / size)
    return np.linalg.norm(delta, axis=1)


def clear_of_window_boundary(centre: np.ndarray, radius: float, size: float, gap: float) -> bool:
    """Whether the sphere's surface stays ``gap`` away from every face, edge and corner of the window.

    With periodic wrap the distance from the centre to the stratum spanned by the axes ``S`` (faces for one
    axis, edges for two, corners for all) is ``sqrt(Σ_{j∈S} δ_j²)``, ``δ_j`` the distance to the nearest plane
    ``x_j ∈ {0, R}``. A surface nearly tangent to one of them would leave slivers gmsh cannot mesh.
    """
    delta = np.minimum(centre, size - centre)
    for count in range(1, len(centre) + 1):
        for axes in itertools.combinations(range(len(centre)), count):
            if abs(math.sqrt(float(np.sum(delta[list(axes)] ** 2))) - radius) <= gap:
                return False
    return True


def random_spheres(size: float, dim: int, fraction: float, gap: float, rng: np.random.Generator) -> Spheres:
    """Random sequential addition of ``round(R^d)`` equal balls on the torus ``[0, R)^d``.

    Candidates are drawn uniformly; one is kept if its (periodic) distance to every kept centre is at least
    ``2 r + gap`` and it passes :func:`clear_of_window_boundary`.

    Raises
    ------
    InputError
        If the fraction is above the RSA saturation fraction (corrected for the gap), the inclusion does not
        fit the window, or the placement fails after ``2000 N`` candidates.
    """
    count, radius = ball_radius(fraction, size, dim)
    require(gap >= 0.0, f"must be >= 0, got {gap}", argument="gap")
    require(2.0 * radius + gap < size,
            f"an inclusion of radius {radius:.3g} does not fit a window of side {size} with gap {gap}")
    limit = RSA_JAMMING[dim] * (radius / (radius + 0.5 * gap)) ** dim
    require(fraction < limit, f"volume fraction {fraction} is unreachable by random sequential addition in "
                              f"{dim}D with gap {gap} (saturation near {limit:.3f})")
    centres = np.empty((0, dim))
    for _ in range(RSA_ATTEMPTS_PER_INCLUSION * count):
        if len(centres) == count:
            break
        x = rng.uniform(0.0, size, dim)
        if len(centres) and _periodic_distances(centres, x, size).min() < 2.0 * radius + gap:
            continue
        if clear_of_window_boundary(x, radius, size, gap):
            centres = np.vstack([centres, x])
    require(len(centres) == count,
            f"volume fraction {fraction} is unreachable by random sequential addition: placed "
            f"{len(centres)} of {count} inclusions of radius {radius:.3g} (gap {gap}); lower the fraction or "
            "the gap")
    return Spheres(centres=centres, radius=radius, size=float(size))


def overlaps(sample: Spheres, gap: float = 0.0) -> int:
    """Number of pairs of inclusions closer than ``2 r + gap`` on the torus (0 for a valid RSA sample)."""
    pairs = 0
    for i in range(1, len(sample.centres)):
        dist = _periodic_distances(sample.centres[:i], sample.centres[i], sample.size)
        pairs += int(np.count_nonzero(dist < 2.0 * sample.radius + gap))
    return pairs


# ----------------------------------------------------------------------------------------------------------
# images
# ----------------------------------------------------------------------------------------------------------

def read_image(path: str | Path) -> np.ndarray:
    """Read a voxel image: a ``.npy`` array indexed ``[i_x, i_y(, i_z)]``, or an image file (PNG, …).

    Image files are converted to grey levels (mean of the colour channels, alpha dropped) and re-indexed so
    that ``[i_x, i_y]`` has ``y`` pointing up (image rows run downwards).
    """
    path = Path(path)
    require(path.is_file(), f"voxel image {path} does not exist")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    import matplotlib.image

    try:
        pixels = np.asarray(matplotlib.image.imread(path), dtype=float)
    except (OSError, ValueError, SyntaxError) as err:
        raise InputError(f"cannot read image {path}: {err}") from None
    if pixels.ndim == 3:
        pixels = pixels[..., :3].mean(axis=2)
    return pixels[::-1].T


def image_tags(image: np.ndarray, *, mode: str, threshold: float) -> np.ndarray:
    """Phase tags of the voxels of an image.

    ``mode = "threshold"``: values above ``threshold`` are the inclusion phase, the others the matrix.
    ``mode = "labels"``: each distinct value is a phase, tagged ``1 … K`` in increasing order.

    Raises
    ------
    InputError
        For an image that is not a square/cubic 2D/3D array, an unknown mode, or a single phase.
    """
    image = np.asarray(image)
    require(image.ndim in (2, 3), f"a voxel image must be a 2D or 3D array, got {image.ndim} dimensions")
    require(len(set(image.shape)) == 1, f"a voxel image must be square/cubic, got shape {list(image.shape)}")
    if mode == "threshold":
        tags = np.where(image > threshold, INCLUSION, MATRIX)
    else:
        require(mode == "labels", f"unknown {{argument}} '{mode}' (known: threshold, labels)", argument="mode")
        _, inverse = np.unique(image, return_inverse=True)
        tags = inverse.reshape(image.shape) + 1
    require(len(np.unique(tags)) > 1,
            f"the voxel image has a single phase (mode '{mode}', threshold {threshold}); nothing to homogenize")
    return tags.astype(np.int32)


def image_windows(tags: np.ndarray, size: int) -> list[Voxels]:
    """The non-overlapping windows of side ``size`` voxels that tile the image, in C order of their corners."""
    n = _integer_size(size)
    side = tags.shape[0]
    require(n <= side, f"{{argument}} {n} is larger than the image ({side} voxels a side)", argument="size")
    starts = range(0, side - n + 1, n)
    return [Voxels(tags[tuple(slice(s, s + n) for s in corner)].copy())
            for corner in itertools.product(starts, repeat=tags.ndim)]


# ----------------------------------------------------------------------------------------------------------
# one entry point
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Medium:
    """What to sample: ``kind`` (:data:`KINDS`), dimension, inclusion fraction (the checkerboard's phase
    probability), RSA gap, and for images the tag array."""

    kind: str
    dim: int = 2
    fraction: float = 0.5
    gap: float = 0.02
    image: np.ndarray | None = None

    def __post_init__(self) -> None:
        require(self.kind in KINDS, f"unknown {{argument}} '{self.kind}' (known: {', '.join(KINDS)})",
                argument="kind")
        require(self.kind != "disks" or self.dim == 2, "'disks' are two-dimensional ({argument} = 2)",
                argument="dim")
        require(self.kind != "spheres" or self.dim == 3, "'spheres' are three-dimensional ({argument} = 3)",
                argument="dim")
        require(self.kind != "image" or self.image is not None, "is needed for kind 'image'", argument="image")

    def available(self, size: float, wanted: int) -> int:
        """How many samples of side ``size`` can be drawn (all of them, except for the tiles of an image)."""
        return min(wanted, len(image_windows(self.image, size))) if self.kind == "image" else wanted

    def sample(self, size: float, index: int, seed: int) -> Spheres | Voxels:
        """Realization ``index`` on a window of side ``size``, a pure function of its arguments."""
        if self.kind == "image":
            return image_windows(self.image, size)[index]
        rng = sample_rng(seed, size, index)
        if self.kind == "checkerboard":
            return random_checkerboard(size, self.dim, self.fraction, rng)
        return random_spheres(size, self.dim, self.fraction, self.gap, rng)


# ----------------------------------------------------------------------------------------------------------
# a picture
# ----------------------------------------------------------------------------------------------------------

def plot_sample(sample: Spheres | Voxels, path: str | Path) -> None:
    """A picture of one 2D realization (a central slice of 3D voxels; disks drawn, spheres skipped)."""
    if isinstance(sample, Spheres) and sample.dim == 3:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
