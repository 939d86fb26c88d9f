"""2D oblique incidence on a laminate (theory.md §10.5): tensor-valued rational fits of the exact 2D bands,
reduction of the 2D model to a 1D model along the interface normal, and the exact fine-scale answers.

Laminate axes: ``s`` across the layers (stacking, period 1), ``t`` along them. Band ``b`` of the laminate at
``(k_s, k_t)`` is the ``b``-th root of ``Δ(ω; k_t) = cos k_s`` for the layers of
:func:`~fem_homog.multiband.fits.transverse_layers`. The fitted bands are

    band 1:  ω² = (Ē k_s² + ⟨E⟩ k_t²) / (ρ̄ + B_s k_s² + B_t k_t²)           (E and B diagonal, SPD)
    band 2:  ω² = (c_0 + c_s k_s² + c_t k_t²) / (ρ̄ + d_s k_s² + d_t k_t²)

with the exact static tensor ``diag(Ē, ⟨E⟩)`` (harmonic and arithmetic means); mirror symmetry of the laminate
makes every coefficient tensor diagonal in ``(s, t)``. A model is the coefficient array ``C2[a, b, m]`` of
``k_s^{2a} k_t^{2b} λ^m`` (two bands: the product of the band polynomials, normalised by ``c_0``). Its
real-space Lagrangian is written with the terms ``(∂_s^a ∂_t^b u)²``, so with the interface normal ``n`` and the
tangential wavenumber ``k_2`` conserved, ``∂_tangential → i k_2`` turns it into the 1D model in ``x_n`` of
:mod:`fem_homog.multiband.model`, whose interface conditions are those of theory.md §10.5.
Orientation ``parallel``: layers parallel to the interface (``n = s``); ``normal``: layers normal to it (``n = t``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.multiband import fits, plots
from fem_homog.multiband.model import Model, polymul
from fem_homog.multiband.modematching import TransverseProblem
from fem_homog.multiband.scattering import Media, solve, terminated
from fem_homog.photonics import laminate1d

ORIENTATIONS = ("parallel", "normal")


def check_orientation(orientation: str) -> None:
    """Refuse an orientation of the layers that is not one of :data:`ORIENTATIONS`."""
    require(orientation in ORIENTATIONS, f"unknown {{argument}} '{orientation}' (known: {', '.join(ORIENTATIONS)})",
            argument="orientation")


@dataclass(frozen=True)
class Fit2D:
    """The 2D model ``C2`` with its per-band coefficients (numerator, denominator on ``[1, k_s², k_t²]``) and
    fit errors ``max|ω_fit − ω| / max ω`` per band over the sample grid."""

    C2: np.ndarray
    bands: list[tuple[np.ndarray, np.ndarray]]
    errors: list[float]

    def to_dict(self, *, bands: bool = True) -> dict:
        """``C2``, the per-band coefficients (unless ``bands`` is false) and the errors."""
        return {"C2": self.C2, **({"bands": self.bands} if bands else {}), "errors": self.errors}


def check_fit(*, bands: int, order: int, cutoff: bool) -> None:
    """Refuse a 2D fit :func:`fit` does not offer."""
    require(bands in (1, 2), f"must be 1 or 2, got {bands}", argument="bands")
    require(order in (1, 2), f"must be 1 or 2 for the 2D fit, got {order}", argument="order")
    require(order == 1 or (bands == 1 and not cutoff), "2 (the 2D R_4 fit) needs a single band and no cutoff",
            argument="order")


@dataclass(frozen=True, kw_only=True)
class Fit2DOptions:
    """The arguments of :func:`fit`: ``bands``, ``order`` of band 1, the grid ``samples`` × ``samples`` over
    ``k_s ∈ (0, π]``, ``k_t ∈ [0, k_t_max]``, ``cutoff`` at the exact edges, nonlinear ``refine``-ment."""

    bands: int
    order: int
    samples: int
    k_t_max: float
    cutoff: bool
    refine: bool

    def __post_init__(self):
        check_fit(bands=self.bands, order=self.order, cutoff=self.cutoff)


def exact_bands(spec: Sequence[Sequence[float]], ks: np.ndarray, kts: np.ndarray, count: int) -> np.ndarray:
    """``ω_b(k_s, k_t)``, shape ``(count, len(kts), len(ks))``."""
    out = np.zeros((count, len(kts), len(ks)))
    for i, kt in enumerate(kts):
        layers = fits.transverse_layers(spec, kt)
        for b, edges in enumerate(fits.band_edges(layers, count, fits.travel_time(spec))):
            out[b, i] = fits.exact_band(layers, edges, ks)
    return out


POWERS = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]  # (a, b) of the basis k_s^{2a} k_t^{2b} of the fits


def _band_array(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``C2`` of ``N − λD`` for coefficients on ``[1, k_s², k_t²]`` (order 1) or
    ``[1, k_s², k_t², k_s⁴, k_s²k_t², k_t⁴]`` (order 2)."""
    size = 2 if len(num) == 3 else 3
    C = np.zeros((size, size, 2))
    for (a, b), n, d in zip(POWERS, num, den):
        C[a, b] = [n, -d]
    return C


def _family(num0, den0, params: list[tuple[Sequence[float], Sequence[float]]]) -> fits.Family:
    size = len(num0)
    return fits.Family(np.asarray(num0, float), np.asarray(den0, float),
                       np.array([p[0] for p in params], float).reshape(-1, size),
                       np.array([p[1] for p in params], float).reshape(-1, size))


def _first_family(E_bar: float, E_mean: float, rho_bar: float, cutoff: float | None) -> fits.Family:
    """Band 1: numerator ``Ē k_s² + ⟨E⟩ k_t²`` fixed; ``B_s`` free (or ``Ē/cutoff²``), ``B_t`` free."""
    B_t = ([0, 0, 0], [0, 0, 1])
    if cutoff is None:
        return _family([0, E_bar, E_mean], [rho_bar, 0, 0], [([0, 0, 0], [0, 1, 0]), B_t])
    return _family([0, E_bar, E_mean], [rho_bar, E_bar / cutoff ** 2, 0], [B_t])


def _first_family_order2(E_bar: float, E_mean: float, rho_bar: float) -> fits.Family:
    """Band 1 as a 2D ``R_4``: numerator ``Ē k_s² + ⟨E⟩ k_t²`` fixed plus free ``E_ss k_s⁴ + E_st k_s²k_t² +
    E_tt k_t⁴``; denominator ``ρ̄`` plus free ``B_s k_s² + B_t k_t² + ρ_ss k_s⁴ + ρ_st k_s²k_t² + ρ_tt k_t⁴``."""
    unit = np.eye(6)
    zero = np.zeros(6)
    params = [(unit[i], zero) for i in (3, 4, 5)] + [(zero, unit[i]) for i in (1, 2, 3, 4, 5)]
    return _family([0, E_bar, E_mean, 0, 0, 0], [rho_bar, 0, 0, 0, 0, 0], params)


def _second_family(rho_bar: float, edges: tuple[float, float] | None) -> fits.Family:
    """Band 2: ``c_0, c_s, c_t, d_s, d_t ≥ 0``; with ``edges = (bottom, top)``: ``c_0 = ρ̄ top²``,
    ``c_s = bottom² d_s``."""
    c_t, d_t = ([0, 0, 1], [0, 0, 0]), ([0, 0, 0], [0, 0, 1])
    if edges is None:
        return _family([0, 0, 0], [rho_bar, 0, 0],
                       [([1, 0, 0], [0, 0, 0]), ([0, 1, 0], [0, 0, 0]), c_t, ([0, 0, 0], [0, 1, 0]), d_t])
    return _family([rho_bar * edges[1] ** 2, 0, 0], [rho_bar, 0, 0], [([0, edges[0] ** 2, 0], [0, 1, 0]), c_t, d_t])


def fit(spec: Sequence[Sequence[float]], bands: int, samples: int = 16, k_t_max: float = 2 * np.pi,
        cutoff: bool = False, refine: bool = True, order: int = 1) -> Fit2D:
    """Fit band 1 (and band 2) on the grid ``k_s ∈ (0, π]``, ``k_t ∈ [0, k_t_max]``. ``cutoff``: pin
    ``ω(k_s → ∞, k_t = 0)`` to the exact gap edges and band 2 at ``k = 0`` to its exact top (as in 1D).
    ``order = 2``: band 1 as the 2D ``R_4`` of :func:`_first_family_order2` (single band, no cut-off)."""
    check_fit(bands=bands, order=order, cutoff=cutoff)
    E_bar, rho_bar = fits.static_moduli(spec)
    E_mean = sum(E * h for E, _, h in spec)
    ks, kts = np.linspace(np.pi / samples, np.pi, samples), np.linspace(0.0, k_t_max, samples)
    exact = exact_bands(spec, ks, kts, bands)
    S, T = np.meshgrid(ks ** 2, kts ** 2)
    S, T = S.ravel(), T.ravel()
    basis = np.column_stack([np.ones(S.size), S, T] + ([S ** 2, S * T, T ** 2] if order == 2 else []))
    edges = fits.band_edges(fits.elastic_layers(spec), 2)
    families = [_first_family(E_bar, E_mean, rho_bar, edges[0][1] if cutoff else None) if order == 1
                else _first_family_order2(E_bar, E_mean, rho_bar),
                _second_family(rho_bar, edges[1] if cutoff else None)]
    out, errors = [], []
    for b in range(bands):
        omega = exact[b].ravel()
        weights = 1.0 / np.maximum(S + T, 1e-12) if b == 0 else 1.0 / omega ** 2
        num, den = fits.fit_family(families[b], basis, omega, weights, refine)
        out.append((num, den))
        errors.append(float(np.max(np.abs(np.sqrt(basis @ num / (basis @ den)) - omega)) / np.max(omega)))
    C2 = _band_array(*out[0])
    if bands == 2:
        C2 = polymul(C2, _band_array(*out[1])) / out[1][0][0]
    return Fit2D(C2=C2, bands=out, errors=errors)


def reduce(C2: np.ndarray, orientation: str, k2: float, name: str = "") -> Model:
    """The 1D model along the interface normal for tangential wavenumber ``k2``: ``C[a, m] =
    Σ_b C2_n[a, b, m] k2^{2b}`` with the normal axis first."""
    C2n = normal_first(C2, orientation)
    C = np.tensordot(k2 ** (2 * np.arange(C2n.shape[1])), C2n, axes=(0, 1))
    while C.shape[0] > 2 and not np.any(C[-1]):
        C = C[:-1]
    return Model(C, name or f"2D model, k2 = {k2:.4g}")


def normal_first(C2: np.ndarray, orientation: str) -> np.ndarray:
    """``C2`` with the interface normal as the first axis: ``(s, t)`` for ``parallel``, ``(t, s)`` for
    ``normal``."""
    check_orientation(orientation)
    return C2 if orientation == "parallel" else np.swapaxes(C2, 0, 1)


def homogeneous_reduced(E: float, rho: float, k2: float) -> Model:
    """Classical ``−∇·(E∇u) = ω²ρu`` with ``∂_2 → ik_2``: ``p_0 = E k_2² − λρ``, ``p_1 = E``."""
    return Model(np.array([[E * k2 ** 2, -rho], [E, 0.0]]), "homogeneous")


def exact_parallel(spec: Sequence[Sequence[float]], E_h: float, rho_h: float, omega: float, k2: float,
                   termination: int = 0) -> laminate1d.Scattering:
    """Exact fine scale, layers parallel to the interface: the 1D transfer matrix with the transverse layers
    and the half-space's ρ-slot ``ρ_h − E_h k_2²/ω²`` (its normal wavenumber ``sqrt(ω²ρ_h/E_h − k_2²)``)."""
    layers = fits.transverse_layers(terminated(spec, termination), k2)
    return laminate1d.single_boundary(layers, omega, E_h, rho_h - E_h * k2 ** 2 / omega ** 2)


def fit_homogeneous(E: float, rho: float, bands: int, samples: int = 16, k_t_max: float = 2 * np.pi,
                    refine: bool = True) -> Fit2D:
    """A homogeneous medium in the same form on the laminate's lattice (theory.md §10.4): band 1 exact
    (``ω² = (E/ρ)(k_s² + k_t²)``), band 2 the fit of the band folded across the layers,
    ``ω = c sqrt((2π − k_s)² + k_t²)``, so that both sides of an interface have equal order."""
    C1 = _band_array(np.array([0.0, E, E]), np.array([rho, 0.0, 0.0]))
    if bands == 1:
        return Fit2D(C2=C1, bands=[(np.array([0.0, E, E]), np.array([rho, 0.0, 0.0]))], errors=[0.0])
    ks, kts = np.linspace(np.pi / samples, np.pi, samples), np.linspace(0.0, k_t_max, samples)
    K, KT = np.meshgrid(ks, kts)
    basis = np.column_stack([np.ones(K.size), K.ravel() ** 2, KT.ravel() ** 2])
    omega = np.sqrt(E / rho) * np.sqrt((2 * np.pi - K) ** 2 + KT ** 2).ravel()
    num, den = fits.fit_family(_second_family(rho, None), basis, omega, 1.0 / omega ** 2, refine)
    error = float(np.max(np.abs(np.sqrt(basis @ num / (basis @ den)) - omega)) / np.max(omega))
    return Fit2D(C2=polymul(C1, _band_array(num, den)) / num[0],
                 bands=[(np.array([0.0, E, E]), np.array([rho, 0.0, 0.0])), (num, den)], errors=[0.0, error])


def angle_rows(meta: Fit2D, hom: Fit2D, spec: Sequence[Sequence[float]], E_h: float, rho_h: float,
               orientation: str, omegas: Sequence[float], angles: Sequence[float], termination: int = 0,
               h: float = 0.05) -> list[dict]:
    """Reflection vs incidence angle (degrees from the normal), model against exact, one row per (ω, angle)."""
    transverse = TransverseProblem(spec, E_h, rho_h, h=h) if orientation == "normal" else None
    rows = []
    for w in omegas:
        for angle in angles:
            k2 = float(w * np.sqrt(rho_h / E_h) * np.sin(np.radians(angle)))
            m = solve([reduce(hom.C2, orientation, k2), reduce(meta.C2, orientation, k2)], [0.0], float(w))
            if transverse is None:
                e = exact_parallel(spec, E_h, rho_h, float(w), k2, termination)
                exact_R, exact_modes = abs(e.R) ** 2, [[None, e.T_E]] if e.T_E > 0 else []
            else:
                e = transverse.solve(float(w), k2)
                exact_R, exact_modes = e.R_E, [list(p) for p in e.transmitted]
            rows.append({"omega": float(w), "angle": float(angle), "k2": k2, "exact_R_E": float(exact_R),
                         "model_R_E": m.R_E, "energy_balance": m.energy_balance,
                         "exact_transmitted_modes": exact_modes,
                         "model_transmitted_modes": [list(p) for p in m.mode_fractions(1)]})
    return rows


@dataclass(frozen=True, kw_only=True)
class AngleOptions:
    """Reflection vs angle (:func:`angle_study`): layers ``orientation``-ed to the interface, the angular
    ``frequencies`` ω and incidence ``angles`` (degrees from the normal), the mesh size ``mode_matching_h`` of the
    exact mode matching (layers normal), and the 2D ``fit``."""

    orientation: str
    frequencies: np.ndarray
    angles: np.ndarray
    mode_matching_h: float
    fit: Fit2DOptions

    def __post_init__(self):
        check_orientation(self.orientation)
        require(len(self.frequencies) > 0 and bool(np.all(np.asarray(self.frequencies) > 0)), "must be positive",
                argument="frequencies")
        angles = np.asarray(self.angles)
        require(len(angles) > 0 and bool(np.all((angles >= 0) & (angles < 90))), "must lie in [0, 90) degrees",
                argument="angles")


@dataclass(frozen=True)
class AngleStudy:
    """The 2D fits of laminate and homogeneous medium, one row per (ω, angle) of :func:`angle_rows`, and the
    largest ``|R_E model − R_E exact|``."""

    fit: Fit2D
    homogeneous_fit: Fit2D
    rows: list[dict]
    max_abs_R_error: float

    def to_dict(self) -> dict:
        return {"fit": self.fit.to_dict(), "homogeneous_fit": self.homogeneous_fit.to_dict(bands=False),
                "rows": self.rows, "max_abs_R_error": self.max_abs_R_error}


def angle_study(media: Media, options: AngleOptions, *, out: Path | None = None) -> AngleStudy:
    """2D oblique incidence (theory.md §10.5): fit the laminate and the homogeneous medium in the same form,
    then reflection vs angle, model against exact; ``out``: write ``reflection_vs_angle.png`` there."""
    start = time.perf_counter()
    meta = fit(media.layers, **dataclasses.asdict(options.fit))
    hom = fit_homogeneous(media.E_h, media.rho_h, options.fit.bands, options.fit.samples, options.fit.k_t_max)
    log(f"  oblique ({options.orientation} layers): 2D fit errors per band {[f'{e:.2%}' for e in meta.errors]}, "
        f"{time.perf_counter() - start:.1f} s")
    rows = angle_rows(meta, hom, media.layers, media.E_h, media.rho_h, options.orientation, options.frequencies,
                      options.angles, media.termination, options.mode_matching_h)
    diff = [abs(r["model_R_E"] - r["exact_R_E"]) for r in rows]
    log(f"  oblique R_E model vs exact: max |error| {max(diff):.3f}; max |balance − 1| "
        f"{max(abs(r['energy_balance'] - 1) for r in rows):.1e}")
    if out is not None:
        plots.plot_angles(rows, f"{options.orientation} layers, {options.fit.bands} band(s)",
                          out / "reflection_vs_angle.png")
    return AngleStudy(meta, hom, rows, max(diff))
