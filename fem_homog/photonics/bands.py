"""Band diagrams: k-paths through the Brillouin zone and the connection of bands across k.

Bands are connected by the overlap of eigenvectors between neighbouring k-points (an assignment that
maximises ``|⟨x_i(k), x_j(k')⟩_M|``), not by sorting frequencies, so crossing bands and complex-frequency
branches keep their identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from fem_homog.core.errors import require
from fem_homog.cells.lattice import check_k_in_zone, high_symmetry_points
from fem_homog.core.units import TWO_PI

if TYPE_CHECKING:
    from fem_homog.photonics.bloch import BlochSolution

@dataclass(frozen=True)
class KPath:
    """Sampled k-points, their cumulative distance along the path and the labelled vertices."""

    k: np.ndarray
    distance: np.ndarray
    labels: list[tuple[int, str]]


def k_path(path: str | Sequence[Sequence[float]], points_per_segment: int, dim: int,
           lattice: np.ndarray | None = None) -> KPath:
    """Sample a path given by letters (``"GXMG"``; triangular lattice ``"GMKG"``) or by a list of k-points,
    ``points_per_segment`` intervals per segment, vertices included once; ``lattice`` as in
    :mod:`fem_homog.cells.lattice` (default: the unit square/cubic lattice)."""
    require(points_per_segment >= 1, f"bands.points_per_segment must be >= 1, got {points_per_segment}")
    lattice = np.eye(dim) if lattice is None else np.asarray(lattice, dtype=float)
    if isinstance(path, str):
        known = high_symmetry_points(lattice)
        for letter in path:
            require(letter in known, f"unknown k-point '{letter}' in bands.path for this {dim}D lattice "
                                     f"(known: {', '.join(known)})")
        vertices = [known[c] for c in path]
        names = list(path)
    else:
        vertices = [np.asarray(v, dtype=float) for v in path]
        names = ["" for _ in vertices]
    require(len(vertices) >= 1, "bands.path is empty")
    for v in vertices:
        require(v.shape == (dim,), f"k-point {v.tolist()} must have {dim} components")
        check_k_in_zone(v, lattice)
    ks, labels = [vertices[0]], [(0, names[0])]
    for a, b, name in zip(vertices[:-1], vertices[1:], names[1:]):
        for t in np.arange(1, points_per_segment + 1) / points_per_segment:
            ks.append(a + t * (b - a))
        labels.append((len(ks) - 1, name))
    k = np.array(ks)
    steps = np.linalg.norm(np.diff(k, axis=0), axis=1) if len(k) > 1 else np.zeros(0)
    return KPath(k=k, distance=np.concatenate([[0.0], np.cumsum(steps)]), labels=labels)


def connect(overlap: np.ndarray) -> np.ndarray:
    """Assignment ``perm`` with new band ``j`` continuing old band ``perm[j]``, maximising total overlap.

    ``overlap[i, j] = |⟨x_i(previous k), x_j(this k)⟩|`` for normalised vectors; unmatched new bands (more
    bands than before) get ``-1``.
    """
    rows, cols = linear_sum_assignment(-np.abs(overlap))
    perm = np.full(overlap.shape[1], -1)
    perm[cols] = rows
    return perm


def merge(found: list, new: list, rtol: float = 1e-7) -> list:
    """Add the pairs of a new solve (another target) to those found before, without counting a frequency
    twice: of each group of equal frequencies, keep as many as the solve that saw most of them (degenerate
    bands stay degenerate)."""
    merged = list(found)
    for p in new:
        same_new = sum(abs(q.omega - p.omega) <= rtol * abs(p.omega) for q in new)
        same_old = sum(abs(q.omega - p.omega) <= rtol * abs(p.omega) for q in merged)
        if same_old < same_new:
            merged.append(p)
    return sorted(merged, key=lambda p: p.omega.real)


def collect_modes(solve: Callable[[int, float], "BlochSolution"], wanted: int, target: float,
                  max_targets: int = 4) -> tuple[list, dict]:
    """The ``wanted`` lowest physical pairs at or above ``target`` (Ω units): ``solve(nev, target)`` is called
    with a target that moves up past the highest frequency found while too few pairs are found (at most
    ``max_targets`` solves). Returns the pairs (increasing ``Re Ω``) and the summed filter counts."""
    step = max(target, TWO_PI * 0.1)
    pairs, filtered = [], {}
    for _ in range(max_targets):
        sol = solve(wanted + 4, target)
        for key, n in sol.filtered.items():
            filtered[key] = filtered.get(key, 0) + n
        pairs = merge(pairs, sol.pairs)
        if len(pairs) >= wanted:
            break
        target = max([target] + [p.omega.real for p in pairs]) + 0.5 * step
    return pairs[:wanted], filtered
