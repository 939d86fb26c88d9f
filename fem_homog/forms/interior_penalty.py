"""C0 interior-penalty forms of fourth-order terms on continuous Lagrange elements (theory.md §10.7).

A term ``∫ a u'' v''`` (1D) or ``∫ Σ_ij W_ij ∂_ij u ∂_ij v`` (2D) would need C1 elements in a conforming method.
The C0 interior-penalty method (Engel et al. 2002) keeps P2/Q2: the broken (cellwise) form, minus the consistency
terms ``{a u''}[[v']] + {a v''}[[u']]``, plus the penalty ``α a/h [[u']][[v']]`` on the facets between cells. The
facet terms are switched on only where both neighbours lie ``inside`` (a cellwise 0/1 indicator): a facet between
the fourth-order region and a second-order one carries none, which imposes the natural mixed-order interface
conditions of theory.md §10.2.
"""

from __future__ import annotations

import ufl

PENALTY = 10.0
"""α of the facet penalty (P2/Q2); coercive for α ≳ 4 in 1D."""


def hessian_form_1d(a: ufl.core.expr.Expr, inside: ufl.core.expr.Expr, u: ufl.Argument, v: ufl.Argument,
                    *, penalty: float = PENALTY) -> ufl.Form:
    """C0-IP form of ``∫ a u'' v''`` with facet terms only where both neighbours are ``inside``."""
    mesh = u.ufl_function_space().ufl_domain()
    n, h = ufl.FacetNormal(mesh), ufl.CellDiameter(mesh)
    d2u, d2v = ufl.div(ufl.grad(u)), ufl.div(ufl.grad(v))
    ju, jv = ufl.jump(ufl.grad(u), n), ufl.jump(ufl.grad(v), n)
    both = inside("+") * inside("-")
    return (ufl.inner(a * d2u, d2v) * ufl.dx
            - both * (ufl.inner(ufl.avg(a * d2u), jv) + ufl.inner(ju, ufl.avg(a * d2v))) * ufl.dS
            + both * penalty / ufl.avg(h) * ufl.avg(a) * ufl.inner(ju, jv) * ufl.dS)


def hessian_form_2d(W: ufl.core.expr.Expr, inside: ufl.core.expr.Expr, walls: ufl.Measure,
                    hx: ufl.core.expr.Expr, hy: ufl.core.expr.Expr, u: ufl.Argument, v: ufl.Argument,
                    *, penalty: float = PENALTY) -> ufl.Form:
    """C0-IP form of ``∫ Σ_ij W_ij ∂_ij u ∂_ij v`` (``W_ij ≥ 0``) on an axis-aligned quadrilateral grid.

    Facet terms act where both neighbours are ``inside``; on the ``walls`` (``ds`` over ``y = const``) the same
    (Nitsche) terms with ``[[∂_n u]] → ∂_n u`` impose the mirror condition ``∂_n u = 0`` (with the natural
    third-order condition, it makes ``cos(k_2 y)`` a transverse mode of a strip). ``hx``, ``hy``: cellwise
    widths along ``x`` and ``y``; the penalty is ``α W_nn / h_n`` with ``h_n`` the width normal to the facet,
    the weight the consistency term ``(W∘∇²u)_nn = W_nn ∂_nn u`` needs on axis-aligned facets (and the 1D
    ``a`` of :func:`hessian_form_1d` for fields uniform in ``y``).
    """
    n = ufl.FacetNormal(u.ufl_function_space().ufl_domain())
    WHu, WHv = ufl.elem_mult(W, ufl.grad(ufl.grad(u))), ufl.elem_mult(W, ufl.grad(ufl.grad(v)))

    def facet_terms(ju, jv, WHu_nn, WHv_nn, W_nn, h):
        return -ufl.inner(WHu_nn, jv) - ufl.inner(ju, WHv_nn) + penalty / h * W_nn * ufl.inner(ju, jv)

    h_normal = ufl.avg(hx) * n("+")[0] ** 2 + ufl.avg(hy) * n("+")[1] ** 2
    interior = facet_terms(ufl.jump(ufl.grad(u), n), ufl.jump(ufl.grad(v), n),
                           ufl.avg(ufl.dot(ufl.dot(WHu, n), n)), ufl.avg(ufl.dot(ufl.dot(WHv, n), n)),
                           ufl.avg(ufl.dot(ufl.dot(W, n), n)), h_normal)
    wall = facet_terms(ufl.dot(ufl.grad(u), n), ufl.dot(ufl.grad(v), n), ufl.dot(ufl.dot(WHu, n), n),
                       ufl.dot(ufl.dot(WHv, n), n), ufl.dot(ufl.dot(W, n), n), hy)
    return (ufl.inner(WHu, ufl.grad(ufl.grad(v))) * ufl.dx + inside("+") * inside("-") * interior * ufl.dS
            + wall * walls)
