"""Rational fits of exact 1D laminate bands (theory.md §10.1, §10.4).

A band ``ω(k)`` of an elastic laminate (``−(E u')' = ω² ρ u``, period 1) is approximated by

    ω² ≈ R_2N(k) = Σ_{n=1}^N E_n k^{2n} / Σ_{n=0}^N ρ_n k^{2n},   E_1 = Ē = ⟨1/E⟩⁻¹,  ρ_0 = ρ̄ = ⟨ρ⟩,

with ``E_n, ρ_n ≥ 0``: a linearised (Levy) constrained least-squares fit (``scipy.optimize.lsq_linear``),
refined by a bounded nonlinear least-squares fit of ``ω`` itself. The second band of a two-band model is a
``R_2`` form with a cut-off, ``ω² ≈ (c_0 + c_1 k²)/(d_0 + d_1 k²)``, ``d_0 = ρ̄`` fixing the scale.
The exact bands come from the transfer-matrix dispersion function ``Δ(ω) = cos k`` of
:mod:`fem_homog.photonics.laminate1d` (theory.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import brentq, least_squares, lsq_linear, minimize_scalar

from fem_homog.core.errors import SolverError, require
from fem_homog.photonics.laminate1d import Layer, dispersion


def elastic_layers(layers: Sequence[Sequence[float]]) -> list[Layer]:
    """Layers ``[[E, ρ, thickness], ...]`` of one period (thicknesses summing to 1) in the μ/ρ-slot
    convention of theory.md §1 (μ-slot ``E``, ρ-slot ``ρ``)."""
    require(len(layers) >= 1, "needs at least one layer", argument="layers")
    for row in layers:
        require(len(row) == 3, f"each row of {{argument}} is [E, rho, thickness], got {list(row)}", argument="layers")
        require(all(v > 0 for v in row), f"values must be positive, got {list(row)}", argument="layers")
    total = sum(row[2] for row in layers)
    require(abs(total - 1.0) < 1e-9, f"the thicknesses in {{argument}} must sum to the period 1, got {total}",
            argument="layers")
    return [Layer(float(h), (lambda w, E=float(E): E), (lambda w, r=float(r): r)) for E, r, h in layers]


def static_moduli(spec: Sequence[Sequence[float]]) -> tuple[float, float]:
    """``(Ē, ρ̄)``: harmonic mean of the moduli and mean density (the exact long-wave limit)."""
    E_bar = 1.0 / sum(h / E for E, _, h in spec)
    rho_bar = sum(r * h for _, r, h in spec)
    return E_bar, rho_bar


def _delta(layers: Sequence[Layer], omega: float) -> float:
    return float(dispersion(layers, omega).real)


def band_edges(layers: Sequence[Layer], count: int, travel: float | None = None) -> list[tuple[float, float]]:
    """The first ``count`` pass bands ``[(ω_bottom, ω_top), ...]`` where ``|Δ(ω)| ≤ 1`` (real ω > 0).

    Scans ``Δ`` on a grid finer than its oscillation scale ``1/travel`` (default ``Σ h_m/c_m`` of the static
    layers; pass it for layers whose ρ-slot is singular at ω = 0, such as :func:`transverse_layers`), then
    refines each crossing of ``Δ = ±1`` with Brent's method. A band that starts at ω = 0 has bottom 0.
    """
    travel = travel or sum(layer.thickness * np.sqrt(layer.rho(0.0) / layer.mu(0.0)) for layer in layers)
    step = 0.01 / travel
    w = 1e-9 * step
    prev = _delta(layers, w)
    edges, inside, lo = [], abs(prev) <= 1.0, 0.0
    while len(edges) < count:
        w += step
        cur = _delta(layers, w)
        if inside and abs(cur) > 1.0:
            level = np.sign(cur)
            top = brentq(lambda x: _delta(layers, x) - level, w - step, w, xtol=1e-15)
            edges += _split_touching(layers, lo, top)
            inside = False
        elif not inside and abs(cur) <= 1.0:
            level = np.sign(prev)
            lo = brentq(lambda x: _delta(layers, x) - level, w - step, w, xtol=1e-15)
            inside = True
        prev = cur
        if w > 1e3 * count / travel:
            raise SolverError("band_edges: no band edge found (is the medium lossless?)")
    return edges[:count]


def _split_touching(layers: Sequence[Layer], lo: float, top: float) -> list[tuple[float, float]]:
    """Split a scanned pass band whose ends have the same ``Δ = ±1`` into the two bands that touch (or are
    separated by a gap thinner than the scan) at the extremum of ``Δ`` between them."""
    if lo == 0.0 or np.sign(_delta(layers, lo)) != np.sign(_delta(layers, top)):
        return [(lo, top)]
    sign = np.sign(_delta(layers, top))
    inner = minimize_scalar(lambda x: sign * _delta(layers, x), bounds=(lo, top), method="bounded",
                            options={"xatol": 1e-13}).x
    return [(lo, inner), (inner, top)]


def transverse_layers(spec: Sequence[Sequence[float]], k_t: float) -> list[Layer]:
    """Layers for waves ``U(y) e^{i k_t z}`` travelling also along the layers: ``−(E U')' = (ω²ρ − E k_t²) U``,
    i.e. ρ-slot ``ρ − E k_t²/ω²`` (theory.md §10.5)."""
    if k_t == 0:
        return elastic_layers(spec)
    return [Layer(float(h), (lambda w, E=float(E): E), (lambda w, E=float(E), r=float(r): r - E * k_t ** 2 / w ** 2))
            for E, r, h in spec]


def travel_time(spec: Sequence[Sequence[float]]) -> float:
    """``Σ h_m sqrt(ρ_m/E_m)``: the time a static wave needs to cross one period."""
    return float(sum(h * np.sqrt(r / E) for E, r, h in spec))


def exact_band(layers: Sequence[Layer], edges: tuple[float, float], ks: np.ndarray) -> np.ndarray:
    """``ω(k)`` on one band for ``k ∈ [0, π]``: the lowest root of ``Δ(ω) = cos k`` inside the band edges
    (bracketed on a fine grid when ``Δ`` is not monotone there, e.g. two bands merged by a gap narrower than the
    scan of :func:`band_edges`)."""
    lo, hi = edges
    out = []
    for k in ks:
        target = np.cos(k)
        f = lambda x: _delta(layers, x) - target  # noqa: E731
        if abs(f(lo)) < 1e-14:
            out.append(lo)
        elif f(lo) * f(hi) < 0:
            out.append(brentq(f, lo, hi, xtol=1e-15))
        else:
            grid = np.linspace(lo, hi, 401)
            values = np.array([f(x) for x in grid])
            change = np.flatnonzero(np.sign(values[1:]) != np.sign(values[:-1]))
            out.append(brentq(f, grid[change[0]], grid[change[0] + 1], xtol=1e-15) if len(change) else hi)
    return np.array(out)


@dataclass(frozen=True)
class RationalBand:
    """``ω² = Σ_n num[n] k^{2n} / Σ_n den[n] k^{2n}`` (coefficients in increasing powers of ``k²``)."""

    num: np.ndarray
    den: np.ndarray

    def omega2(self, k: np.ndarray) -> np.ndarray:
        s = np.asarray(k, dtype=float) ** 2
        return np.polynomial.polynomial.polyval(s, self.num) / np.polynomial.polynomial.polyval(s, self.den)

    def omega(self, k: np.ndarray) -> np.ndarray:
        return np.sqrt(self.omega2(k))


@dataclass(frozen=True)
class Family:
    """Rational bands ``N = N_0 + Σ_i x_i N_i``, ``D = D_0 + Σ_i x_i D_i`` with ``x_i ≥ 0``: coefficient vectors
    on a monomial basis (e.g. ``k^{2n}``), fixed parts and one column pair per free parameter."""

    num0: np.ndarray
    den0: np.ndarray
    num_cols: np.ndarray
    den_cols: np.ndarray

    def coefficients(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.maximum(x, 0.0)  # bvls may return −1e-19 for an active bound
        return self.num0 + x @ self.num_cols, self.den0 + x @ self.den_cols


def _levy(family: Family, basis: np.ndarray, lam: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Linearised fit ``w_m (λ_m D_m − N_m) ≈ 0`` over ``x ≥ 0`` (theory.md §10.1; ``basis``: monomials at the
    samples, one row per sample), columns scaled to unit norm for conditioning."""
    def row(num, den):
        return (lam * (basis @ den) - basis @ num) * weights

    A = np.column_stack([row(n, d) for n, d in zip(family.num_cols, family.den_cols)])
    scale = np.linalg.norm(A, axis=0)
    scale[scale == 0] = 1.0
    return lsq_linear(A / scale, -row(family.num0, family.den0), bounds=(0.0, np.inf), method="bvls",
                      tol=1e-14).x / scale


def fit_family(family: Family, basis: np.ndarray, omega: np.ndarray, weights: np.ndarray,
         refine: bool) -> tuple[np.ndarray, np.ndarray]:
    """Levy's fit, then (``refine``) bounded nonlinear least squares on ``ω`` if it lowers the largest error.
    Returns the numerator and denominator coefficients."""
    x = _levy(family, basis, omega ** 2, weights) if len(family.num_cols) else np.zeros(0)

    def residual(y, scale):
        num, den = family.coefficients(y * scale)
        return np.sqrt(np.maximum(basis @ num / (basis @ den), 0.0)) - omega

    if refine and x.size:
        scale = np.maximum(np.abs(x), 1e-6 * max(1.0, np.max(np.abs(x))))
        sol = least_squares(residual, np.maximum(x / scale, 1e-10), bounds=(0.0, np.inf), xtol=1e-15,
                            ftol=1e-15, gtol=1e-15, args=(scale,))
        if np.max(np.abs(sol.fun)) < np.max(np.abs(residual(x / scale, scale))):
            x = sol.x * scale
    return family.coefficients(x)


def _powers(ks: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(ks, dtype=float)[:, None] ** (2 * np.arange(size))[None, :]


def _unit(n: int, size: int, value: float = 1.0) -> np.ndarray:
    e = np.zeros(size)
    e[n] = value
    return e


def fit_first_band(ks: np.ndarray, omega: np.ndarray, order: int, E_bar: float, rho_bar: float,
                   refine: bool = True, cutoff: float | None = None) -> RationalBand:
    """``R_2N`` of the first band with ``E_1 = Ē``, ``ρ_0 = ρ̄`` fixed and the other ``E_n, ρ_n ≥ 0``
    (theory.md §10.1). ``cutoff``: impose ``ω(k → ∞) = cutoff`` (``E_N = cutoff² ρ_N``), e.g. the exact band
    edge, so that the model's first gap opens where the exact one does. ``ks`` must exclude 0."""
    require(order >= 1, f"must be at least 1, got {order}", argument="order")
    require(np.all(ks > 0), "fit samples must have k > 0")
    size = order + 1
    num0, den0 = _unit(1, size, E_bar), _unit(0, size, rho_bar)
    free_E = range(2, order + 1 if cutoff is None else order)
    free_rho = range(1, order + 1 if cutoff is None else order)
    nums = [_unit(n, size) for n in free_E] + [np.zeros(size)] * len(free_rho)
    dens = [np.zeros(size)] * len(free_E) + [_unit(n, size) for n in free_rho]
    if cutoff is not None and order == 1:  # nothing left free: ρ_1 = Ē / cutoff²
        den0 = den0 + _unit(1, size, E_bar / cutoff ** 2)
    elif cutoff is not None:  # ρ_N free, E_N = cutoff² ρ_N
        nums.append(_unit(order, size, cutoff ** 2))
        dens.append(_unit(order, size))
    family = Family(num0, den0, np.array(nums).reshape(-1, size), np.array(dens).reshape(-1, size))
    return RationalBand(*fit_family(family, _powers(ks, size), omega, 1.0 / ks ** 2, refine))


def fit_second_band(ks: np.ndarray, omega: np.ndarray, rho_bar: float, refine: bool = True,
                    edges: tuple[float, float] | None = None) -> RationalBand:
    """``ω² ≈ (c_0 + c_1 k²)/(ρ̄ + d_1 k²)`` of an optical (second) band (theory.md §10.4). ``edges``
    ``(bottom, top)``: pin ``ω(k → ∞) = bottom`` (``c_1 = bottom² d_1``) and ``ω(0) = top``
    (``c_0 = ρ̄ top²``), leaving ``d_1`` free."""
    size = 2
    if edges is None:
        num0 = np.zeros(size)
        nums, dens = [_unit(0, size), _unit(1, size), np.zeros(size)], [np.zeros(size)] * 2 + [_unit(1, size)]
    else:
        num0 = _unit(0, size, rho_bar * edges[1] ** 2)
        nums, dens = [_unit(1, size, edges[0] ** 2)], [_unit(1, size)]
    family = Family(num0, _unit(0, size, rho_bar), np.array(nums), np.array(dens))
    return RationalBand(*fit_family(family, _powers(ks, size), omega, 1.0 / omega ** 2, refine))
