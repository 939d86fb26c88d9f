"""UFL forms of the static cell problems (theory.md §2.1–§2.3).

Conductivity (scalar): find ``χ^k`` periodic with ``∫ A(e_k + ∇χ^k)·∇v = 0`` for all periodic ``v``.
Elasticity: find ``w^J`` periodic with ``∫ C(E^J + ε(w^J)) : ε(v) = 0``, ``E^J`` the unit Voigt strain ``J``
(engineering shear), ``C`` isotropic per phase (Lamé ``λ``, ``μ``; plane strain in 2D).

``A`` may be a scalar or a rank-2 tensor expression. All forms use ``inner``, which conjugates its second
argument, so they are the sesquilinear forms a complex PETSc assembles.
"""

from __future__ import annotations

import ufl


def flux(A: ufl.core.expr.Expr, g: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """``A g`` for a scalar or tensor coefficient ``A``."""
    return ufl.dot(A, g) if ufl.shape(A) else A * g


def unit_vector(k: int, dim: int) -> ufl.core.expr.Expr:
    """The constant vector ``e_k`` of ``R^dim``."""
    return ufl.as_vector([1.0 if i == k else 0.0 for i in range(dim)])


def conductivity_bilinear(V: ufl.FunctionSpace, A: ufl.core.expr.Expr) -> ufl.Form:
    """``a(χ, v) = ∫ A ∇χ · conj(∇v)``."""
    chi, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    return ufl.inner(flux(A, ufl.grad(chi)), ufl.grad(v)) * ufl.dx


def conductivity_load(V: ufl.FunctionSpace, A: ufl.core.expr.Expr, k: int) -> ufl.Form:
    """``L_k(v) = -∫ A e_k · conj(∇v)``, the right-hand side of the ``k``-th corrector problem."""
    v = ufl.TestFunction(V)
    dim = ufl.shape(ufl.grad(v))[0]
    return -ufl.inner(flux(A, unit_vector(k, dim)), ufl.grad(v)) * ufl.dx


def _total_gradients(chis: list) -> list:
    dim = len(chis)
    return [unit_vector(j, dim) + ufl.grad(chi) for j, chi in enumerate(chis)]


def conductivity_flux_matrix(A: ufl.core.expr.Expr, chis: list) -> ufl.core.expr.Expr:
    """The integrand whose cell average is ``A_hom`` in the flux form: entry ``(i, j)`` is
    ``e_i · A (e_j + ∇χ^j)`` (theory.md §2.2, valid for non-symmetric ``A``)."""
    fluxes = [flux(A, g) for g in _total_gradients(chis)]
    return ufl.as_matrix([[fluxes[j][i] for j in range(len(chis))] for i in range(len(chis))])


def conductivity_energy_matrix(A: ufl.core.expr.Expr, chis: list) -> ufl.core.expr.Expr:
    """The integrand whose cell average is ``A_hom`` in the energy form: entry ``(i, j)`` is
    ``A (e_j + ∇χ^j) · (e_i + ∇χ^i)`` (theory.md §2.2, symmetric ``A``)."""
    grads = _total_gradients(chis)
    return ufl.as_matrix([[ufl.inner(flux(A, gj), gi) for gj in grads] for gi in grads])


# --- elasticity --------------------------------------------------------------------------------------------

def voigt_pairs(dim: int) -> list[tuple[int, int]]:
    """Voigt order: 2D ``(11, 22, 12)``, 3D ``(11, 22, 33, 23, 13, 12)`` (0-based index pairs)."""
    if dim == 2:
        return [(0, 0), (1, 1), (0, 1)]
    return [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def unit_voigt_strain(J: int, dim: int) -> ufl.core.expr.Expr:
    """The strain tensor of the unit Voigt strain ``e_J`` with engineering shear (``γ = 2 E_kl = 1``)."""
    k, l = voigt_pairs(dim)[J]
    E = [[0.0] * dim for _ in range(dim)]
    if k == l:
        E[k][k] = 1.0
    else:
        E[k][l] = E[l][k] = 0.5
    return ufl.as_matrix(E)


def strain(u: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """Small strain ``ε(u) = sym ∇u``."""
    return ufl.sym(ufl.grad(u))


def stress(eps: ufl.core.expr.Expr, lmbda: ufl.core.expr.Expr, mu: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """Isotropic Hooke's law ``σ = 2μ ε + λ tr(ε) I``."""
    dim = ufl.shape(eps)[0]
    return 2.0 * mu * eps + lmbda * ufl.tr(eps) * ufl.Identity(dim)


def elasticity_bilinear(V: ufl.FunctionSpace, lmbda, mu) -> ufl.Form:
    """``a(w, v) = ∫ σ(ε(w)) : conj(ε(v))``."""
    w, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    return ufl.inner(stress(strain(w), lmbda, mu), strain(v)) * ufl.dx


def elasticity_load(V: ufl.FunctionSpace, lmbda, mu, J: int) -> ufl.Form:
    """``L_J(v) = -∫ σ(E^J) : conj(ε(v))``, the right-hand side of load case ``J``."""
    v = ufl.TestFunction(V)
    dim = ufl.shape(v)[0]
    return -ufl.inner(stress(unit_voigt_strain(J, dim), lmbda, mu), strain(v)) * ufl.dx


def total_strain(w: ufl.core.expr.Expr, J: int) -> ufl.core.expr.Expr:
    """``E^J + ε(w^J)``."""
    return unit_voigt_strain(J, ufl.shape(w)[0]) + strain(w)


def elasticity_flux_matrix(lmbda, mu, ws: list) -> ufl.core.expr.Expr:
    """The integrand whose cell average is Voigt ``C_hom`` in the flux form: entry ``(I, J)`` is the Voigt
    component ``I`` of ``σ(E^J + ε(w^J))`` (theory.md §2.3)."""
    stresses = [stress(total_strain(w, J), lmbda, mu) for J, w in enumerate(ws)]
    pairs = voigt_pairs(ufl.shape(ws[0])[0])
    return ufl.as_matrix([[sig[k, l] for sig in stresses] for k, l in pairs])


def elasticity_energy_matrix(lmbda, mu, ws: list) -> ufl.core.expr.Expr:
    """The integrand whose cell average is ``C_hom`` in the energy form: entry ``(I, J)`` is
    ``σ(E^J + ε(w^J)) : (E^I + ε(w^I))``."""
    strains = [total_strain(w, J) for J, w in enumerate(ws)]
    return ufl.as_matrix([[ufl.inner(stress(eJ, lmbda, mu), eI) for eJ in strains] for eI in strains])
