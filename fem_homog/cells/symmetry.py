"""The point group of a periodic cell: the lattice symmetries about the cell's centre that map the phases onto
themselves (theory.md §8.3 "little group", §8.6 "star").

The candidates are the point group of the lattice (signed permutations on square/cubic lattices, filtered by the
side lengths; the twelve operations of C6v on the triangular lattice). An operation ``R`` belongs to the cell's
group when ``y ↦ c + R (y − c)`` (``c`` the cell centre: the box's middle, the hexagon's origin) maps every phase
onto itself, tested on a dense set of sample points. Every such ``R`` maps the cell onto itself, so no periodic
wrapping is needed. Symmetries about other centres (the checkerboard's four-fold axes through its squares'
centres) are not sought: the group found is then a subgroup of the crystal's.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from fem_homog.cells.geometry import CellGeometry, Inclusion, axis_of


def lattice_operations(lattice: np.ndarray) -> list[np.ndarray]:
    """The orthogonal ``R`` that map the lattice onto itself (``A Rᵀ A⁻¹`` integer, rows of ``A`` the lattice
    vectors), taken from the signed permutations and the hexagonal rotations and reflections."""
    d = len(lattice)
    candidates = []
    for perm in itertools.permutations(range(d)):
        for signs in itertools.product((1.0, -1.0), repeat=d):
            R = np.zeros((d, d))
            R[np.arange(d), perm] = signs
            candidates.append(R)
    if d == 2:
        for n in range(12):
            t = math.radians(30.0 * n)
            rotation = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
            candidates += [rotation, rotation @ np.diag([1.0, -1.0])]
    out: list[np.ndarray] = []
    inverse = np.linalg.inv(lattice)
    for R in candidates:
        n = lattice @ R.T @ inverse
        if np.allclose(n, np.round(n), atol=1e-9) and not any(np.allclose(R, S) for S in out):
            out.append(R)
    return out


def cell_centre(geo: CellGeometry) -> np.ndarray:
    """The centre the operations act about: the box's middle, or the hexagon's origin."""
    return np.zeros(2) if geo.lattice == "hexagonal" else 0.5 * geo.size


def _inside(inc: Inclusion, y: np.ndarray) -> np.ndarray:
    local = y - np.asarray(inc.centre)
    if inc.shape in ("circle", "sphere"):
        return np.einsum("ij,ij->i", local, local) < inc.radius ** 2
    if inc.shape == "cube":
        return np.abs(local).max(axis=1) < 0.5 * inc.side
    t = math.radians(inc.angle)
    q = local @ np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])  # the shape's own axes
    if inc.shape == "ellipse":
        return (q[:, 0] / inc.semi_axes[0]) ** 2 + (q[:, 1] / inc.semi_axes[1]) ** 2 < 1.0
    return np.abs(q).max(axis=1) < 0.5 * inc.side


def inclusion_indicator(geo: CellGeometry, y: np.ndarray) -> np.ndarray:
    """Whether each point ``y`` (rows, inside the cell) lies in the inclusion phase."""
    L = geo.size
    if geo.kind == "laminate":
        axis = axis_of(geo.normal, geo.dim)
        return np.abs(y[:, axis] - 0.5 * L[axis]) < 0.5 * geo.fraction * L[axis]
    if geo.kind == "checkerboard":
        squares = np.floor(2 * y / L).astype(int)
        return (squares.sum(axis=1) % 2) == 1
    return np.any([_inside(inc, y) for inc in geo.inclusions], axis=0)


def _samples(geo: CellGeometry, per_axis: int) -> np.ndarray:
    """A shifted grid over the cell's bounding box (off any symmetry line), kept inside the cell."""
    c, half = cell_centre(geo), 0.5 * geo.size
    axes = [np.linspace(-1.0, 1.0, per_axis) * 0.999 * h + 0.00123 * (j + 1) for j, h in enumerate(half)]
    y = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1) + c
    if geo.lattice == "hexagonal":  # keep the points of the hexagon (inradius 1/2)
        angles = np.radians(60.0 * np.arange(6))
        normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        y = y[np.all(y @ normals.T < 0.4999, axis=1)]
    return y


@functools.lru_cache(maxsize=16)
def point_group(geo: CellGeometry, *, per_axis: int | None = None) -> list[np.ndarray]:
    """The operations ``R`` (``d × d``, orthogonal) of the lattice's point group under which the cell's phases
    are invariant about :func:`cell_centre`; always holds the identity (cached per geometry: do not modify)."""
    lattice = geo.lattice_vectors
    per_axis = per_axis or {1: 2001, 2: 161, 3: 41}[geo.dim]
    y = _samples(geo, per_axis)
    c = cell_centre(geo)
    phase = inclusion_indicator(geo, y)
    return [R for R in lattice_operations(lattice)
            if np.array_equal(inclusion_indicator(geo, c + (y - c) @ R.T), phase)]


def equivalent(k: np.ndarray, q: np.ndarray, lattice: np.ndarray) -> bool:
    """Whether ``k − q`` is a reciprocal lattice vector (``(k − q)·a_j ∈ 2πℤ``)."""
    n = lattice @ (np.asarray(k, dtype=float) - np.asarray(q, dtype=float)) / (2 * np.pi)
    return bool(np.allclose(n, np.round(n), atol=1e-9))


def little_group(k: np.ndarray, group: list[np.ndarray], lattice: np.ndarray) -> list[np.ndarray]:
    """The operations that leave ``k`` fixed modulo the reciprocal lattice, together with ``−R`` for the ``R``
    that send ``k`` to ``−k`` (time reversal of a reciprocal medium: ``Ω(−k) = Ω(k)``)."""
    k = np.asarray(k, dtype=float)
    fixed = [R for R in group if equivalent(R @ k, k, lattice)]
    reversed_ = [-R for R in group if equivalent(R @ k, -k, lattice)]
    out: list[np.ndarray] = []
    for R in fixed + reversed_:
        if not any(np.allclose(R, S) for S in out):
            out.append(R)
    return out


def is_stationary(k: np.ndarray, group: list[np.ndarray], lattice: np.ndarray) -> bool:
    """Whether the little group of ``k`` fixes no direction (its average, the projector on the fixed vectors,
    vanishes): then ``∇_k Ω²`` of every simple band is zero at ``k`` (Γ, X, M of any cell by time reversal; the
    triangular lattice's K when the cell has its three-fold axis)."""
    return bool(np.allclose(np.mean(little_group(k, group, lattice), axis=0), 0.0, atol=1e-12))


def mesh_is_invariant(mesh, geo: CellGeometry, group: list[np.ndarray]) -> bool:
    """Whether every operation of ``group`` maps the mesh's geometry nodes onto nodes (to 1e-9 of the cell size):
    a mesh carrying the cell's symmetry (:mod:`fem_homog.cells.symmetric_mesh`), on which symmetry-protected
    degenerate modes stay degenerate. Collective over the mesh's communicator."""
    from scipy.spatial import cKDTree

    x = np.concatenate(mesh.comm.allgather(mesh.geometry.x[:, :geo.dim]))
    tree, c = cKDTree(x), cell_centre(geo)
    tol = 1e-9 * float(np.linalg.norm(geo.size))
    return all(float(tree.query(c + (x - c) @ R.T)[0].max()) < tol for R in group)
