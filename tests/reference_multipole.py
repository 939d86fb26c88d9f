"""Independent reference for the tests: Rayleigh's multipole method for periodic arrays of inclusions.

Effective conductivity of a matrix of conductivity 1 holding a square array of circular cylinders (Perrins,
McKenzie & McPhedran 1979) or a simple cubic array of spheres (McKenzie, McPhedran & Derrick 1978) of
conductivity ``sigma``, unit period. The potential near the inclusion at the origin is expanded in regular and
irregular multipoles; the boundary condition on the inclusion ties each irregular coefficient to its regular one,
and Rayleigh's identity writes the regular part as the applied field plus the irregular fields of all other
inclusions, re-expanded at the origin through lattice sums. Truncating at multipole order ``order`` gives a small
linear system; the dipole coefficient gives the effective conductivity.

The conditionally convergent dipole–dipole lattice sum is replaced by its Lorentz value (π in 2D, 4π/3 in 3D),
which makes the dipole-only truncation equal to Maxwell-Garnett (Clausius–Mossotti); everything else is
absolutely convergent. Nothing here uses the finite-element code.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb, factorial, lgamma, log, pi

import numpy as np
from scipy.special import lpmv, zeta

# ---------------------------------------------------------------- 2D: square array of cylinders


@lru_cache(maxsize=None)
def square_lattice_sum(n: int) -> float:
    """``S_n = Σ'_{p ∈ Z + iZ} p^{-n}`` for ``n ≥ 4``, ``n ≡ 0 (mod 4)`` (zero otherwise, by the fourfold symmetry).

    The Eisenstein series at τ = i: ``S_n = 2ζ(n) + 2 (2π)^n/(n-1)! Σ_k σ_{n-1}(k) e^{-2πk}``, summed in logs.
    """
    if n % 4 or n < 4:
        return 0.0
    series = 0.0
    for k in range(1, 120):  # the terms peak near k = n/2π and decay like e^{-2πk} after
        divisor_sum = sum((d / k) ** (n - 1) for d in range(1, k + 1) if k % d == 0)  # σ_{n-1}(k) / k^{n-1}
        series += divisor_sum * np.exp((n - 1) * log(2 * pi * k) - lgamma(n) - 2 * pi * k) * 2 * pi
    return float(2 * zeta(n) + 2 * series)


def square_array_cylinders(sigma: float, fraction: float, *, order: int = 41) -> float:
    """Effective conductivity of a square array of cylinders (conductivity ``sigma``, area fraction ``fraction``)
    in a unit matrix, from the odd multipoles ``1, 3, …, order``."""
    a = np.sqrt(fraction / pi)
    beta = (sigma - 1.0) / (sigma + 1.0)
    ls = np.arange(1, order + 1, 2)
    # unknowns b_l = B_l / a^l: the coefficient of r^{-l} cos(lθ) outside the cylinder
    M = np.diag(np.full(len(ls), -1.0 / beta))
    for i, l in enumerate(ls):
        for j, m in enumerate(ls):
            s = pi if l + m == 2 else square_lattice_sum(l + m)
            M[i, j] += comb(m + l - 1, l) * s * a ** (l + m)
    rhs = np.zeros(len(ls))
    rhs[0] = a  # unit applied gradient
    b = np.linalg.solve(M, rhs)
    return float(1.0 - 2 * pi * a * b[0])


# ---------------------------------------------------------------- 3D: simple cubic array of spheres


def _harmonic(n: int, m: int, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``Y_n^m = sqrt((n-|m|)!/(n+|m|)!) P_n^{|m|}(cos θ) e^{imφ}`` (no Condon–Shortley phase)."""
    am = abs(m)
    norm = np.sqrt(factorial(n - am) / factorial(n + am)) * (-1) ** am
    return norm * lpmv(am, n, np.cos(theta)) * np.exp(1j * m * phi)


def _spherical(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.linalg.norm(x, axis=-1)
    return r, np.arccos(np.clip(x[..., 2] / r, -1, 1)), np.arctan2(x[..., 1], x[..., 0])


def _a(n: int, m: int) -> float:
    return (-1) ** n / np.sqrt(float(factorial(n - m)) * float(factorial(n + m)))


def m2l(j: int, k: int, n: int, m: int, harmonic_over_rho: complex) -> complex:
    """Coefficient carrying the irregular multipole ``(n, m)`` at a centre ``c`` into the regular ``(j, k)`` at
    the origin, given ``Y_{j+n}^{m-k}(ĉ) / |c|^{j+n+1}`` (Greengard's multipole-to-local formula)."""
    phase = 1j ** (abs(k - m) - abs(k) - abs(m))
    return complex(phase * _a(n, m) * _a(j, k) * harmonic_over_rho / ((-1) ** n * _a(j + n, m - k)))


@lru_cache(maxsize=4)
def cubic_lattice_sums(max_degree: int, radius: int = 40) -> dict[tuple[int, int], complex]:
    """``S_N^M = Σ'_{p ∈ Z³, |p| ≤ radius} Y_N^M(p̂)/|p|^{N+1}`` for even ``4 ≤ N ≤ max_degree``, ``M ≡ 0 (mod 4)``.

    Absolutely convergent; summing over a ball leaves only the lattice's discreteness at the surface
    (the tests check the change from radius 30 to 40).
    """
    g = np.arange(-radius, radius + 1)
    p = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3).astype(float)
    r2 = (p**2).sum(axis=1)
    p = p[(r2 > 0) & (r2 <= radius**2)]
    r, theta, phi = _spherical(p)
    sums = {}
    for N in range(4, max_degree + 1, 2):
        for M in range(-N, N + 1):
            if M % 4 == 0:
                sums[N, M] = complex(np.sum(_harmonic(N, M, theta, phi) / r ** (N + 1)))
    return sums


def cubic_array_spheres(sigma: float, fraction: float, *, order: int = 15, radius: int = 40) -> float:
    """Effective conductivity of a simple cubic array of spheres (conductivity ``sigma``, volume fraction
    ``fraction``) in a unit matrix, from the odd multipoles of degree ≤ ``order`` (field along e₃: only
    orders ``m ≡ 0 (mod 4)`` are excited)."""
    a = (3 * fraction / (4 * pi)) ** (1 / 3)
    modes = [(n, m) for n in range(1, order + 1, 2) for m in range(-n, n + 1) if m % 4 == 0]
    sums = cubic_lattice_sums(2 * order, radius)
    M = np.zeros((len(modes), len(modes)), dtype=complex)
    # unknowns o_n^m = O_n^m / a^{n+1}: regular L_j^k = applied + Σ T O, and O = -β_n a^{2n+1} L
    for i, (j, k) in enumerate(modes):
        beta = j * (sigma - 1.0) / (j * sigma + j + 1.0)
        M[i, i] = -1.0 / beta
        for col, (n, m) in enumerate(modes):
            if (j, k, n, m) == (1, 0, 1, 0):
                coupling = -4 * pi / 3  # Lorentz field of the dipoles (Clausius–Mossotti)
            elif j + n < 4:
                coupling = 0.0  # the rest of the N = 2 sums vanish by cubic symmetry
            else:
                coupling = m2l(j, k, n, m, sums[j + n, m - k])
            M[i, col] -= coupling * a ** (j + n + 1)
    rhs = np.zeros(len(modes), dtype=complex)
    rhs[modes.index((1, 0))] = a  # unit applied gradient: potential z = r Y_1^0
    o = np.linalg.solve(M, rhs)
    dipole = o[modes.index((1, 0))] * a**2
    return float((1.0 - 4 * pi * dipole).real)


def maxwell_garnett(sigma: float, fraction: float, dim: int) -> float:
    """Maxwell-Garnett (Clausius–Mossotti) value, exact to first order in ``fraction``."""
    beta = (sigma - 1.0) / (sigma + dim - 1.0)
    return (1 + (dim - 1) * beta * fraction) / (1 - beta * fraction)
