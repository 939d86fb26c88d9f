"""UFL forms of the Bloch problem as a quadratic eigenproblem in the wavenumber (theory.md §5.3).

With ``u = e^{i(k ê + k⊥)·y} p``, ``p`` periodic, ``ê`` a real direction and ``k⊥`` a real transverse Bloch vector,
the weak form that is *holomorphic in k* (the test side is ``conj(∇q) − i(k ê + k⊥) conj(q)``, not the conjugate of
the shifted gradient, which would conjugate ``k``) splits as

    a(p, q) = K0[p, q] + k K1[p, q] + k² K2[p, q],

per phase with unit coefficient (indicator ``χ_s``), ``G = ∇ + ik⊥``:

* ``K0_s = ∫ χ_s Gp · conj(Gq)`` (the shifted stiffness at ``k⊥``, :func:`fem_homog.forms.bloch.bloch_stiffness`),
* ``K1_s = i ∫ χ_s (p ê · conj(Gq) − (ê · Gp) conj(q))`` (Hermitian),
* ``K2_s = (ê·ê) ∫ χ_s p conj(q)``.
"""

from __future__ import annotations

from fem_homog.forms.bloch import shifted_gradient

import ufl
from ufl.domain import extract_unique_domain


def k_linear(V: ufl.FunctionSpace, direction: ufl.core.expr.Expr, k_transverse: ufl.core.expr.Expr,
             indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``K1_s[p, q] = i ∫ χ_s (p ê·conj((∇ + ik⊥)q) − ê·(∇ + ik⊥)p conj(q))``."""
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    Gp, Gq = shifted_gradient(p, k_transverse), shifted_gradient(q, k_transverse)
    return indicator * (1j * ufl.inner(p * direction, Gq) - 1j * ufl.inner(ufl.dot(direction, Gp), q)) * ufl.dx


def k_quadratic(V: ufl.FunctionSpace, direction: ufl.core.expr.Expr, indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``K2_s[p, q] = (ê·ê) ∫ χ_s p conj(q)``."""
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * ufl.dot(direction, direction) * ufl.inner(p, q) * ufl.dx


def energy_flux(p: ufl.Coefficient, direction: ufl.core.expr.Expr, k: ufl.core.expr.Expr,
                decay: ufl.core.expr.Expr, mu: ufl.core.expr.Expr) -> ufl.Form:
    """``∫ μ w (ê·∇p + ik p) conj(p)`` with ``w = e^{−2 decay ê·y}`` (``decay = Im k``): its imaginary part is
    the cell integral of the time-averaged energy flux ``Im(conj(u) μ ê·∇u)`` of ``u = e^{i(kê + k⊥)·y} p``
    (``ê·k⊥ = 0``; theory.md §5.3)."""
    w = ufl.exp(-2 * decay * ufl.dot(direction, ufl.SpatialCoordinate(extract_unique_domain(p))))
    return mu * w * ufl.inner(ufl.dot(direction, ufl.grad(p)) + 1j * k * p, p) * ufl.dx


def weighted_norm(p: ufl.Coefficient, direction: ufl.core.expr.Expr, decay: ufl.core.expr.Expr,
                  weight: ufl.core.expr.Expr) -> ufl.Form:
    """``∫ weight e^{−2 decay ê·y} |p|²``: the same cell integral of ``weight |u|²``."""
    w = ufl.exp(-2 * decay * ufl.dot(direction, ufl.SpatialCoordinate(extract_unique_domain(p))))
    return weight * w * ufl.inner(p, p) * ufl.dx


def phase_mass(V: ufl.FunctionSpace, direction: ufl.core.expr.Expr, shift: float) -> ufl.Form:
    """``∫ e^{i shift ê·y} p conj(q)``: the Gram matrix between periodic parts of the same Bloch wave written with
    ``k`` and ``k − shift`` (``shift`` a period ``b`` of ``k`` along ``ê``)."""
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    y = ufl.SpatialCoordinate(V.mesh)
    return ufl.exp(1j * shift * ufl.dot(direction, y)) * ufl.inner(p, q) * ufl.dx
