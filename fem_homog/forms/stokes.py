"""UFL forms of the periodic Stokes cell problems of Stokes→Darcy homogenization (theory.md §4).

For each direction ``k`` find ``(w^k, π^k)`` periodic on the fluid part ``Y_f``, ``w^k = 0`` on the solid
boundary, with

    ∫ ∇w^k : ∇v − ∫ π^k ∇·v − ∫ q ∇·w^k = ∫ e_k · v        for all (v, q).

The blocks are ``a(w, v) = ∫ ∇w : conj(∇v)`` and ``b(w, q) = −∫ ∇·w conj(q)`` (the other off-diagonal
block is its adjoint, formed by transposing the assembled matrix); the pressure mass matrix ``∫ p conj(q)`` is
spectrally equivalent to the Schur complement (unit viscosity) and serves as its preconditioner. The forms
take the measure of the fluid (``dx`` restricted to the fluid cells of a two-phase mesh). All use ``inner``,
which conjugates the test function.
"""

from __future__ import annotations

from fem_homog.forms.cell_problems import unit_vector

import ufl


def viscous(V: ufl.FunctionSpace, dx: ufl.Measure) -> ufl.Form:
    """``a(w, v) = ∫ ∇w : conj(∇v)`` (unit viscosity)."""
    w, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    return ufl.inner(ufl.grad(w), ufl.grad(v)) * dx


def divergence(V: ufl.FunctionSpace, Q: ufl.FunctionSpace, dx: ufl.Measure) -> ufl.Form:
    """``b(w, q) = −∫ ∇·w conj(q)``: pressure-test rows, velocity-trial columns."""
    w, q = ufl.TrialFunction(V), ufl.TestFunction(Q)
    return -ufl.inner(ufl.div(w), q) * dx


def pressure_mass(Q: ufl.FunctionSpace, dx: ufl.Measure) -> ufl.Form:
    """``m(p, q) = ∫ p conj(q)``, the Schur-complement preconditioner."""
    p, q = ufl.TrialFunction(Q), ufl.TestFunction(Q)
    return ufl.inner(p, q) * dx


def forcing(V: ufl.FunctionSpace, k: int, dx: ufl.Measure) -> ufl.Form:
    """``L_k(v) = ∫ e_k · conj(v)``, the unit body force of the ``k``-th cell problem."""
    v = ufl.TestFunction(V)
    return ufl.inner(unit_vector(k, ufl.shape(v)[0]), v) * dx


def mean_velocity_matrix(ws: list) -> ufl.core.expr.Expr:
    """Integrand whose cell average is ``K`` in the mean-velocity form: entry ``(i, j)`` is ``w^j_i``."""
    return ufl.as_matrix([[w[i] for w in ws] for i in range(len(ws))])


def dissipation_matrix(ws: list) -> ufl.core.expr.Expr:
    """Integrand whose cell average is ``K`` in the dissipation form: entry ``(i, j)`` is
    ``∇w^j : conj(∇w^i)``."""
    return ufl.as_matrix([[ufl.inner(ufl.grad(wj), ufl.grad(wi)) for wj in ws] for wi in ws])
