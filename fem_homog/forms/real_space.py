"""UFL forms of the time-domain discretizations of theory.md §10.7: the real-space multiband models (mass and
stiffness from their Lagrangians, fourth-order terms by C0 interior penalty) and the fine-scale layered media
they are compared with.

All coefficients are real, so with real basis functions the (conjugating) ``inner`` gives the plain bilinear
forms.
"""

from __future__ import annotations

from typing import Mapping

from fem_homog.forms.interior_penalty import hessian_form_1d, hessian_form_2d

import ufl

Expr = ufl.core.expr.Expr


def mass(V: ufl.FunctionSpace, rho: Expr) -> ufl.Form:
    """``∫ ρ u v``."""
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    return ufl.inner(rho * u, v) * ufl.dx


def stiffness(V: ufl.FunctionSpace, E: Expr) -> ufl.Form:
    """``∫ E ∇u·∇v``."""
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    return ufl.inner(E * ufl.grad(u), ufl.grad(v)) * ufl.dx


def bar_model(V: ufl.FunctionSpace, c: Mapping[str, Expr], inside: Expr) -> tuple[ufl.Form, ufl.Form]:
    """``(M, K)`` of a single-band model of order ``N ≤ 2`` on a line (P2):

        M(w, v) = ∫ ρ_0 w v + ρ_1 w' v' + B_{ρ_2}(w, v),   K(u, v) = ∫ E_1 u' v' + B_{E_2}(u, v),

    ``B_a`` the C0-IP form of ``∫ a u'' v''`` on the facets ``inside`` the model region; ``c`` maps
    ``"rho0", "E1", "rho1", "E2", "rho2"`` to (cellwise) coefficients.
    """
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    M = (ufl.inner(c["rho0"] * u, v) * ufl.dx + ufl.inner(c["rho1"] * u.dx(0), v.dx(0)) * ufl.dx
         + hessian_form_1d(c["rho2"], inside, u, v))
    K = ufl.inner(c["E1"] * u.dx(0), v.dx(0)) * ufl.dx + hessian_form_1d(c["E2"], inside, u, v)
    return M, K


def strip_model(V: ufl.FunctionSpace, c: Mapping[tuple[int, int], Expr], inside: Expr, walls: ufl.Measure,
                hx: Expr, hy: Expr) -> ufl.Form:
    """``Σ_{a+b≤1} ∫ c_ab ∂^{ab}u ∂^{ab}v + B_W(u, v)`` on a quadrilateral grid of a strip (Q2), with
    ``W = [[c_20, c_11/2], [c_11/2, c_02]]`` and ``B_W`` the C0-IP form of
    :func:`~fem_homog.forms.interior_penalty.hessian_form_2d` (``walls``, ``hx``, ``hy`` as there). ``c`` maps
    the derivative orders ``(a, b)`` (``x`` normal to the interface) to (cellwise) coefficients; the stiffness
    and the mass of a 2D model are both of this form.
    """
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    form = ufl.inner(c[0, 0] * u, v) * ufl.dx
    for axis, key in enumerate(((1, 0), (0, 1))):
        form += ufl.inner(c[key] * u.dx(axis), v.dx(axis)) * ufl.dx
    W = ufl.as_matrix([[c[2, 0], c[1, 1] / 2], [c[1, 1] / 2, c[0, 2]]])
    return form + hessian_form_2d(W, inside, walls, hx, hy, u, v)
