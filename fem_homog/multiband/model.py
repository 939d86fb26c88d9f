"""Real-space multiband models: symbol, PDE, energy flux and interface conditions (theory.md §10.2, §10.4).

A model is the polynomial dispersion relation ``P(q, ω) = Σ_{n=0}^N p_n(ω²) q^{2n} = 0`` with
``p_n(λ) = Σ_m C[n, m] λ^m``. With ``q^{2n} ↔ (−1)^n ∂_x^{2n}`` and ``λ ↔ −∂_t²`` it is the real-space PDE

    Σ_n (−1)^n ∂_x^n σ_n = 0,   σ_n = Σ_m C[n, m] (−∂_t²)^m ∂_x^n u,

(single band ``R_2N``: ``p_n = E_n − λ ρ_n``; two bands: ``p_n = c_n − b_n λ + a_n λ²``; classical:
``p_0 = −λρ``, ``p_1 = E``). Time-harmonic (``e^{−iωt}``) quantities use ``G_n = p_n(ω²)``,
``σ_n = G_n ∂^n u`` and the interface tractions

    τ_j = Σ_{n=j+1}^N (−1)^{n−1−j} ∂^{n−1−j} σ_n,   j = 0, …, N−1,

with the averaged energy flux ``⟨J⟩ = (ω/2) Im Σ_j τ_j conj(∂^j u)``. At an interface between orders
``N_a`` and ``N_b`` (``n = min``): ``[∂^j u] = [τ_j] = 0`` for ``j < n`` and ``τ_j = 0`` on the side of higher
order for ``n ≤ j < max`` (``N_a + N_b`` conditions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

from fem_homog.core.errors import require
from fem_homog.multiband.fits import RationalBand

REAL_TOL = 1e-8  # |Im q| ≤ REAL_TOL |q|: a propagating wave


@dataclass(frozen=True)
class Model:
    """``P(q, ω) = Σ_n Σ_m C[n, m] ω^{2m} q^{2n}``; ``order`` = N (space order 2N), ``time_order`` = M."""

    C: np.ndarray
    name: str = ""

    @property
    def order(self) -> int:
        return self.C.shape[0] - 1

    @property
    def time_order(self) -> int:
        return self.C.shape[1] - 1

    def g(self, omega: float) -> np.ndarray:
        """``G_n = p_n(ω²)``, ``n = 0..N``."""
        return np.polynomial.polynomial.polyval(omega ** 2, self.C.T)

    def dg(self, omega: float) -> np.ndarray:
        """``dp_n/dλ`` at ``λ = ω²``."""
        dC = np.polynomial.polynomial.polyder(self.C.T, axis=0)
        return np.polynomial.polynomial.polyval(omega ** 2, dC) if dC.size else np.zeros(self.order + 1)

    def symbol(self, q: complex, omega: float) -> complex:
        """``P(q, ω)``."""
        return complex(np.polynomial.polynomial.polyval(q ** 2, self.g(omega)))

    def group_velocity_sign(self, q: float, omega: float) -> float:
        """Sign of ``dω/dq = −∂_qP / ∂_ωP`` for a real wavenumber."""
        P = np.polynomial.polynomial
        in_q = np.zeros(2 * self.order + 1)
        in_q[::2] = self.g(omega)
        dP_dq = P.polyval(q, P.polyder(in_q))
        dP_dw = 2 * omega * P.polyval(q ** 2, self.dg(omega))
        return float(np.sign(-dP_dq / dP_dw))

    def right_going(self, omega: float) -> np.ndarray:
        """The ``N`` wavenumbers outgoing to ``+x``: ``Im q > 0`` (decaying), or real with positive group
        velocity (the limiting-absorption choice, theory.md §10.3)."""
        g = self.g(omega)
        require(abs(g[-1]) > 0, f"model {self.name}: leading coefficient vanishes at ω = {omega}")
        s = np.roots(g[::-1])
        out = []
        for q in np.sqrt(s.astype(complex)):
            if abs(q.imag) <= REAL_TOL * abs(q):
                q = q.real * self.group_velocity_sign(q.real, omega) + 0j
            elif q.imag < 0:
                q = -q
            out.append(q)
        return np.array(out)

    def traces(self, q: complex, omega: float) -> np.ndarray:
        """``(∂^j u, τ_j)_{j<N}`` of the unit mode ``e^{iqx}`` at ``x = 0`` (length ``2N``)."""
        N, g = self.order, self.g(omega)
        iq = 1j * q
        d = iq ** np.arange(N)
        tau = np.array([sum((-1) ** (n - 1 - j) * iq ** (n - 1 - j) * g[n] * iq ** n for n in range(j + 1, N + 1))
                        for j in range(N)])
        return np.concatenate([d, tau])

    def flux(self, traces: np.ndarray, omega: float) -> float:
        """Time-averaged flux ``(ω/2) Im Σ_j τ_j conj(∂^j u)`` of a field given by its traces."""
        N = self.order
        return float(0.5 * omega * np.imag(np.sum(traces[N:] * np.conj(traces[:N]))))


def classical(E: float, rho: float, name: str = "classical") -> Model:
    """``−(E u')' = ω² ρ u``: ``p_0 = −λρ``, ``p_1 = E``."""
    require(E > 0 and rho > 0, f"homogeneous E and rho must be positive, got {E}, {rho}")
    return Model(np.array([[0.0, -rho], [E, 0.0]]), name)


def band_coefficients(band: RationalBand) -> np.ndarray:
    """``C[n, :] = (num_n, −den_n)`` of ``Σ num_n k^{2n} − λ Σ den_n k^{2n}``."""
    return np.column_stack([band.num, -band.den])


def single_band(band: RationalBand, name: str = "") -> Model:
    """The ``R_2N`` model ``Σ (E_n − ω² ρ_n) q^{2n} = 0`` (theory.md §10.2)."""
    return Model(band_coefficients(band), name or f"R{2 * (len(band.num) - 1)}")


def two_band(first: RationalBand, second: RationalBand, name: str = "") -> Model:
    """Product model ``(N_1 − λD_1)(N_2 − λD_2)/c_0`` (theory.md §10.4), normalised by ``c_0 = N_2(0)`` so that
    it reduces to the classical static limit ``Ē q² − λρ̄`` as ``q, ω → 0``."""
    require(second.num[0] > 0, "the second band needs a cut-off frequency (c_0 > 0)")
    C = polymul(band_coefficients(first), band_coefficients(second))
    return Model(C / second.num[0], name or "two-band")


def polymul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of two polynomials in several variables given as coefficient arrays (one axis per variable,
    increasing powers)."""
    return scipy.signal.convolve(a, b, method="direct")


def interface_conditions(order_a: int, order_b: int) -> list[str]:
    """The interface conditions between a medium of order ``order_a`` (left) and ``order_b`` (right),
    as readable strings (theory.md §10.2)."""
    n = min(order_a, order_b)
    out = [f"[d^{j}u] = 0" for j in range(n)] + [f"[tau_{j}] = 0" for j in range(n)]
    side = "left" if order_a > order_b else "right"
    out += [f"tau_{j}({side}) = 0" for j in range(n, max(order_a, order_b))]
    return out
