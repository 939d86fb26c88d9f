"""From a laminate to its real-space multiband model: exact bands, rational fits, errors per band
(theory.md §10.1, §10.4)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fem_homog.core.errors import require
from fem_homog.multiband import fits
from fem_homog.multiband.model import Model, classical, single_band, two_band
from fem_homog.multiband.scattering import Media

MAX_ORDER = 6
"""Highest order ``N`` of the first band's ``R_2N`` fit offered (the fits are checked up to here)."""


@dataclass(frozen=True)
class Homogenized:
    """A model with the data it was fitted to: ``ks`` (samples in ``(0, π]``), ``exact`` (one row per band),
    the fitted bands and ``errors`` (per band, ``max|ω_model − ω| / max ω``)."""

    model: Model
    ks: np.ndarray
    exact: np.ndarray
    bands: list[fits.RationalBand]
    errors: list[float]

    def to_dict(self) -> dict:
        """The fitted coefficients per band, the errors, and the model's ``C``, ``order`` and ``time_order``."""
        return {"bands": [{"numerator": b.num, "denominator": b.den} for b in self.bands], "errors": self.errors,
                "C": self.model.C, "order": self.model.order, "time_order": self.model.time_order}


def check_fit(*, order: int, bands: int, samples: int) -> None:
    """Refuse a fit :func:`laminate` does not offer."""
    require(isinstance(order, int) and 1 <= order <= MAX_ORDER, f"must be an integer 1..{MAX_ORDER}, got {order}",
            argument="order")
    require(bands in (1, 2), f"must be 1 or 2, got {bands}", argument="bands")
    _samples(samples)


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """The 1D fit of :func:`laminate` (theory.md §10.1, §10.4): ``order`` N of the first band's ``R_2N``,
    ``bands`` 1 or 2, ``samples`` in ``k ∈ (0, π]``, nonlinear ``refine``-ment, ``cutoff`` at the exact edges."""

    order: int
    bands: int
    samples: int
    refine: bool
    cutoff: bool

    def __post_init__(self):
        check_fit(order=self.order, bands=self.bands, samples=self.samples)


def fit_media(media: Media, options: FitOptions) -> tuple[Homogenized, Homogenized]:
    """The laminate's model (:func:`laminate`) and the homogeneous medium in the same form (:func:`homogeneous`)."""
    meta = laminate(media.layers, **dataclasses.asdict(options))
    return meta, homogeneous(media.E_h, media.rho_h, options.bands, options.samples)


def model_bands(model: Model, ks: np.ndarray) -> np.ndarray:
    """The model's frequencies ``ω_b(k)`` (one row per band, ascending): roots in ``λ = ω²`` of
    ``Σ_m (Σ_n C[n, m] k^{2n}) λ^m = 0``."""
    rows = []
    for k in ks:
        in_lambda = np.polynomial.polynomial.polyval(k ** 2, model.C)
        lam = np.sort(np.roots(in_lambda[::-1]).real)
        rows.append(np.sqrt(np.maximum(lam, 0.0)))
    return np.array(rows).T


def _samples(count: int) -> np.ndarray:
    require(isinstance(count, int) and count >= 4, f"must be an integer ≥ 4, got {count}", argument="samples")
    return np.linspace(np.pi / count, np.pi, count)


def _errors(model: Model, ks: np.ndarray, exact: np.ndarray) -> list[float]:
    approx = model_bands(model, ks)
    return [float(np.max(np.abs(a - e)) / np.max(e)) for a, e in zip(approx, exact)]


def laminate(spec: Sequence[Sequence[float]], order: int, bands: int, samples: int = 60,
             refine: bool = True, cutoff: bool = False) -> Homogenized:
    """Fit the ``R_2N`` model (``bands = 1``) or the two-band product model with an ``R_2N`` first band
    (``bands = 2``) to the exact bands of the laminate ``[[E, ρ, h], ...]``; ``cutoff`` pins the fitted bands
    to the exact edges: the ``k → ∞`` limits to the gap (band 1 top, band 2 bottom), ``ω_2(0)`` to the top
    of band 2."""
    check_fit(order=order, bands=bands, samples=samples)
    layers = fits.elastic_layers(spec)
    E_bar, rho_bar = fits.static_moduli(spec)
    ks = _samples(samples)
    edges = fits.band_edges(layers, bands)
    exact = np.array([fits.exact_band(layers, e, ks) for e in edges])
    first = fits.fit_first_band(ks, exact[0], order, E_bar, rho_bar, refine, edges[0][1] if cutoff else None)
    if bands == 1:
        return Homogenized(single_band(first), ks, exact, [first], _errors(single_band(first), ks, exact))
    second = fits.fit_second_band(ks, exact[1], rho_bar, refine, edges[1] if cutoff else None)
    model = two_band(first, second)
    return Homogenized(model, ks, exact, [first, second], _errors(model, ks, exact))


def homogeneous(E: float, rho: float, bands: int, samples: int = 60) -> Homogenized:
    """A homogeneous medium: classical for ``bands = 1``; for ``bands = 2`` the two-band model of the same
    medium folded on the unit period (``ω = ck`` and ``ω = c(2π − k)``, theory.md §10.4), so that both sides of
    an interface carry two bands."""
    classic = classical(E, rho, "homogeneous")
    ks = _samples(samples)
    c = np.sqrt(E / rho)
    if bands == 1:
        return Homogenized(classic, ks, np.array([c * ks]), [], [0.0])
    exact = np.array([c * ks, c * (2 * np.pi - ks)])
    first = fits.RationalBand(np.array([0.0, E]), np.array([rho, 0.0]))
    second = fits.fit_second_band(ks, exact[1], rho)
    model = two_band(first, second, "homogeneous two-band")
    return Homogenized(model, ks, exact, [first, second], _errors(model, ks, exact))
