"""What kind of macroscopic equation an HFH tensor gives (theory.md §8.2, §8.6 source term).

The envelope equation ``T_ij ∂_i∂_j f + (Ω² − Ω0²) f = 0`` is classified by the eigenvalues of ``Re T``
(symmetric part): all of one sign – *elliptic* (a band extremum: isotropic-like emission); one eigenvalue much
smaller than the others – *parabolic* (strongly directional, waves along the other principal direction);
mixed signs – *hyperbolic* (a saddle: X- or +-shaped emission along the characteristics).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.cells.symmetry import equivalent, lattice_operations


def classify(T: np.ndarray, parabolic_tol: float = 0.05) -> dict:
    """Principal values/directions of ``Re T`` and the type of the effective operator.

    Parameters
    ----------
    T
        ``d × d`` (complex) HFH tensor.
    parabolic_tol
        ``|λ_min| / |λ_max|`` below which the operator counts as parabolic.

    Returns
    -------
    dict
        ``type`` ("elliptic" | "parabolic" | "hyperbolic"), ``extremum`` ("minimum" | "maximum" | "saddle"),
        ``eigenvalues`` and ``directions`` (unit vectors) of ``Re T``, the ``anisotropy`` ratio
        ``|λ_min|/|λ_max|`` and, for hyperbolic ``T``, the ``characteristic_angles_deg`` of the directions
        where ``κ·Re T κ = 0`` (the emission directions).
    """
    S = np.real(0.5 * (T + T.T))
    values, vectors = np.linalg.eigh(S)
    size = np.abs(values)
    ratio = float(size.min() / size.max()) if size.max() > 0 else 0.0
    if len(values) > 1 and ratio < parabolic_tol:
        kind = "parabolic"
    elif np.all(values > 0) or np.all(values < 0):
        kind = "elliptic"
    else:
        kind = "hyperbolic"
    extremum = "minimum" if np.all(values > 0) else "maximum" if np.all(values < 0) else "saddle"
    out = {"type": kind, "extremum": extremum, "eigenvalues": values.tolist(),
           "directions": vectors.T.tolist(), "anisotropy": ratio}
    if len(values) == 2 and values[0] < 0 < values[1]:
        # κ = a e_0 + b e_1 with λ_0 a² + λ_1 b² = 0 → b/a = ±sqrt(−λ_0/λ_1)
        slope = np.sqrt(-values[0] / values[1])
        angles = [np.degrees(np.arctan2(*(vectors[:, 0] + s * slope * vectors[:, 1])[::-1])) % 180
                  for s in (1, -1)]
        out["characteristic_angles_deg"] = sorted(angles)
    return out


def star(k0: np.ndarray, T: np.ndarray | None, lattice: np.ndarray,
         group: Sequence[np.ndarray] | None = None) -> list[dict]:
    """The star of ``k0``: its distinct images ``R k0`` (modulo reciprocal lattice vectors) under the cell's
    point group ``group`` (:func:`~fem_homog.cells.symmetry.point_group`), each with its tensor ``R T R^T`` and
    the operation ``R`` (theory.md §8.6: X and Y on a square lattice when the cell has the lattice's symmetry,
    X alone for a rotated ellipse; the image mode is ``U0(R^T (y − c) + c)`` about the cell centre ``c``).
    Without ``group`` the lattice's full point group is assumed, which is right only for cells that have it."""
    k0 = np.asarray(k0, dtype=float)
    points: list[dict] = []
    for R in (lattice_operations(lattice) if group is None else group):
        k = R @ k0
        if not any(equivalent(k, p["k"], lattice) for p in points):
            points.append({"k": k, "T": None if T is None else R @ T @ R.T, "R": R})
    for p in points:
        p["k"] = p["k"].tolist()
    return points
