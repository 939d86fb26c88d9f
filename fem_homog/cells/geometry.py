"""Periodic unit-cell geometry: the cell box or hexagon, its inclusions, and their validation.

A cell is the box ``Y = [0, L_1] × … × [0, L_d]`` (the unit cell of theory.md §1 by default; other lengths
give rectangular and orthorhombic lattices) or the hexagonal Wigner–Seitz cell of the triangular lattice, holding
one matrix phase and one inclusion phase (or two checkerboard phases), tagged ``MATRIX`` and ``INCLUSION``.

Geometry is validated before any meshing, on every rank, so a bad input fails the same way everywhere:
radii and sides must be positive, fractions in (0, 1), inclusions inside the cell and not overlapping one
another or their own periodic images. Meshing is in :mod:`fem_homog.cells.meshing`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fem_homog.cells.lattice import hexagon_vertices, lattice_vectors
from fem_homog.core.errors import require

MATRIX = 1
INCLUSION = 2
PHASES = {"matrix": MATRIX, "inclusion": INCLUSION}

INCLUSION_SHAPES = {1: (), 2: ("circle", "ellipse", "square"), 3: ("sphere", "cube")}
CELL_SHAPES = {1: ("laminate",), 2: INCLUSION_SHAPES[2] + ("laminate", "checkerboard", "inclusions"),
               3: INCLUSION_SHAPES[3] + ("laminate", "inclusions")}
_GAP = 1e-3  # smallest gap allowed between an inclusion and the cell boundary or another inclusion


@dataclass(frozen=True)
class Inclusion:
    """One inclusion of the cell.

    ``radius`` is the radius of a circle/sphere, ``side`` the side of a square/cube, ``semi_axes`` the two
    semi-axes of an ellipse and ``angle`` a counter-clockwise rotation in degrees (2D shapes).
    """

    shape: str
    centre: tuple[float, ...]
    radius: float = 0.0
    side: float = 0.0
    semi_axes: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0

    def circumradius(self) -> float:
        """Radius of the smallest centred ball containing the inclusion."""
        if self.shape in ("circle", "sphere"):
            return self.radius
        if self.shape == "ellipse":
            return max(self.semi_axes)
        return 0.5 * self.side * math.sqrt(len(self.centre))

    def inradius(self) -> float:
        """Radius of the largest centred ball inside the inclusion."""
        if self.shape in ("circle", "sphere"):
            return self.radius
        if self.shape == "ellipse":
            return min(self.semi_axes)
        return 0.5 * self.side


@dataclass(frozen=True)
class CellGeometry:
    """What to mesh: the dimension, the kind of cell and its parameters.

    ``kind`` is ``"inclusions"`` (a matrix with the listed inclusions), ``"laminate"`` (a layer of the
    inclusion phase of volume fraction ``fraction`` normal to the axis ``normal``, centred in the cell) or
    ``"checkerboard"`` (2D, four squares, the inclusion phase on the anti-diagonal). ``lattice`` is
    ``"square"`` (the box ``[0, L_1] × … × [0, L_d]``) or ``"hexagonal"`` (2D inclusions in the Wigner–Seitz
    hexagon of the unit triangular lattice, centred at the origin; :mod:`fem_homog.cells.lattice`).
    """

    dim: int
    kind: str
    inclusions: tuple[Inclusion, ...] = ()
    fraction: float = 0.5
    normal: tuple[float, ...] = ()
    lengths: tuple[float, ...] = ()
    lattice: str = "square"

    def __post_init__(self) -> None:
        validate(self)

    @property
    def size(self) -> np.ndarray:
        """Extent of the cell's bounding box: the side lengths ``L_j`` of a box cell (1 by default), the
        width and height of the hexagonal cell."""
        if self.lattice == "hexagonal":
            return np.ptp(hexagon_vertices(), axis=0)
        return np.asarray(self.lengths, dtype=float) if self.lengths else np.ones(self.dim)

    @property
    def lattice_vectors(self) -> np.ndarray:
        """The lattice vectors (rows) the cell is periodic with."""
        return lattice_vectors(self.lattice, self.dim, self.lengths)

    @property
    def volume(self) -> float:
        """``|Y|``, the cell's area/volume."""
        return float(abs(np.linalg.det(self.lattice_vectors)))

    def nominal_inclusion_fraction(self) -> float:
        """Exact volume fraction of the inclusion phase (for straight-sided or exactly curved meshes)."""
        if self.kind == "laminate":
            return self.fraction
        if self.kind == "checkerboard":
            return 0.5
        return sum(_volume(inc) for inc in self.inclusions) / self.volume



def _volume(inc: Inclusion) -> float:
    d = len(inc.centre)
    if inc.shape == "circle":
        return math.pi * inc.radius**2
    if inc.shape == "sphere":
        return 4.0 / 3.0 * math.pi * inc.radius**3
    if inc.shape == "ellipse":
        return math.pi * inc.semi_axes[0] * inc.semi_axes[1]
    return inc.side**d


def axis_of(normal: Sequence[float], dim: int) -> int:
    """The coordinate axis ``normal`` points along (a laminate's layering direction)."""
    n = np.asarray(normal, dtype=float)
    require(n.shape == (dim,), f"must have {dim} components, got {list(normal)}", argument="normal")
    nonzero = np.flatnonzero(np.abs(n) > 1e-12)
    require(len(nonzero) == 1,
            f"{{argument}} {list(normal)} is not a coordinate axis; laminates must be layered along x, y or z",
            argument="normal")
    return int(nonzero[0])


def validate(geo: CellGeometry) -> None:
    """Raise :class:`InputError` if the cell cannot be meshed as a periodic cell (naming the field at fault:
    ``dim``, ``lengths``, ``lattice``, ``fraction``, ``normal``, or describing the inclusion)."""
    require(geo.dim in (1, 2, 3), f"must be 1, 2 or 3, got {geo.dim}", argument="dim")
    require(not geo.lengths or (len(geo.lengths) == geo.dim and min(geo.lengths) > 0),
            f"must be {geo.dim} positive numbers, got {list(geo.lengths)}", argument="lengths")
    lattice_vectors(geo.lattice, geo.dim, geo.lengths)  # refuses unknown lattices and bad combinations
    if geo.lattice == "hexagonal":
        require(geo.kind == "inclusions", "the hexagonal cell holds inclusions (not a laminate or checkerboard)")
        require(len(geo.inclusions) > 0, "the cell has no inclusion")
        for inc in geo.inclusions:
            _validate_in_hexagon(inc)
        _check_no_overlap(geo.inclusions)
        return
    if geo.kind == "laminate":
        require(0.0 < geo.fraction < 1.0, f"must lie in (0, 1), got {geo.fraction}", argument="fraction")
        axis_of(geo.normal, geo.dim)
        return
    if geo.kind == "checkerboard":
        require(geo.dim == 2, "the checkerboard cell is two-dimensional ({argument} = 2)", argument="dim")
        return
    require(geo.kind == "inclusions", f"unknown cell kind '{geo.kind}'")
    require(len(geo.inclusions) > 0, "the cell has no inclusion")
    for inc in geo.inclusions:
        _validate_inclusion(inc, geo.dim, geo.size)
    _check_no_overlap(geo.inclusions)


def _validate_inclusion(inc: Inclusion, dim: int, size: np.ndarray) -> None:
    _validate_shape(inc, dim)
    r = inc.circumradius()
    require(2.0 * inc.inradius() < size.min() - _GAP,
            f"{inc.shape} of size {2 * inc.inradius():g} touches or overlaps its own periodic image "
            "across the cell boundary (it must be smaller than the cell)")
    lo, hi = _extent(inc)
    require(bool(np.all(lo > _GAP) and np.all(hi < size - _GAP)),
            f"{inc.shape} at centre {list(inc.centre)} (extent {r:g}) crosses or touches the periodic cell "
            "boundary; move it inside the cell")


def _validate_shape(inc: Inclusion, dim: int) -> None:
    require(inc.shape in INCLUSION_SHAPES[dim],
            f"unknown {dim}D inclusion shape '{inc.shape}' (known: {', '.join(INCLUSION_SHAPES[dim])})")
    require(len(inc.centre) == dim, f"inclusion centre {list(inc.centre)} must have {dim} coordinates")
    if inc.shape in ("circle", "sphere"):
        require(inc.radius > 0.0, f"{inc.shape} radius must be positive, got {inc.radius}")
    elif inc.shape == "ellipse":
        require(min(inc.semi_axes) > 0.0, f"ellipse semi-axes must be positive, got {list(inc.semi_axes)}")
    else:
        require(inc.side > 0.0, f"{inc.shape} side must be positive, got {inc.side}")


def _validate_in_hexagon(inc: Inclusion) -> None:
    """An inclusion of the hexagonal cell lies inside the hexagon (inradius 1/2) with a gap: its bounding
    ball against each of the six edges."""
    _validate_shape(inc, 2)
    angles = np.radians(60.0 * np.arange(6))  # edge normals: ±a_1, ±a_2, ±(a_2 − a_1) directions
    normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    reach = normals @ np.asarray(inc.centre) + inc.circumradius()
    require(bool(np.all(reach < 0.5 - _GAP)),
            f"{inc.shape} at centre {list(inc.centre)} (extent {inc.circumradius():g}) crosses or touches the "
            "hexagonal cell boundary (inradius 1/2, centred at the origin); move or shrink it")


def _extent(inc: Inclusion) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounding box of an inclusion (exact for rotated ellipses and squares)."""
    c = np.asarray(inc.centre, dtype=float)
    if inc.shape in ("circle", "sphere"):
        half = np.full(len(c), inc.radius)
    elif inc.shape == "cube":
        half = np.full(3, 0.5 * inc.side)
    else:
        t = math.radians(inc.angle)
        a, b = inc.semi_axes if inc.shape == "ellipse" else (0.5 * inc.side, 0.5 * inc.side)
        if inc.shape == "ellipse":
            half = np.array([math.hypot(a * math.cos(t), b * math.sin(t)),
                             math.hypot(a * math.sin(t), b * math.cos(t))])
        else:
            half = np.array([a * (abs(math.cos(t)) + abs(math.sin(t)))] * 2)
    return c - half, c + half


def _check_no_overlap(inclusions: Sequence[Inclusion]) -> None:
    """Inclusions must keep a gap between one another (circumscribed balls, then exact boxes)."""
    for a, b in itertools.combinations(inclusions, 2):
        dist = float(np.linalg.norm(np.subtract(a.centre, b.centre)))
        balls_apart = dist > a.circumradius() + b.circumradius() + _GAP
        (alo, ahi), (blo, bhi) = _extent(a), _extent(b)
        boxes_apart = bool(np.any(alo > bhi + _GAP) or np.any(blo > ahi + _GAP))
        exact_balls = {a.shape, b.shape} <= {"circle", "sphere"}
        require(balls_apart or (boxes_apart and not exact_balls),
                f"inclusions at {list(a.centre)} and {list(b.centre)} overlap or touch")
