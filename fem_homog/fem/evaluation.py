"""Evaluating distributed fields at arbitrary points, and Bloch-extending unit-cell functions (theory.md §9).

:func:`point_values` is collective: every rank asks for its own points, the ranks owning them evaluate, and the
values travel back. :func:`bloch_values` evaluates a cell function ``U(y)`` given on the unit cell ``Y`` at
points ``x`` of a crystal, ``U(x) = e^{ik₀·n} U(x − n L)`` with ``n = ⌊x/L⌋`` (theory.md §1 Bloch condition),
which is how the HFH reconstruction ``u ≈ f U₀`` is formed on a finite crystal.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.core.errors import require_collective

import dolfinx.fem
import dolfinx.geometry


def point_values(u: dolfinx.fem.Function | Sequence[dolfinx.fem.Function], points: np.ndarray, *,
                 padding: float = 1e-8) -> np.ndarray:
    """Values of the scalar function ``u`` at ``points`` (``n × gdim`` or ``n × 3``, different on each rank).

    Collective. Each point is evaluated by the one rank that :func:`dolfinx.geometry.determine_point_ownership`
    assigns it to; the values come back in the order of ``points``. A list of functions on one mesh gives one
    row per function and locates the points once (the costly part, ~15 µs per point).

    Raises
    ------
    InputError
        If a point lies outside the mesh (on every rank).
    """
    if isinstance(u, dolfinx.fem.Function):
        return point_values([u], points, padding=padding)[0]
    mesh = u[0].function_space.mesh
    comm = mesh.comm
    pts = np.zeros((len(points), 3))
    pts[:, :np.shape(points)[1] if len(points) else 0] = points  # dolfinx 0.11 reads 3 columns
    ownership = dolfinx.geometry.determine_point_ownership(mesh, pts, padding)
    owners = np.asarray(ownership.src_owner)
    missing = np.flatnonzero(owners < 0)
    require_collective(comm, f"point {pts[missing[0]].tolist()} lies outside the mesh" if len(missing) else None)
    senders = np.asarray(ownership.dest_owner)
    received = np.reshape(ownership.dest_points, (-1, 3))
    cells = np.asarray(ownership.dest_cells, dtype=np.int32)
    values = np.array([f.eval(received, cells).ravel() if len(senders) else np.empty(0, dtype=f.x.array.dtype)
                       for f in u])
    incoming = comm.alltoall([values[:, senders == rank] for rank in range(comm.size)])
    result = np.empty((len(u), len(pts)), dtype=values.dtype)
    for rank in range(comm.size):
        result[:, owners == rank] = incoming[rank]
    return result


def bloch_values(U: dolfinx.fem.Function, points: np.ndarray, k0: Sequence[float],
                 lengths: Sequence[float] | None = None) -> np.ndarray:
    """``U`` Bloch-extended from the cell ``[0, L]`` to ``points``: ``e^{ik₀·n} U(x − nL)``, ``n = ⌊x/L⌋``.

    ``k0`` is the Bloch wave vector (e.g. ``(π, 0)`` at X), ``lengths`` the cell sides (default 1). Collective.
    Points that fall on the same ``y`` (the nodes of a crystal tiled from one cell mesh) are evaluated once.
    """
    d = len(k0)
    x = np.asarray(points, dtype=float)[:, :d]
    L = np.ones(d) if lengths is None else np.asarray(lengths, dtype=float)
    n = np.floor(x / L)
    y = np.clip(x - n * L, 0.0, L)
    keys = np.round(y, 12) @ (1.0, 1j)[:d] if d > 1 else np.round(y[:, 0], 12)
    _, first, index = np.unique(keys, return_index=True, return_inverse=True)
    return np.exp(1j * (n * L) @ np.asarray(k0, dtype=float)) * point_values(U, y[first])[index.ravel()]


def interpolate_values(V: dolfinx.fem.FunctionSpace, values_at) -> dolfinx.fem.Function:
    """A function of the Lagrange space ``V`` from nodal values ``values_at(dof_coordinates)`` (collective)."""
    u = dolfinx.fem.Function(V)
    u.x.array[:] = values_at(V.tabulate_dof_coordinates())
    return u
