"""Continuation of dispersive bands along a k-path: solve only where the bands are (theory.md §6.4, §5.2).

The shift-and-invert PEP of a lossy Drude crystal spends its Krylov space on the rod-interior modes that
accumulate at ``Ω = −iΓ`` whenever that cluster is as near the shift as the wanted bands (benchmarks/README.md).
Along a path the previous k-point tells where the bands are: a shift among them puts them much nearer than the
cluster, and a TOAR solve with ``nev`` = the number of bands converges in one or two restarts, without the
Newton refinement (its residuals are at round-off; every pair is still checked on the rational problem).

Nothing is skipped silently: the sweep carries a *bracket*, an interval ``F < Re Ω < G`` (down to a depth
``−Im Ω ≤ D``) in which it knows every eigenvalue to be one of the tracked bands, and counts on it:

* a shift-and-invert solve returns the ``nev`` eigenvalues of the passive region nearest its shift, so every
  eigenvalue closer than the farthest of them is known (:attr:`~fem_homog.photonics.bloch.BlochSolution.
  certified_radius`); a disk that holds the strip ``a ≤ Re Ω ≤ b`` (depth ``D``) brackets ``(a, b)``;
* from one k-point to the next a band moves by at most ``v |Δk|`` (``v``:
  :meth:`~fem_homog.photonics.bloch.BlochProblem.velocity_bound`, a bound on the group velocity), so the
  bracket shrinks by that much at each end: no other band can enter it within a step. The ``n`` distinct
  eigenvalues a small solve finds inside the shrunk bracket are therefore exactly the continued bands (the
  bracket holds no other), with any crossing or reordering;
* when the shrunk bracket no longer reaches down to ``min(target, Re Ω_1)`` (but not below :data:`FLOOR`) or
  up past the highest band, a wider solve (``nev = n + GUARDS[i]``, shift in the middle of the part still
  needed) renews it, joined to what is left of the old one; if that cannot certify the window either, the
  caller falls back to the full solve (:func:`~fem_homog.photonics.bands.collect_modes`).

The selection is therefore the ``n`` lowest bands with ``Re Ω ≥ min(target, Re Ω_1)`` within the depth. The
full solve keeps the lowest of the pairs *nearest* the target, which can include a band just below the target:
the two agree except for a band that comes from below the target and stays below it (then set the target
lower). Limits, stated: the depth is not shrunk (a strongly damped eigenvalue rising into the strip within one
step is not excluded), and the group-velocity bound is that of the lossless problem (:data:`SAFETY`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from fem_homog.core.errors import SolverError
from fem_homog.photonics.bloch import STATIC_TOL, BlochSolution, Eigenpair

FLOOR = 10 * STATIC_TOL
"""Lowest edge of a bracket: the static modes (``|Ω| < STATIC_TOL``, filtered, not tracked) become the acoustic
bands away from Γ, so a bracket never claims the neighbourhood of Ω = 0."""
SAFETY = 1.25
"""Factor on the group-velocity bound (the bound is exact for the lossless problem; losses move it slightly)."""
GUARDS = (2, 6)
"""Eigenvalues asked for beyond the tracked bands when a bracket is renewed (its disk must reach past them),
in the first and (if its disk was too small) the second attempt."""
DEPTH_MARGIN = 1e-3
"""Relative (to the highest band) extra depth in −Im Ω of a bracket."""


@dataclass(frozen=True)
class Bracket:
    """Every eigenvalue with ``lo < Re Ω < hi`` and ``−depth ≤ Im Ω ≤ 0`` is one of the tracked bands."""

    lo: float
    hi: float
    depth: float

    def shrunk(self, by: float) -> Bracket:
        """The bracket one step later: bands from outside may have moved ``by`` into it."""
        return Bracket(self.lo + by, self.hi - by, self.depth)

    def joined(self, other: Bracket | None) -> Bracket | None:
        """One bracket covering both, if they overlap (None otherwise)."""
        if other is None or other.lo >= self.hi or self.lo >= other.hi:
            return None
        return Bracket(min(self.lo, other.lo), max(self.hi, other.hi), min(self.depth, other.depth))

    def holds(self, pairs: Sequence[Eigenpair]) -> bool:
        return all(self.lo < p.omega.real < self.hi and -self.depth <= p.omega.imag for p in pairs)

    @classmethod
    def of_disk(cls, centre: float, radius: float, depth: float) -> Bracket | None:
        """The strip of ``depth`` a certified disk ``|Ω − centre| < radius`` holds, above :data:`FLOOR` (None: too
        shallow a disk)."""
        if radius <= depth:
            return None
        half = float(np.sqrt(radius**2 - depth**2))
        return cls(max(centre - half, FLOOR), centre + half, depth)


def depth_of(pairs: Sequence[Eigenpair]) -> float:
    """The depth a new bracket gets for these bands: twice their largest damping, plus a margin."""
    return 2 * max(abs(p.omega.imag) for p in pairs) + DEPTH_MARGIN * max(p.omega.real for p in pairs)


def deep_enough(bracket: Bracket, pairs: Sequence[Eigenpair]) -> bool:
    """Whether ``bracket`` still reaches 25 % deeper than the most damped of ``pairs`` (else it is renewed)."""
    return bracket.depth >= 1.25 * max(abs(p.omega.imag) for p in pairs)


@dataclass
class Continued:
    """The bands of a continued k-point and the bracket it leaves for the next one."""

    pairs: list[Eigenpair]
    filtered: dict[str, int]
    bracket: Bracket


def continue_bands(solve: Callable[[int, float], BlochSolution], previous: Sequence[Eigenpair],
                   bracket: Bracket | None, *, wanted: int, target: float, step: float) -> Continued | None:
    """The ``wanted`` lowest bands at ``k`` from those of the previous k-point (``previous``, Ω units, with the
    ``bracket`` it left, :class:`Bracket`; ``step``: the bound ``SAFETY v |Δk|`` on how far a band moved):
    ``solve(nev, shift)`` returns the ``nev`` pairs nearest ``shift``. None when no solve could certify the
    bands (module docstring) or a solve failed: the caller must then solve in full."""
    if len(previous) < wanted or bracket is None:
        return None
    filtered: dict[str, int] = {}

    def run(nev: int, shift: float) -> BlochSolution | None:
        try:
            solution = solve(nev, shift)
        except SolverError:
            return None
        for key, n in solution.filtered.items():
            filtered[key] = filtered.get(key, 0) + n
        return solution if solution.filtered.get("residual", 0) == 0 else None

    def certified(pairs: list[Eigenpair], candidate: Bracket | None) -> bool:
        return (len(pairs) == wanted and candidate is not None and candidate.holds(pairs)
                and candidate.lo <= max(min(target, pairs[0].omega.real), FLOOR) and deep_enough(candidate, pairs))

    re = [p.omega.real for p in previous]
    shrunk = bracket.shrunk(step)
    bottom = max(min(target, min(re) - step), FLOOR)
    if shrunk.lo <= bottom and shrunk.hi - max(re) > 2 * step:  # else the quick solve could not be accepted
        quick = run(wanted, 0.5 * (min(re) + max(re)))
        if quick is None:
            return None
        pairs = sorted(quick.pairs, key=lambda p: p.omega.real)[:wanted]
        if certified(pairs, shrunk) and shrunk.hi - pairs[-1].omega.real > step:
            return Continued(pairs, filtered, shrunk)
    lo = bottom if shrunk.lo > bottom else min(re) - step  # the disk must hold every place a band can be
    centre = 0.5 * (lo + max(re) + step)
    for guard in GUARDS:
        wide = run(wanted + guard, centre)
        if wide is None:
            return None
        disk = Bracket.of_disk(centre, wide.certified_radius, depth_of(previous))
        if disk is None or disk.lo > lo:
            continue
        inside = [p for p in wide.pairs if abs(p.omega - centre) < wide.certified_radius and disk.holds([p])]
        if sum(min(re) - step <= p.omega.real <= max(re) + step for p in inside) < wanted:
            return None  # the continuations of the tracked bands must all be there: one was lost
        pairs = sorted(inside, key=lambda p: p.omega.real)[:wanted]
        for renewed in (disk, disk.joined(shrunk)):  # the disk alone is deeper; joined it may reach lower
            if certified(pairs, renewed):
                return Continued(pairs, filtered, renewed)
        return None
    return None


def full_bracket(solution: BlochSolution, shift: float, pairs: Sequence[Eigenpair]) -> Bracket | None:
    """The bracket a full solve (the first of :func:`~fem_homog.photonics.bands.collect_modes`, at ``shift``)
    leaves for the bands ``pairs`` it gave (None: it certified none)."""
    if not pairs:
        return None
    bracket = Bracket.of_disk(shift, solution.certified_radius, depth_of(pairs))
    return bracket if bracket is not None and bracket.holds(pairs) else None
