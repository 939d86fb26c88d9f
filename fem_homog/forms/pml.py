"""UFL forms of the scalar wave equation with perfectly matched layers (theory.md §9).

The model is ``−∇·(μ∇u) − Ω²ρ u = f`` (theory.md §1; ``μ`` a scalar or, for the HFH envelope, a ``d × d``
tensor) in 1D or 2D. Complex coordinate stretching ``∂_{x̃_j} = s_j^{-1} ∂_j`` (time convention ``e^{-iωt}``)
with ``S = diag(s_j)`` and ``J = det S`` turns it into

    ∫ J S⁻¹ μ S⁻¹ ∇u · conj(∇v) − Ω² ∫ ρ J u conj(v) = ∫ f conj(v),

which for scalar ``μ`` is the ``Λ = diag(s_y/s_x, s_x/s_y)`` form of theory.md §9. Only the test function is
conjugated. ``s_j = 1 + i sign_j σ_j/Ω`` with the graded profile ``σ_j/Ω = strength_j (depth_j/width)²``,
``depth_j`` the distance from the physical box along axis ``j`` (zero inside it). ``sign_j = +1`` for ordinary
waves; the HFH envelope uses ``sign(Re T_jj)`` so that backward envelopes are absorbed, not amplified.
"""

from __future__ import annotations

import math
from typing import Sequence

import ufl

Expr = ufl.core.expr.Expr


def pml_strength(wavenumber: float, width: float, reflection: float) -> float:
    """``σ₀/Ω = 3 ln(1/R) / (2 k d)``: the strength whose quadratic profile reflects ``R`` at normal incidence.

    The one-way attenuation of ``e^{ikx̃}`` through the layer is ``exp(−k σ₀ d / 3Ω)`` (theory.md §9,
    ``R ≈ exp(−⅔ σ₀ d n_b)`` with ``k = Ω n_b``).
    """
    return 3.0 * math.log(1.0 / reflection) / (2.0 * wavenumber * width)


def stretch(x: Expr, lower: Sequence[float], upper: Sequence[float], width: float,
            strength: Sequence[float], sign: Sequence[float] | None = None) -> list[Expr]:
    """Stretch factors ``s_j = 1 + i sign_j strength_j (depth_j/width)²`` (one per axis).

    Parameters
    ----------
    x
        The spatial coordinate (``ufl.SpatialCoordinate``).
    lower, upper
        Corners of the physical box; outside it along axis ``j`` lies the layer of that axis.
    width
        Thickness of the layers.
    strength
        ``σ₀/Ω`` per axis (see :func:`pml_strength`).
    sign
        ``±1`` per axis (default ``+1``).
    """
    sign = sign if sign is not None else [1.0] * len(lower)
    factors = []
    for j, (lo, hi) in enumerate(zip(lower, upper)):
        depth = ufl.max_value(lo - x[j], 0.0) + ufl.max_value(x[j] - hi, 0.0)
        factors.append(1.0 + 1j * sign[j] * strength[j] * (depth / width) ** 2)
    return factors


def stretched_flux(mu: Expr, grad_u: Expr, s: Sequence[Expr]) -> Expr:
    """``J S⁻¹ μ S⁻¹ ∇u`` for a scalar or tensor ``μ``."""
    mu = ufl.as_ufl(mu)
    jacobian = _product(s)
    scaled = ufl.as_vector([grad_u[j] / s[j] for j in range(len(s))])
    flux = ufl.dot(mu, scaled) if len(ufl.shape(mu)) == 2 else mu * scaled
    return jacobian * ufl.as_vector([flux[j] / s[j] for j in range(len(s))])


def helmholtz(V: ufl.FunctionSpace, mu: Expr, rho: Expr, omega2: Expr | complex, s: Sequence[Expr],
              quadrature_degree: int | None = None) -> ufl.Form:
    """Bilinear form ``∫ J S⁻¹μS⁻¹∇u·conj(∇v) − Ω² ∫ ρ J u conj(v)`` (theory.md §9).

    UFL's degree estimate for the rational stretch factors is very high (20 for P2 on a curved mesh); pass a
    ``quadrature_degree`` (e.g. ``2p + 2``) to keep the assembly cheap.
    """
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.dx(metadata={} if quadrature_degree is None else {"quadrature_degree": quadrature_degree})
    return (ufl.inner(stretched_flux(mu, ufl.grad(u), s), ufl.grad(v))
            - omega2 * rho * _product(s) * ufl.inner(u, v)) * dx


def gaussian(x: Expr, centre: Sequence[float], width: float) -> Expr:
    """Normalised Gaussian ``exp(−|x−x_s|²/2w²) / (2πw²)^{d/2}`` (a smoothed line source, ∫ = 1)."""
    d = len(centre)
    r2 = sum((x[j] - centre[j]) ** 2 for j in range(d))
    return ufl.exp(-r2 / (2.0 * width**2)) / (2.0 * math.pi * width**2) ** (d / 2)


def load(V: ufl.FunctionSpace, f: Expr) -> ufl.Form:
    """Linear form ``∫ f conj(v)``."""
    return ufl.inner(f, ufl.TestFunction(V)) * ufl.dx


def scattering_load(V: ufl.FunctionSpace, mu_contrast: Expr, rho_contrast: Expr, omega2: Expr | complex,
                    incident: Expr) -> ufl.Form:
    """Load of the scattered field ``u_s = u − u_inc`` for an incident wave of the background ``(μ_b, ρ_b)``:
    ``−∫ (μ − μ_b) ∇u_inc · conj(∇v) + Ω² ∫ (ρ − ρ_b) u_inc conj(v)`` (the weak form of
    ``∇·((μ − μ_b)∇u_inc) + Ω²(ρ − ρ_b) u_inc``; the contrasts vanish outside the scatterers)."""
    v = ufl.TestFunction(V)
    return (-ufl.inner(mu_contrast * ufl.grad(incident), ufl.grad(v))
            + omega2 * rho_contrast * ufl.inner(incident, v)) * ufl.dx


def _product(factors: Sequence[Expr]) -> Expr:
    result = factors[0]
    for f in factors[1:]:
        result = result * f
    return result
