"""The slot algebra of dispersive Bloch problems: slot coefficients as fractions, the multiplier ``Q`` and the
polynomial coefficients of ``Q T(Ω)`` (theory.md §6).

Per phase ``s`` the Bloch operator has the slot coefficients of theory.md §1 (:func:`~fem_homog.photonics.slots.
slot_pair`): ``μ_s(Ω)`` in front of the stiffness and ``β_s(Ω) = Ω² ρ_s(Ω)`` in front of the mass. Both are
ratios of polynomials in Ω. Multiplying ``T(Ω) = Σ_s μ_s K_s − β_s M_s`` by the product ``Q`` of their distinct
denominators gives a matrix polynomial ``Q T = Σ_j Ω^j A_j`` with the coefficients of :func:`polynomial_coefficients`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.polynomial import Polynomial

from fem_homog.photonics.materials import Phase, d_domega2
from fem_homog.photonics.slots import slot_pair


@dataclass(frozen=True)
class SlotPolynomials:
    """A phase's slot coefficients as fractions: ``μ_s = mu_num/mu_den``, ``Ω²ρ_s = beta_num/beta_den``."""

    mu_num: Polynomial
    mu_den: Polynomial
    beta_num: Polynomial
    beta_den: Polynomial

    def mu(self, omega: complex) -> complex:
        """``μ_s(Ω)``."""
        return self.mu_num(omega) / self.mu_den(omega)

    def beta(self, omega: complex) -> complex:
        """``β_s(Ω) = Ω² ρ_s(Ω)``."""
        return self.beta_num(omega) / self.beta_den(omega)

    def mu_dot(self, omega: complex) -> complex:
        """``μ̇_s = ∂μ_s/∂(Ω²)`` (theory.md §1 dot notation)."""
        return d_domega2(self.mu_num, self.mu_den, omega)

    def beta_dot(self, omega: complex) -> complex:
        """``β̇_s = ∂(Ω²ρ_s)/∂(Ω²) = ρ_s + Ω² ρ̇_s``."""
        return d_domega2(self.beta_num, self.beta_den, omega)

    @property
    def static_values(self) -> tuple[complex, complex]:
        """``(μ_s, ρ_s)`` of a constant medium: the coefficients of the generalized eigenproblem
        ``Σ μ_s K_s x = Ω² Σ ρ_s M_s x`` (theory.md §5)."""
        return self.mu_num.coef[0] / self.mu_den.coef[0], self.beta_num.coef[2] / self.beta_den.coef[0]


def _strip_common_root_at_zero(num: Polynomial, den: Polynomial) -> tuple[Polynomial, Polynomial]:
    """Cancel common factors Ω (e.g. Ω² ε for a Drude ε, whose denominator is Ω(Ω + iΓ))."""
    while len(num.coef) > 1 and len(den.coef) > 1 and num.coef[0] == 0 and den.coef[0] == 0:
        num, den = Polynomial(num.coef[1:]), Polynomial(den.coef[1:])
    return num, den


def slot_polynomials(phase: Phase, polarization: str) -> SlotPolynomials:
    """The slot fractions of a phase (theory.md §1 table and §6)."""
    inverted, rho = slot_pair(phase.eps, phase.mu_r, polarization)
    inv_n, inv_d = inverted.as_fraction()
    rho_n, rho_d = rho.as_fraction()
    mass_n, mass_d = _strip_common_root_at_zero(Polynomial([0.0, 0.0, 1.0]) * rho_n, rho_d)
    return SlotPolynomials(inv_d, inv_n, mass_n, mass_d)


def _monic(p: Polynomial) -> Polynomial:
    return Polynomial(p.coef / p.coef[-1])


def multiplier(slots: Sequence[SlotPolynomials]) -> Polynomial:
    """``Q``: the product of the distinct (monic) denominators of all slot coefficients."""
    distinct: list[Polynomial] = []
    for s in slots:
        for den in (s.mu_den, s.beta_den):
            m = _monic(den)
            if m.degree() > 0 and not any(len(m.coef) == len(d.coef) and np.allclose(m.coef, d.coef)
                                          for d in distinct):
                distinct.append(m)
    Q = Polynomial([1.0 + 0j])
    for d in distinct:
        Q = Q * d
    return Q


def _exact_quotient(num: Polynomial, den: Polynomial) -> np.ndarray:
    quotient, remainder = divmod(num, den)
    scale = max(np.abs(num.coef).max(), 1.0)
    if np.abs(remainder.coef).max() > 1e-9 * scale:
        raise RuntimeError("internal error: the multiplier does not clear a denominator")
    return quotient.coef


def polynomial_coefficients(slots: Sequence[SlotPolynomials], Q: Polynomial) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per phase, the coefficients (in increasing powers of Ω) of ``Q μ_s`` and ``Q Ω² ρ_s``."""
    return [(_exact_quotient(Q * s.mu_num, s.mu_den), _exact_quotient(Q * s.beta_num, s.beta_den)) for s in slots]


def is_multiplier_root(Q: Polynomial, omega: complex) -> bool:
    """Whether ``Ω`` is a root of ``Q`` (an eigenvalue planted by the multiplication, theory.md §6.3)."""
    q_scale = max(np.abs(Q.coef).max(), 1.0)
    return Q.degree() > 0 and abs(Q(omega)) < 1e-8 * q_scale * max(1, abs(omega)) ** Q.degree()
