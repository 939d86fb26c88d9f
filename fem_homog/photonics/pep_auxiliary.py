"""A quadratic auxiliary-field linearization of the dispersive Bloch problem (no multiplier roots).

When only the ``ρ``-slot is dispersive (TM with ``ε(Ω)``, TE with ``μ_r(Ω)``; every ``μ``-slot constant), each
Drude or Lorentz term of a phase ``s`` gets an auxiliary unknown ``v`` on the dofs that phase touches
(restriction ``R``, mass ``M̃ = R M_s R^T``) – the finite-element form of an auxiliary differential equation:

* Drude ``−Ω² Ω_p²/(Ω² + iΓΩ) = −Ω_p² + iΓΩ_p²/(Ω + iΓ)``: ``(Ω + iΓ) v = R x`` and ``T x`` gains
  ``Ω_p² M_s x − iΓΩ_p² R^T M̃ v``;
* Lorentz ``Ω² Δε Ω_j²/D``, ``D = Ω_j² − Ω² − iΓΩ``: ``D v = R x`` and ``T x`` gains
  ``ΔεΩ_j² M_s x − ΔεΩ_j² (Ω_j² − iΓΩ) R^T M̃ v``;

so ``T(Ω) = Σ_s μ_s K_s − Ω² ρ_s(Ω) M_s`` becomes the *quadratic* ``(A_0 + Ω A_1 + Ω² A_2) [x; v] = 0``.
Unlike multiplying by the denominators (theory.md §6 general recipe), this plants no exact eigenvalue at
``−iΓ`` of multiplicity ``dim ker M_s`` (the block matrix is generically non-singular there): shift-and-invert
TOAR converges in a few restarts (benchmarks/README.md). The extra eigenvalues are infinite (singular ``A_2``)
and harmless. Lossless Drude terms (``Γ = 0``) need no auxiliary unknown: they only shift ``A_0``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.photonics.materials import DispersiveModel

from petsc4py import PETSc


def applies(mu_slot_models: Sequence[DispersiveModel], rho_slot_models: Sequence[DispersiveModel]) -> bool:
    """Use the linearization when every ``μ``-slot coefficient is constant and a ``ρ``-slot has a lossy Drude
    term – the case where the multiplier's exact cluster at ``−iΓ`` slows TOAR down (for Lorentz poles the
    multiplier roots sit near ``±Ω_j`` and the smaller cubic is as fast)."""
    return all(m.is_constant for m in mu_slot_models) and any(g > 0 for m in rho_slot_models for _, g in m.drude)


def _restriction(M: PETSc.Mat) -> PETSc.Mat:
    """``R``: rows = the reduced dofs where the phase mass ``M_s`` has a non-zero diagonal."""
    comm = M.getComm().tompi4py()
    start, end = M.getOwnershipRange()
    rows = np.flatnonzero(np.abs(M.getDiagonal().array_r) > 0) + start
    m_local = len(rows)
    indptr = np.arange(m_local + 1, dtype=PETSc.IntType)
    return PETSc.Mat().createAIJ(size=((m_local, comm.allreduce(m_local)), (end - start, M.getSize()[1])),
                                 csr=(indptr, rows.astype(PETSc.IntType), np.ones(m_local, dtype=PETSc.ScalarType)),
                                 comm=comm)


def _identity(R: PETSc.Mat, value: complex) -> PETSc.Mat:
    m_local, m = R.getLocalSize()[0], R.getSize()[0]
    indptr = np.arange(m_local + 1, dtype=PETSc.IntType)
    start = R.getOwnershipRange()[0]
    return PETSc.Mat().createAIJ(size=((m_local, m), (m_local, m)),
                                 csr=(indptr, np.arange(start, start + m_local, dtype=PETSc.IntType),
                                      np.full(m_local, value, dtype=PETSc.ScalarType)), comm=R.getComm())


def _terms(model: DispersiveModel) -> list[tuple[str, tuple[float, ...]]]:
    """The model's lossy Drude and all Lorentz terms, which need auxiliary unknowns."""
    return ([("drude", (wp, g)) for wp, g in model.drude if g > 0]
            + [("lorentz", pole) for pole in model.lorentz])


def quadratic_operators(K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat], mu_slot: Sequence[complex],
                        rho_slot: Sequence[DispersiveModel]) -> tuple[list[PETSc.Mat], int]:
    """``[A_0, A_1, A_2]`` of the linearized problem (AIJ, the physical block first on every rank) and the
    number of local rows of the physical block (to cut the eigenvectors)."""
    n_local = K[0].getLocalSize()[0]
    x_blocks = [[], [], []]  # per power: (coefficient, matrix) pairs for the x-x block
    for Ks, mu in zip(K, mu_slot):
        x_blocks[0].append((mu, Ks))
    aux = []  # per auxiliary field: (R, coupling per power, v-v coefficients per power)
    for Ms, model in zip(M, rho_slot):
        x_blocks[2].append((-model.eps_inf, Ms))
        for wp, _ in model.drude:
            x_blocks[0].append((wp**2, Ms))
        for delta, wj, _ in model.lorentz:
            x_blocks[0].append((delta * wj**2, Ms))
        for kind, p in _terms(model):
            R = _restriction(Ms)
            RT = R.transpose(PETSc.Mat())
            coupling = RT.matMult(Ms.PtAP(RT))  # R^T M̃
            if kind == "drude":
                wp, g = p
                aux.append((R, coupling, [-1j * g * wp**2, 0.0, 0.0], [1j * g, 1.0, 0.0]))
            else:
                delta, wj, g = p
                aux.append((R, coupling, [-delta * wj**4, 1j * delta * wj**2 * g, 0.0], [wj**2, -1j * g, -1.0]))
    mats = []
    for power in range(3):
        rows = [[_combine(x_blocks[power], K[0])] + [None] * len(aux)]
        for a, (R, coupling, c_xv, c_vv) in enumerate(aux):
            if c_xv[power] != 0:
                rows[0][1 + a] = _scaled(coupling, c_xv[power])
            row = [_scaled(R, -1.0) if power == 0 else None] + [None] * len(aux)
            row[1 + a] = _identity(R, c_vv[power])
            rows.append(row)
        nest = PETSc.Mat().createNest(rows, comm=K[0].getComm())
        mats.append(nest.convert("aij"))  # converts the nest in place (petsc4py without an output matrix)
    return mats, n_local


def _scaled(A: PETSc.Mat, c: complex) -> PETSc.Mat:
    B = A.duplicate(copy=True)
    B.scale(c)
    return B


def _combine(terms: list[tuple[complex, PETSc.Mat]], like: PETSc.Mat) -> PETSc.Mat:
    out = like.duplicate(copy=False)
    out.zeroEntries()
    for c, A in terms:
        out.axpy(c, A, structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
    return out
