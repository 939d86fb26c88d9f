"""Statistics of apparent tensors over an ensemble of windows (theory.md §3, "Estimator").

For ``n`` independent realizations ``a_m`` of a scalar (here ``(1/d) tr A_R``): the mean ``ā``, the sample
standard deviation ``s`` (``n - 1`` in the denominator), the Student confidence interval
``ā ± t_{(1+level)/2, n-1} s / √n``, the slope of ``log s²`` against ``log R`` (``-d`` for finite-range
correlations, Var ∝ R^{-d}), the extrapolation ``ā(R) ≈ a_∞ + c/R`` of the means, and the number of samples
``n ≈ (t s / (δ ā))²`` giving relative half-width ``δ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from fem_homog.core.errors import require


def mean_trace(tensor: np.ndarray) -> float:
    """``(1/d) tr A``, the isotropic part of an apparent tensor."""
    return float(np.trace(tensor)) / tensor.shape[0]


@dataclass(frozen=True)
class Estimate:
    """Mean, sample standard deviation and Student confidence interval of ``n`` values."""

    mean: float
    std: float
    ci: tuple[float, float]
    n: int
    level: float

    def covers(self, value: float) -> bool:
        return self.ci[0] <= value <= self.ci[1]

    def to_dict(self) -> dict:
        """JSON-ready: ``mean``, ``std``, ``ci``, ``n``, ``level``."""
        return {"mean": self.mean, "std": self.std, "ci": list(self.ci), "n": self.n, "level": self.level}


def student_t(n: int, level: float) -> float:
    """Two-sided Student quantile ``t_{(1+level)/2, n-1}``."""
    return float(stats.t.ppf(0.5 * (1.0 + level), n - 1))


def estimate(values: Sequence[float], level: float = 0.95) -> Estimate:
    """Mean, standard deviation and ``level`` confidence interval of independent samples.

    Raises
    ------
    InputError
        With fewer than two samples (no variance, so no interval), or a ``level`` outside (0, 1).
    """
    a = np.asarray(values, dtype=float)
    require(len(a) >= 2, f"a confidence interval needs at least 2 samples, got {len(a)}")
    require(0.0 < level < 1.0, f"must lie in (0, 1), got {level}", argument="level")
    mean, std = float(a.mean()), float(a.std(ddof=1))
    half = student_t(len(a), level) * std / math.sqrt(len(a))
    return Estimate(mean=mean, std=std, ci=(mean - half, mean + half), n=len(a), level=level)


def variance_slope(sizes: Sequence[float], stds: Sequence[float]) -> float | None:
    """Least-squares slope of ``log s²`` against ``log R`` (``None`` with fewer than two sizes or a zero
    variance)."""
    s = np.asarray(stds, dtype=float)
    if len(sizes) < 2 or np.any(s <= 0.0):
        return None
    return float(np.polyfit(np.log(np.asarray(sizes, dtype=float)), np.log(s**2), 1)[0])


def extrapolate(sizes: Sequence[float], estimates: Sequence[Estimate]) -> dict | None:
    """Weighted least-squares fit ``ā(R) ≈ a_∞ + c / R`` of the means (the O(R^-1) boundary-layer bias of
    Dirichlet and Neumann windows, theory.md §3), each mean weighted by ``√n / s``: ``{"limit": a_∞, "c": c}``,
    ``None`` with fewer than two sizes. A zero standard deviation is floored at 1e-12 of the means, so a
    size without spread weighs much but finitely (the fit never overflows)."""
    if len(sizes) < 2:
        return None
    means = np.array([e.mean for e in estimates])
    # a size with zero spread (e.g. a deterministic window) gets a finite weight: its error is then round-off
    floor = 1e-12 * max(np.abs(means).max(), 1e-300)
    stderr = np.array([max(e.std / math.sqrt(e.n), floor) for e in estimates])
    c, limit = np.polyfit(1.0 / np.asarray(sizes, dtype=float), [e.mean for e in estimates], 1, w=1.0 / stderr)
    return {"limit": float(limit), "c": float(c)}


def samples_needed(est: Estimate, precision: float) -> int:
    """Samples for a confidence half-width ``precision · |ā|``: the fixed point of
    ``n = ⌈(t_{n-1} s / (δ ā))²⌉`` (theory.md §3, sizing)."""
    require(precision > 0.0, f"must be positive, got {precision}", argument="precision")
    n = 2
    for _ in range(50):
        wanted = max(2, math.ceil((student_t(n, est.level) * est.std / (precision * abs(est.mean))) ** 2))
        if wanted == n:
            break
        n = wanted
    return n
