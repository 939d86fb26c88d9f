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


def laminate_plane_strain(lmbda: Sequence[float], mu: Sequence[float], f: Sequence[float]) -> np.ndarray:
    """Exact plane-strain Voigt ``C_hom`` of isotropic layers normal to ``e_1`` (theory.md §2.4)."""
    L, M, f = (np.asarray(v, dtype=float) for v in (lmbda, mu, f))
    H = 1.0 / np.sum(f / (L + 2 * M))
    r = np.sum(f * L / (L + 2 * M))
    C = np.zeros((3, 3))
    C[0, 0] = H
    C[0, 1] = C[1, 0] = H * r
    C[1, 1] = np.sum(f * 4 * M * (L + M) / (L + 2 * M)) + H * r**2
    C[2, 2] = 1.0 / np.sum(f / M)
    return C


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
