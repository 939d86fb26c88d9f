"""From a laminate to its real-space multiband model: exact bands, rational fits, errors per band
(theory.md §10.1, §10.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fem_homog.core.errors import require
from fem_homog.multiband import fits
from fem_homog.multiband.model import Model, classical, single_band, two_band


@dataclass(frozen=True)
class Homogenized:
    """A model with the data it was fitted to: ``ks`` (samples in ``(0, π]``), ``exact`` (one row per band),
    the fitted bands and ``errors`` (per band, ``max|ω_model − ω| / max ω``)."""

    model: Model
    ks: np.ndarray
    exact: np.ndarray
    bands: list[fits.RationalBand]
    errors: list[float]


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
    require(count >= 4, f"fit.samples must be at least 4, got {count}")
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
    require(bands in (1, 2), f"model.bands must be 1 or 2, got {bands}")
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
