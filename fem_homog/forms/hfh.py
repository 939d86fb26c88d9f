"""UFL forms of high-frequency homogenization (theory.md §8), per phase with unit coefficient.

HFH works in the *unshifted* quasi-periodic space of the zone point (``u(y + n) = e^{ik0·n} u(y)``), where the
stiffness and mass are the plain ``∫ χ_s ∇p·∇q`` and ``∫ χ_s p q`` (:mod:`fem_homog.forms.bloch` with
``k = 0``). The one new form is the antisymmetric flux pairing that appears in the corrector right-hand side, in
``T`` and in the coupling matrices ``W^(j)``:

    e_j(u, v) = ∫ μ (u ∂_j v − v ∂_j u).
"""

from __future__ import annotations

import ufl


def flux_pairing(V: ufl.FunctionSpace, j: int, indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``E_s^j[a, b] = ∫ χ_s (φ_a ∂_j φ_b − φ_b ∂_j φ_a)`` (row ``a`` = test, column ``b`` = trial).

    With real basis functions, ``u^T E v = e_j(u, v)`` for coefficient vectors ``u, v`` (no conjugation) and
    ``u^H E u = 2i Im ∫ χ_s ū ∂_j u``.
    """
    p, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * (ufl.inner(p.dx(j), q) - ufl.inner(p, q.dx(j))) * ufl.dx
