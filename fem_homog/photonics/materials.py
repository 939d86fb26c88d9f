"""Frequency-dependent material models: constant, Drude and multi-pole Lorentz (theory.md §6).

With the time convention ``e^{-iωt}`` and the non-dimensional frequency ``Ω = ω a / c`` (so the reduced
frequency is ``Ω/2π = a/λ``; all model frequencies are scaled the same way):

    ε(Ω) = ε_∞ − Σ_d Ω_{p,d}² / (Ω² + iΓ_d Ω) + Σ_j Δε_j Ω_j² / (Ω_j² − Ω² − iΓ_j Ω).

The same class describes a relative permeability μ_r(Ω). Passive media (all Γ ≥ 0) have Im ε ≥ 0 for Re Ω > 0.
A model is also a ratio of two polynomials in Ω, which is what the polynomial eigenvalue problem of
:mod:`fem_homog.photonics.bloch` is built from; :func:`d_domega2` is the one "dot" derivative ``∂/∂(Ω²)`` of
such a fraction (of a model, or of a slot coefficient built from models in :mod:`fem_homog.photonics.dispersion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from numpy.polynomial import Polynomial

from fem_homog.core.errors import require


@dataclass(frozen=True)
class DispersiveModel:
    """``ε(Ω)`` (or ``μ_r(Ω)``) as a constant plus Drude and Lorentz terms.

    Attributes
    ----------
    eps_inf
        High-frequency value ``ε_∞``.
    drude
        ``(Ω_p, Γ)`` per Drude term: plasma frequency and damping.
    lorentz
        ``(Δε, Ω_0, Γ)`` per Lorentz pole: strength, resonance frequency and damping.
    """

    eps_inf: float
    drude: tuple[tuple[float, float], ...] = ()
    lorentz: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        require(np.isfinite(self.eps_inf) and self.eps_inf != 0.0,
                f"eps_inf must be a finite non-zero number, got {self.eps_inf}")
        for omega_p, gamma in self.drude:
            require(omega_p > 0.0, f"Drude plasma frequency must be positive, got {omega_p}")
            require(gamma >= 0.0, f"Drude damping must be non-negative, got {gamma}")
        for delta, omega_0, gamma in self.lorentz:
            require(np.isfinite(delta), f"Lorentz strength must be finite, got {delta}")
            require(omega_0 > 0.0, f"Lorentz resonance frequency must be positive, got {omega_0}")
            require(gamma >= 0.0, f"Lorentz damping must be non-negative, got {gamma}")

    @property
    def is_constant(self) -> bool:
        return not self.drude and not self.lorentz

    def __call__(self, omega: complex | np.ndarray) -> complex | np.ndarray:
        """``ε(Ω)`` at (complex) frequencies ``Ω``."""
        omega = np.asarray(omega, dtype=complex)
        value = np.full(omega.shape, complex(self.eps_inf))
        for omega_p, gamma in self.drude:
            value = value - omega_p**2 / (omega**2 + 1j * gamma * omega)
        for delta, omega_0, gamma in self.lorentz:
            value = value + delta * omega_0**2 / (omega_0**2 - omega**2 - 1j * gamma * omega)
        return value[()] if value.ndim == 0 else value

    def as_fraction(self) -> tuple[Polynomial, Polynomial]:
        """``(N, D)`` with ``ε(Ω) = N(Ω)/D(Ω)``: ``D`` is the product of the pole denominators."""
        terms = [(Polynomial([0.0, 1j * g, 1.0]), Polynomial([-wp**2])) for wp, g in self.drude]
        terms += [(Polynomial([w0**2, -1j * g, -1.0]), Polynomial([d * w0**2])) for d, w0, g in self.lorentz]
        den = Polynomial([1.0 + 0j])
        for d, _ in terms:
            den = den * d
        num = self.eps_inf * den
        for i, (_, n) in enumerate(terms):
            others = Polynomial([1.0 + 0j])
            for j, (d, _) in enumerate(terms):
                if j != i:
                    others = others * d
            num = num + n * others
        return num, den


def d_domega2(num: Polynomial, den: Polynomial, omega: complex) -> complex:
    """``∂(num/den)/∂(Ω²) = (num/den)'(Ω) / (2Ω)`` (the dot derivative of theory.md §1); at ``Ω = 0`` the
    coefficient of Ω² of the Taylor series, which exists only for a fraction that is finite and even to first
    order there (a static limit). For a model: ``d_domega2(*eps.as_fraction(), omega)``.
    """
    if abs(omega) > 1e-12:
        return ((num.deriv() * den - num * den.deriv())(omega) / den(omega) ** 2) / (2 * omega)
    n, d = (np.pad(p.coef.astype(complex), (0, 3))[:3] for p in (num, den))
    require(abs(d[0]) > 0, "a coefficient is infinite at zero frequency: this medium has no static limit")
    c0 = n[0] / d[0]
    c1 = (n[1] - c0 * d[1]) / d[0]
    require(abs(c1) <= 1e-12 * max(abs(c0), 1.0),
            "a coefficient is not even in Ω at zero frequency (lossy): no static limit")
    return (n[2] - c0 * d[2] - c1 * d[1]) / d[0]


def constant(value: float) -> DispersiveModel:
    """A frequency-independent ``ε`` (or ``μ_r``)."""
    return DispersiveModel(eps_inf=float(value))


def drude(eps_inf: float, omega_p: float, gamma: float = 0.0) -> DispersiveModel:
    """``ε(Ω) = ε_∞ − Ω_p²/(Ω² + iΓΩ)``."""
    return DispersiveModel(eps_inf=float(eps_inf), drude=((float(omega_p), float(gamma)),))


def lorentz(eps_inf: float, poles: Sequence[Sequence[float]]) -> DispersiveModel:
    """``ε(Ω) = ε_∞ + Σ Δε_j Ω_j²/(Ω_j² − Ω² − iΓ_jΩ)`` from a list of ``[Δε_j, Ω_j, Γ_j]``."""
    require(len(poles) > 0, "a Lorentz model needs at least one pole [delta_eps, omega_j, gamma_j]")
    for pole in poles:
        require(len(pole) == 3, f"a Lorentz pole is [delta_eps, omega_j, gamma_j], got {list(pole)}")
    return DispersiveModel(eps_inf=float(eps_inf),
                           lorentz=tuple((float(d), float(w), float(g)) for d, w, g in poles))


@dataclass(frozen=True)
class Phase:
    """A phase of the cell: its cell tag and its (possibly dispersive) ``ε`` and ``μ_r``."""

    tag: int
    eps: DispersiveModel
    mu_r: DispersiveModel = field(default_factory=lambda: constant(1.0))
