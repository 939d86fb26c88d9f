"""Bravais lattices of the cells: lattice vectors, the reciprocal lattice, the first Brillouin zone and its
high-symmetry points (theory.md §1 "Bloch").

Two families are supported:

* ``"square"`` – square/rectangular (2D) and cubic/orthorhombic (3D, and 1D) lattices, ``a_j = L_j e_j``; the
  cell is the box ``[0, L_1] × … × [0, L_d]``.
* ``"hexagonal"`` – the 2D triangular lattice ``a_1 = (1, 0)``, ``a_2 = (1/2, √3/2)`` (period 1); the cell is its
  Wigner–Seitz hexagon centred at the origin, whose opposite edges are translates by ``a_1``, ``a_2`` and
  ``a_2 − a_1``.

The 3D face-centred cubic lattice (cubic constant ``a = 1``; :func:`fcc_vectors`) is not a ``lattice`` kind of
:class:`~fem_homog.cells.geometry.CellGeometry`: its cells (the primitive rhombohedral cell) are built by
:mod:`fem_homog.cells.crystal3d`. Its named points and those of the simple cubic lattice (``"square"`` in 3D) are
the standard ones (Setyawan & Curtarolo 2010), in Cartesian units of 1/a.

Lattice vectors are the *rows* of a ``d × d`` array ``A``; reciprocal vectors the rows of ``B = 2π A^{-T}``, so
``a_i · b_j = 2π δ_ij``. A Bloch wave picks up ``exp(i k·a_j)`` across the period ``a_j``.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from fem_homog.core.errors import InputError, require

LATTICES = ("square", "hexagonal")
SQRT3 = np.sqrt(3.0)

# High-symmetry points in units of 1/a; for rectangular/orthorhombic cells component j is divided by L_j
# (so M is the zone corner, often called S for rectangular lattices).
SQUARE_POINTS = {
    1: {"G": (0.0,), "X": (np.pi,)},
    2: {"G": (0.0, 0.0), "X": (np.pi, 0.0), "Y": (0.0, np.pi), "M": (np.pi, np.pi)},
    3: {"G": (0.0, 0.0, 0.0), "X": (np.pi, 0.0, 0.0), "M": (np.pi, np.pi, 0.0), "R": (np.pi, np.pi, np.pi)},
}
# Triangular lattice: M the middle of a zone edge (b_2/2), K a zone corner ((b_1 + 2b_2)/3).
HEXAGONAL_POINTS = {"G": (0.0, 0.0), "M": (0.0, 2 * np.pi / SQRT3), "K": (2 * np.pi / 3, 2 * np.pi / SQRT3)}
# fcc (cubic constant 1): X the centre of a square face of the truncated-octahedral zone, L of a hexagonal face,
# W a vertex, K the middle of an edge between two hexagons, U of an edge between a hexagon and a square.
FCC_POINTS = {name: 2 * np.pi * np.array(p) for name, p in {
    "G": (0.0, 0.0, 0.0), "X": (0.0, 1.0, 0.0), "L": (0.5, 0.5, 0.5), "W": (0.5, 1.0, 0.0),
    "K": (0.75, 0.75, 0.0), "U": (0.25, 1.0, 0.25)}.items()}
# The standard band paths (continuous, as letters of high_symmetry_points).
BAND_PATHS = {"cubic": "GXMRG", "fcc": "GXWKGLUWLK"}


def lattice_vectors(kind: str, dim: int, lengths: Sequence[float] | None = None) -> np.ndarray:
    """The lattice vectors (rows) of a ``"square"`` lattice with periods ``lengths`` or of the unit
    ``"hexagonal"`` lattice.

    Raises :class:`~fem_homog.core.errors.InputError` (about ``lattice``, ``dim`` or ``lengths``) for an unknown
    lattice, or a hexagonal one in another dimension or with lengths.
    """
    require(kind in LATTICES, f"unknown {{argument}} '{kind}' (known: {', '.join(LATTICES)})", argument="lattice")
    if kind == "hexagonal":
        require(dim == 2, "the hexagonal lattice is two-dimensional ({argument} = 2)", argument="dim")
        require(not lengths, "does not apply to the hexagonal lattice (its period is 1)", argument="lengths")
        return np.array([[1.0, 0.0], [0.5, SQRT3 / 2]])
    return np.diag(np.asarray(lengths, dtype=float) if lengths else np.ones(dim))


def fcc_vectors() -> np.ndarray:
    """The primitive vectors (rows) of the fcc lattice with cubic constant 1: ``(0,½,½), (½,0,½), (½,½,0)``."""
    return 0.5 * (np.ones((3, 3)) - np.eye(3))


def is_fcc(lattice: np.ndarray) -> bool:
    """Whether ``lattice`` is :func:`fcc_vectors` (the only non-rectangular 3D lattice supported)."""
    return bool(np.shape(lattice) == (3, 3) and np.allclose(lattice, fcc_vectors()))


def reciprocal(lattice: np.ndarray) -> np.ndarray:
    """Reciprocal vectors (rows) ``B = 2π A^{-T}``."""
    return 2 * np.pi * np.linalg.inv(lattice).T


def is_rectangular(lattice: np.ndarray) -> bool:
    return bool(np.allclose(lattice, np.diag(np.diag(lattice))))


def translations(lattice: np.ndarray) -> np.ndarray:
    """All ``Σ c_j a_j`` with ``c_j ∈ {−1, 0, 1}``, not all zero: the moves between periodic images of a
    boundary node of a box or a Wigner–Seitz cell."""
    d = len(lattice)
    return np.array([np.asarray(c) @ lattice for c in itertools.product((-1, 0, 1), repeat=d) if any(c)])


def in_first_zone(k: Sequence[float], lattice: np.ndarray, tol: float = 1e-12) -> bool:
    """Whether ``k`` lies in the first Brillouin zone: ``k·G ≤ |G|²/2`` for the neighbouring reciprocal
    vectors ``G`` (``|k_j| ≤ π/L_j`` for rectangular lattices, the hexagon for the triangular one)."""
    G = translations(reciprocal(lattice))
    return bool(np.all(G @ np.asarray(k, dtype=float) <= 0.5 * np.einsum("ij,ij->i", G, G) * (1 + tol)))


def check_k_in_zone(k: Sequence[float], lattice: np.ndarray) -> None:
    """Raise :class:`InputError` unless ``k`` (units 1/a, Cartesian) is in the first Brillouin zone."""
    k = np.asarray(k, dtype=float)
    if k.shape != (len(lattice),) or not in_first_zone(k, lattice):
        where = (f"|k_j| <= π/L_j (L = {np.diag(lattice).tolist()})" if is_rectangular(lattice)
                 else "the truncated octahedron of the fcc lattice (|k_j| <= 2π, |k_x|+|k_y|+|k_z| <= 3π)"
                 if is_fcc(lattice) else "the hexagon of the triangular lattice (Γ, M, K)")
        raise InputError(f"k-point {k.tolist()} is outside the first Brillouin zone {where}")


def bloch_angles(k: Sequence[float], lattice: np.ndarray) -> np.ndarray:
    """``k·a_j``: the Bloch phase angle across each period."""
    return lattice @ np.asarray(k, dtype=float)


def is_zone_edge(k: Sequence[float], lattice: np.ndarray) -> bool:
    """Whether every phase ``exp(i k·a_j)`` is ±1 (periodic/antiperiodic in each period: Γ, X, M, R; the
    triangular lattice's M), where the Bloch operator is complex symmetric (theory.md §8.1)."""
    angle = np.abs(np.mod(bloch_angles(k, lattice) + np.pi, 2 * np.pi) - np.pi)
    return bool(np.all(np.isclose(angle, 0.0, atol=1e-12) | np.isclose(angle, np.pi, atol=1e-12)))


def high_symmetry_points(lattice: np.ndarray) -> dict[str, np.ndarray]:
    """Named points of the first zone (the letters band paths and HFH points are given with)."""
    if is_fcc(lattice):
        return {name: p.copy() for name, p in FCC_POINTS.items()}
    if not is_rectangular(lattice):
        return {name: np.asarray(p) for name, p in HEXAGONAL_POINTS.items()}
    L = np.diag(lattice)
    return {name: np.asarray(p) / L for name, p in SQUARE_POINTS[len(L)].items()}


def named_point(point: str | Sequence[float], lattice: np.ndarray) -> np.ndarray:
    """A k-point given as a letter of :func:`high_symmetry_points` or as its components (units 1/a)."""
    d = len(lattice)
    if isinstance(point, str):
        known = high_symmetry_points(lattice)
        require(point in known, f"unknown k-point '{point}' for this {d}D lattice (known: {', '.join(known)}, "
                                f"or a list of {d} numbers)")
        return known[point]
    require(len(point) == d, f"a k-point must have {d} components, got {list(point)}")
    return np.asarray(point, dtype=float)


def hexagon_vertices() -> np.ndarray:
    """Vertices of the triangular lattice's Wigner–Seitz cell (inradius 1/2), counter-clockwise."""
    angles = np.radians(30.0 + 60.0 * np.arange(6))
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) / SQRT3
