"""UFL forms of the 3D vector Maxwell Bloch eigenproblem (theory.md §11).

``a(E, F) = ∫ μ⁻¹ ∇×E · conj(∇×F)`` and ``m(E, F) = ∫ ε E · conj(F)`` on H(curl) (Nédélec first kind), used on
the quasi-periodic space of ``k`` (``E(y + a_j) = e^{ik·a_j} E(y)``, imposed by the prolongation ``P_k``). This is
the same problem as the shifted form ``(∇ + ik)×u`` for the periodic part ``u = e^{−ik·y} E`` of §5, but only the
unshifted operator keeps every discrete gradient exactly in its kernel (theory.md §11.1): ``ik φ_h`` is not a
Nédélec field. As in :mod:`fem_homog.forms.bloch` the forms are *per phase with unit coefficient* (``χ_s`` the
phase indicator); the solver combines them with the phase values ``1/μ_r`` and ``ε``.

The gauge form ``C_s[E, q] = ∫ χ_s E · conj(∇q)`` (``q`` Lagrange) is the mass form tested with gradients: with
one quadrature rule for both (``quadrature_degree``), ``C_s = G^T M_s`` holds to round-off also on curved cells
(``∇q`` is the covariant Piola image of the reference gradient, pointwise), while keeping ``C_s`` as sparse as a
form between neighbouring dofs (``G^T M_s`` itself couples second neighbours: ~5 times the nonzeros).
"""

from __future__ import annotations

import ufl


def curl_stiffness(V: ufl.FunctionSpace, indicator: ufl.core.expr.Expr) -> ufl.Form:
    """``A_s[E, F] = ∫ χ_s ∇×E · conj(∇×F)``."""
    E, F = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * ufl.inner(ufl.curl(E), ufl.curl(F)) * ufl.dx


def vector_mass(V: ufl.FunctionSpace, indicator: ufl.core.expr.Expr, *, quadrature_degree: int) -> ufl.Form:
    """``M_s[E, F] = ∫ χ_s E · conj(F)``."""
    E, F = ufl.TrialFunction(V), ufl.TestFunction(V)
    return indicator * ufl.inner(E, F) * ufl.dx(metadata={"quadrature_degree": quadrature_degree})


def gauge_constraint(V: ufl.FunctionSpace, W: ufl.FunctionSpace, indicator: ufl.core.expr.Expr, *,
                     quadrature_degree: int) -> ufl.Form:
    """``C_s[E, q] = ∫ χ_s E · conj(∇q)``: trial ``E`` in H(curl) ``V``, test ``q`` in Lagrange ``W`` (rows: ``W``).
    ``Σ_s ε_s C_s E = 0`` says ``E`` is ε-orthogonal to every gradient."""
    E, q = ufl.TrialFunction(V), ufl.TestFunction(W)
    return indicator * ufl.inner(E, ufl.grad(q)) * ufl.dx(metadata={"quadrature_degree": quadrature_degree})
