"""Exact 1D layered media: transfer matrices, Bloch dispersion, complex root tracking, scattering (theory.md §7).

Model: ``(μ(y,Ω) u')' + Ω² ρ(y,Ω) u = 0`` on a period made of layers, each with its own slot coefficients
``μ_m(Ω)``, ``ρ_m(Ω)`` (functions of the complex frequency, e.g. TM: ``μ = 1/μ_r``, ``ρ = ε``; TE:
``μ = 1/ε``, ``ρ = μ_r``). With ``q_m = Ω sqrt(ρ_m/μ_m)`` and ``Z_m = μ_m q_m`` a layer of thickness ``h_m``
maps the state ``(u, μu')`` by

    M_m = [[cos q h, sin(q h)/Z], [−Z sin(q h), cos(q h)]],   M = M_N ⋯ M_1,   det M = 1,

and Bloch waves ``u(y+1) = e^{ik} u(y)`` exist where ``cos k = Δ(Ω) := tr(M)/2``. ``Δ`` is even in every
``q_m`` (no branch cuts), holomorphic except at the accumulation points of theory.md §6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from fem_homog.core.errors import SolverError, require
from fem_homog.photonics.materials import DispersiveModel
from fem_homog.photonics.slots import slot_pair

Coefficient = Callable[[complex], complex]


@dataclass(frozen=True)
class Layer:
    """One layer: thickness and the two slot coefficients as functions of Ω."""

    thickness: float
    mu: Coefficient
    rho: Coefficient

    def __post_init__(self) -> None:
        require(self.thickness > 0.0, f"layer thickness must be positive, got {self.thickness}")


def photonic_layers(eps: Sequence[DispersiveModel], thickness: Sequence[float], polarization: str,
                    mu_r: Sequence[DispersiveModel] | None = None) -> list[Layer]:
    """Layers of a photonic stack in the slot convention of theory.md §1 (TM: ``μ = 1/μ_r, ρ = ε``;
    TE: ``μ = 1/ε, ρ = μ_r``)."""
    require(len(eps) == len(thickness), "one permittivity per layer")
    mu_r = mu_r or [DispersiveModel(1.0)] * len(eps)
    pairs = [slot_pair(e, m, polarization) for e, m in zip(eps, mu_r)]
    return [Layer(h, (lambda w, a=a: 1.0 / a(w)), b) for (a, b), h in zip(pairs, thickness)]


def _layer_matrix(layer: Layer, omega: complex) -> np.ndarray:
    mu, rho = layer.mu(omega), layer.rho(omega)
    q = omega * np.sqrt(rho / mu + 0j)
    qh = q * layer.thickness
    if abs(q) < 1e-12:  # sin(qh)/Z → h/μ as q → 0
        return np.array([[1.0, layer.thickness / mu], [0.0, 1.0]], dtype=complex)
    Z = mu * q
    c, s = np.cos(qh), np.sin(qh)
    return np.array([[c, s / Z], [-Z * s, c]])


def transfer_matrix(layers: Sequence[Layer], omega: complex) -> np.ndarray:
    """``M(Ω) = M_N ⋯ M_1`` over one period."""
    M = np.eye(2, dtype=complex)
    for layer in layers:
        M = _layer_matrix(layer, omega) @ M
    return M


def dispersion(layers: Sequence[Layer], omega: complex) -> complex:
    """``Δ(Ω) = tr M(Ω) / 2``; Bloch waves of wavenumber ``k`` satisfy ``Δ(Ω) = cos k``."""
    return 0.5 * np.trace(transfer_matrix(layers, omega))


def cauchy_derivative(f: Callable[[complex], complex], z0: complex, n: int = 32,
                      radius: float | None = None) -> complex:
    """``f'(z0)`` of a holomorphic ``f`` by the trapezoidal Cauchy integral (spectrally accurate)."""
    r = radius if radius is not None else 1e-3 * max(abs(z0), 1.0)
    theta = 2 * np.pi * np.arange(n) / n
    points = z0 + r * np.exp(1j * theta)
    values = np.array([f(p) for p in points])
    return complex(np.mean(values * np.exp(-1j * theta)) / r)


def bloch_root(layers: Sequence[Layer], k: float, guess: complex, *, tol: float = 1e-13,
               max_iter: int = 50) -> complex:
    """Solve ``Δ(Ω) = cos k`` for complex ``Ω`` by Newton's method from ``guess``.

    Raises
    ------
    SolverError
        If Newton does not converge (bad guess, or a guess next to an accumulation point).
    """
    target = np.cos(k)

    def g(w):
        return dispersion(layers, w) - target

    omega = complex(guess)
    for _ in range(max_iter):
        step = g(omega) / cauchy_derivative(g, omega)
        omega -= step
        if abs(step) < tol * max(abs(omega), 1.0):
            return omega
    raise SolverError(f"Newton on the 1D dispersion relation did not converge from Ω = {guess} at k = {k}")


def track_branch(layers: Sequence[Layer], ks: Sequence[float], guess: complex) -> np.ndarray:
    """Follow one branch ``Ω(k)`` along ``ks`` by continuation (predictor ``dΩ/dk = −sin k / Δ'(Ω)``)."""
    roots = []
    omega = bloch_root(layers, ks[0], guess)
    roots.append(omega)
    for k_prev, k in zip(ks[:-1], ks[1:]):
        slope = -np.sin(k_prev) / cauchy_derivative(lambda w: dispersion(layers, w), omega)
        omega = bloch_root(layers, k, omega + slope * (k - k_prev))
        roots.append(omega)
    return np.array(roots)


def count_roots(layers: Sequence[Layer], k: float, centre: complex, radius: float, n: int = 512) -> int:
    """Number of roots of ``Δ(Ω) − cos k`` inside a circle (argument principle; the circle must not
    enclose an accumulation point or pass through a root)."""
    theta = 2 * np.pi * np.arange(n) / n
    z = centre + radius * np.exp(1j * theta)
    g = np.array([dispersion(layers, w) - np.cos(k) for w in z])
    winding = np.sum(np.angle(np.roll(g, -1) / g)) / (2 * np.pi)
    return int(round(winding))


def bloch_impedance(layers: Sequence[Layer], omega: complex) -> tuple[complex, complex]:
    """``(e^{ik}, Y_B)`` of the right-going Bloch wave: ``M (1, Y_B) = e^{ik} (1, Y_B)``, decaying
    (``|e^{ik}| < 1``) or, when propagating, carrying positive flux (``Im Y_B > 0``)."""
    M = transfer_matrix(layers, omega)
    eigenvalues = np.linalg.eigvals(M)
    Y = (eigenvalues - M[0, 0]) / M[0, 1]
    if np.isclose(abs(eigenvalues[0]), abs(eigenvalues[1]), rtol=1e-10):
        pick = int(np.argmax(Y.imag))
    else:
        pick = int(np.argmin(abs(eigenvalues)))
    return eigenvalues[pick], Y[pick]


@dataclass(frozen=True)
class Scattering:
    """Reflection and transmission amplitudes and the energy transmission ``T_E``."""

    R: complex
    t: complex
    T_E: float


def single_boundary(layers: Sequence[Layer], omega: float, mu_h: float, rho_h: float) -> Scattering:
    """Homogeneous half-space ``(μ_h, ρ_h)`` on ``x < 0``, the crystal on ``x > 0`` (first layer at the
    interface), incident ``e^{i q_h x}``: ``R = (iZ_h − Y_B)/(iZ_h + Y_B)``, ``t = 1 + R``,
    ``T_E = |t|² Im Y_B / Z_h``."""
    require(omega > 0 and mu_h > 0 and rho_h > 0, "single_boundary needs real Ω > 0 and a lossless half-space")
    Z_h = mu_h * omega * np.sqrt(rho_h / mu_h)
    _, Y = bloch_impedance(layers, omega)
    R = (1j * Z_h - Y) / (1j * Z_h + Y)
    t = 1 + R
    return Scattering(R=R, t=t, T_E=float(abs(t) ** 2 * Y.imag / Z_h))


def slab(layers: Sequence[Layer], cells: int, omega: float, entry: tuple[float, float],
         exit: tuple[float, float] | None = None) -> Scattering:
    """A slab of ``cells`` periods between homogeneous media ``entry = (μ_h, ρ_h)`` and ``exit``
    (default: the same), incident from the entry side (theory.md §7, double boundary)."""
    require(cells >= 1, f"the slab needs at least one cell, got {cells}")
    exit = exit or entry
    Z_h = entry[0] * omega * np.sqrt(entry[1] / entry[0])
    Z_x = exit[0] * omega * np.sqrt(exit[1] / exit[0])
    m = np.linalg.matrix_power(transfer_matrix(layers, omega), cells)
    D = 1j * Z_x * m[0, 0] + Z_h * Z_x * m[0, 1] - m[1, 0] + 1j * Z_h * m[1, 1]
    t = 2j * Z_h / D
    R = (m[1, 0] + 1j * Z_h * m[1, 1] - 1j * Z_x * m[0, 0] + Z_h * Z_x * m[0, 1]) / D
    return Scattering(R=R, t=t, T_E=float(Z_x / Z_h * abs(t) ** 2))

