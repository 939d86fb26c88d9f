"""Bounds on effective tensors (theory.md §2.4): Voigt/Reuss, Hashin–Shtrikman, and the closed forms.

Orderings are in the sense of quadratic forms (Loewner order): ``L ⪯ X ⪯ U`` when ``X - L`` and ``U - X`` are
positive semi-definite. The laminate formulas are exact and serve as reference values in the tests.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def as_matrix(value: float | np.ndarray, dim: int) -> np.ndarray:
    """A phase value as a ``dim × dim`` matrix (a scalar ``a`` becomes ``a I``)."""
    value = np.asarray(value, dtype=float)
    return value * np.eye(dim) if value.ndim == 0 else value


def voigt_reuss(phases: Sequence[np.ndarray], fractions: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Arithmetic ``⟨A⟩`` and harmonic ``⟨A^{-1}⟩^{-1}`` means: ``Reuss ⪯ A_hom ⪯ Voigt``.

    Returns
    -------
    (voigt, reuss)
    """
    voigt = sum(f * A for A, f in zip(phases, fractions))
    reuss = np.linalg.inv(sum(f * np.linalg.inv(A) for A, f in zip(phases, fractions)))
    return voigt, reuss


def hashin_shtrikman(a: Sequence[float], f: Sequence[float], dim: int) -> tuple[float, float]:
    """HS bounds for two isotropic phases ``a`` with fractions ``f`` in dimension ``dim`` (theory.md §2.4).

    Valid for isotropic effective tensors ``a* I`` (e.g. cells with square or cubic symmetry).
    """
    (a1, f1), (a2, f2) = sorted(zip(a, f))
    if a1 == a2:
        return a1, a1
    lower = a1 + f2 / (1.0 / (a2 - a1) + f1 / (dim * a1))
    upper = a2 + f1 / (1.0 / (a1 - a2) + f2 / (dim * a2))
    return lower, upper


def loewner_between(lower: np.ndarray, X: np.ndarray, upper: np.ndarray, rtol: float = 1e-8) -> bool:
    """Whether ``lower ⪯ sym(X) ⪯ upper`` up to ``rtol`` times the size of ``X``."""
    S = 0.5 * (X + X.T)
    tol = rtol * np.abs(S).max()
    return bool(np.linalg.eigvalsh(S - lower).min() >= -tol and np.linalg.eigvalsh(upper - S).min() >= -tol)


def isotropic_stiffness(lmbda: float, mu: float, dim: int) -> np.ndarray:
    """Voigt stiffness (engineering shear) of an isotropic phase; 2D is plane strain, order (11, 22, 12)."""
    n = 3 if dim == 2 else 6
    C = np.zeros((n, n))
    C[:dim, :dim] = lmbda
    C[np.arange(dim), np.arange(dim)] = lmbda + 2 * mu
    C[np.arange(dim, n), np.arange(dim, n)] = mu
    return C


def laminate_conductivity(a: Sequence[float], f: Sequence[float], axis: int, dim: int) -> np.ndarray:
    """Exact ``A_hom`` of a laminate of isotropic layers normal to ``axis``: harmonic mean across, arithmetic along."""
    a, f = np.asarray(a, dtype=float), np.asarray(f, dtype=float)
    A = np.eye(dim) * np.sum(f * a)
    A[axis, axis] = 1.0 / np.sum(f / a)
    return A


def laminate_stiffness_3d(lmbda: Sequence[float], mu: Sequence[float], f: Sequence[float]) -> np.ndarray:
    """Exact Voigt ``C_hom`` (order 11, 22, 33, 23, 13, 12) of isotropic layers normal to ``e_3`` (theory.md §2.4).

    The in-plane strains and the tractions ``σ_33, σ_13, σ_23`` are continuous across the layers. With
    ``H = ⟨(λ+2μ)^{-1}⟩^{-1}`` and ``r = ⟨λ/(λ+2μ)⟩``: ``C_33 = H``, ``C_13 = C_23 = H r``,
    ``C_11 = C_22 = ⟨4μ(λ+μ)/(λ+2μ)⟩ + H r²``, ``C_12 = ⟨2λμ/(λ+2μ)⟩ + H r²``, ``C_44 = C_55 = ⟨μ^{-1}⟩^{-1}``,
    ``C_66 = ⟨μ⟩``.
    """
    L, M, f = (np.asarray(v, dtype=float) for v in (lmbda, mu, f))
    H = 1.0 / np.sum(f / (L + 2 * M))
    r = np.sum(f * L / (L + 2 * M))
    C = np.zeros((6, 6))
    C[0, 0] = C[1, 1] = np.sum(f * 4 * M * (L + M) / (L + 2 * M)) + H * r**2
    C[0, 1] = C[1, 0] = np.sum(f * 2 * L * M / (L + 2 * M)) + H * r**2
    C[2, 2] = H
    C[0, 2] = C[2, 0] = C[1, 2] = C[2, 1] = H * r
    C[3, 3] = C[4, 4] = 1.0 / np.sum(f / M)
    C[5, 5] = np.sum(f * M)
    return C


def laminate_plane_strain(lmbda: Sequence[float], mu: Sequence[float], f: Sequence[float]) -> np.ndarray:
    """Exact plane-strain Voigt ``C_hom`` of isotropic layers normal to ``e_1`` (theory.md §2.4): the (33, 11, 13)
    block of :func:`laminate_stiffness_3d`, renaming the layer normal ``e_3`` to ``e_1``."""
    return laminate_stiffness_3d(lmbda, mu, f)[np.ix_([2, 0, 4], [2, 0, 4])]


def bulk_shear(lmbda: float, mu: float) -> tuple[float, float]:
    """3D bulk and shear moduli ``(κ, μ)`` of an isotropic phase with Lamé constants ``(λ, μ)``."""
    return lmbda + 2.0 * mu / 3.0, mu


def hashin_shtrikman_elastic(bulk: Sequence[float], shear: Sequence[float],
                             f: Sequence[float]) -> tuple[tuple[float, float], tuple[float, float]]:
    """3D HS bounds ``((κ_L, κ_U), (μ_L, μ_U))`` for two well-ordered isotropic phases (theory.md §2.4).

    In the form ``1/(X_HS + ζ) = ⟨1/(X + ζ)⟩``: for the bulk modulus ``ζ = 4μ/3``, for the shear modulus
    ``ζ = μ(9κ + 8μ)/(6(κ + 2μ))``, with ``(κ, μ)`` of the softer phase for the lower bound and of the stiffer
    phase for the upper one.
    """
    k, m, f = (np.asarray(v, dtype=float) for v in (bulk, shear, f))
    soft, stiff = np.argmin(m), np.argmax(m)
    if k[stiff] < k[soft]:
        raise ValueError("Hashin-Shtrikman elastic bounds need well-ordered phases (stiffer in both moduli)")

    def hs(values: np.ndarray, zeta: float) -> float:
        return float(1.0 / np.sum(f / (values + zeta)) - zeta)

    def zeta_shear(i: int) -> float:
        return m[i] * (9 * k[i] + 8 * m[i]) / (6 * (k[i] + 2 * m[i]))

    return ((hs(k, 4 * m[soft] / 3), hs(k, 4 * m[stiff] / 3)),
            (hs(m, zeta_shear(soft)), hs(m, zeta_shear(stiff))))


def hill_bulk(bulk: Sequence[float], shear: float, f: Sequence[float]) -> float:
    """Hill's exact effective bulk modulus of phases sharing the shear modulus ``shear``, any geometry:
    ``κ* = ⟨(κ + 4μ/3)^{-1}⟩^{-1} − 4μ/3`` (theory.md §2.4)."""
    k, f = np.asarray(bulk, dtype=float), np.asarray(f, dtype=float)
    return float(1.0 / np.sum(f / (k + 4 * shear / 3)) - 4 * shear / 3)


def cubic_moduli(C: np.ndarray) -> tuple[float, float, float]:
    """Bulk and the two shear moduli ``(κ, (C11 − C12)/2, C44)`` of a 3D Voigt stiffness, averaged over the axes
    (exact for cubic symmetry)."""
    c11, c12, c44 = np.mean(np.diag(C)[:3]), np.mean([C[0, 1], C[0, 2], C[1, 2]]), np.mean(np.diag(C)[3:])
    return float((c11 + 2 * c12) / 3), float((c11 - c12) / 2), float(c44)


def conductivity_report(phases: Sequence[float | np.ndarray], fractions: Sequence[float],
                        A_hom: np.ndarray) -> dict:
    """Voigt/Reuss (always) and Hashin–Shtrikman (isotropic scalar phases and isotropic ``A_hom``) checks."""
    dim = A_hom.shape[0]
    voigt, reuss = voigt_reuss([as_matrix(a, dim) for a in phases], fractions)
    report = {"voigt": voigt, "reuss": reuss, "inside_voigt_reuss": loewner_between(reuss, A_hom, voigt)}
    eig = np.linalg.eigvalsh(0.5 * (A_hom + A_hom.T))
    isotropic = bool(np.ptp(eig) <= 1e-4 * eig.max())
    if all(np.ndim(a) == 0 for a in phases) and isotropic:
        lo, hi = hashin_shtrikman(phases, fractions, dim)
        slack = 1e-8 * hi
        report["hashin_shtrikman"] = [lo, hi]
        report["inside_hashin_shtrikman"] = bool(lo - slack <= eig.min() and eig.max() <= hi + slack)
    else:
        report["hashin_shtrikman"] = "not applicable (anisotropic phases or anisotropic A_hom)"
    return report


def elasticity_report(lame_pairs: Sequence[tuple[float, float]], fractions: Sequence[float],
                      C_hom: np.ndarray) -> dict:
    """Voigt/Reuss checks of ``C_hom`` plus symmetry and positive definiteness."""
    dim = 2 if C_hom.shape[0] == 3 else 3
    voigt, reuss = voigt_reuss([isotropic_stiffness(lam, mu, dim) for lam, mu in lame_pairs], fractions)
    return {"voigt": voigt, "reuss": reuss, "inside_voigt_reuss": loewner_between(reuss, C_hom, voigt),
            "symmetric": bool(np.allclose(C_hom, C_hom.T, rtol=0, atol=1e-8 * np.abs(C_hom).max())),
            "positive_definite": bool(np.linalg.eigvalsh(0.5 * (C_hom + C_hom.T)).min() > 0)}
