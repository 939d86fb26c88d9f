"""UFL forms of the Bloch eigenproblem in shifted form (theory.md §5).

With ``u = e^{ik·y} p``, ``p`` periodic, the gradient becomes ``(∇ + ik) p`` and the problem at fixed ``k`` is
``a_k(p, q) = Ω² m(p, q)``. The slot coefficients (``μ``, ``ρ`` of theory.md §1) may depend on Ω, so the forms
here are *per phase with unit coefficient*: the solver combines ``K_s`` and ``M_s`` with the phase's
coefficient values or polynomials.
"""

from __future__ import annotations

import ufl


def shifted_gradient(p: ufl.core.expr.Expr, k: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """``(∇ + ik) p`` for a scalar ``p`` and a real wave vector ``k`` (a UFL vector)."""
    return ufl.grad(p) + 1j * k * p


def bloch_stiffness(V: ufl.FunctionSpace, k: ufl.core.expr.Expr, indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``K_s(k)[p, q] = ∫ χ_s (∇ + ik)p · conj((∇ + ik)q)``, ``χ_s`` the indicator of phase ``s``.

    Integrating an indicator over the whole cell (rather than over a sub-measure) gives every phase matrix the
    same sparsity pattern, so linear combinations of them are cheap.
    """
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * ufl.inner(shifted_gradient(p, k), shifted_gradient(q, k)) * ufl.dx


def bloch_mass(V: ufl.FunctionSpace, indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``M_s[p, q] = ∫ χ_s p conj(q)``."""
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * ufl.inner(p, q) * ufl.dx
