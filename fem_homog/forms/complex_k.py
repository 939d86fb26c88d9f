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
