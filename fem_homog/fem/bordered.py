"""Singular systems with a known null space, solved as bordered systems (theory.md §8.2).

The HFH corrector operator ``A = A(Ω0)`` is singular: its null space is spanned by the eigenvectors
``x_1 … x_m`` of the cluster. With border columns ``B = [b_1 … b_m]`` and rows ``C = [c_1 … c_m]`` (the
constraints ``c_q^T y = 0``; HFH uses ``∫ conj(U_q) U_1 = 0``) the bordered system

    [ A    B ] [ y ]   [ f ]
    [ C^T  0 ] [ ℓ ] = [ 0 ]

is non-singular when ``C^T x`` and ``Z^T B`` are (``Z`` the left null vectors: ``x_q`` for the complex
symmetric ``A`` of zone edges, ``conj(x_q)`` for a Hermitian one), and pairing its first row with ``z_q^T``
shows ``ℓ = 0`` exactly when ``f`` is compatible. ``ℓ`` is returned as the *solvability multiplier*: its size
measures how well the compatibility condition holds numerically.

The bordered matrix is an AIJ matrix with ``m`` extra rows and columns owned by the last rank; MUMPS factors it
once for all right-hand sides, or (large 3D cells) GMRES solves it preconditioned by GAMG on a positive definite
matrix close to ``A`` and the identity on the border.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.fem.petsc import LinearSolver, bordered_krylov_solver, direct_solver

from petsc4py import PETSc


def _bordered_matrix(A: PETSc.Mat, B: Sequence[PETSc.Vec], C: Sequence[PETSc.Vec]) -> PETSc.Mat:
    comm = A.getComm().tompi4py()
    m, N = len(B), A.getSize()[0]
    last = comm.rank == comm.size - 1
    ai, aj, av = A.getValuesCSR()
    n_local = len(ai) - 1
    b_local = np.array([b.getArray(readonly=True) for b in B]).reshape(m, n_local)
    # each owned row of A gets the m border columns N..N+m-1 appended (they are the largest indices)
    indptr = ai + m * np.arange(n_local + 1)
    indices = np.empty(len(aj) + m * n_local, dtype=PETSc.IntType)
    values = np.empty(len(aj) + m * n_local, dtype=PETSc.ScalarType)
    row_of_entry = np.repeat(np.arange(n_local), np.diff(ai))
    keep = np.arange(len(aj)) + m * row_of_entry
    indices[keep], values[keep] = aj, av
    for q in range(m):
        indices[indptr[1:] - m + q] = N + q
        values[indptr[1:] - m + q] = b_local[q]
    c_local = np.array([c.getArray(readonly=True) for c in C]).reshape(m, n_local)
    c_global = comm.gather(c_local, root=comm.size - 1)
    if last:  # the border rows: C^T, and an explicit zero block for a symmetric pattern
        c_full = np.concatenate(c_global, axis=1)
        border_cols = np.concatenate([np.arange(N + m)] * m).astype(PETSc.IntType)
        border_vals = np.concatenate([np.concatenate([c_full[q], np.zeros(m)]) for q in range(m)])
        indptr = np.concatenate([indptr, indptr[-1] + (N + m) * np.arange(1, m + 1)])
        indices = np.concatenate([indices, border_cols])
        values = np.concatenate([values, border_vals.astype(PETSc.ScalarType)])
    rows = n_local + (m if last else 0)
    return PETSc.Mat().createAIJ(size=((rows, N + m), (rows, N + m)),
                                 csr=(indptr.astype(PETSc.IntType), indices, values), comm=comm)


def _krylov_solver(K: PETSc.Mat, A: PETSc.Mat, preconditioner: PETSc.Mat, B: Sequence[PETSc.Vec],
                   C: Sequence[PETSc.Vec], problem: str) -> tuple[LinearSolver, PETSc.Mat]:
    """GMRES + GAMG for the bordered ``K`` (:func:`bordered_krylov_solver`) and its preconditioning matrix."""
    comm = A.getComm().tompi4py()
    N, n_local, m = A.getSize()[0], A.getLocalSize()[0], len(B)
    start = K.getOwnershipRange()[0]
    last = comm.rank == comm.size - 1
    splits = [("field", PETSc.IS().createGeneral(np.arange(start, start + n_local, dtype=PETSc.IntType), comm=comm)),
              ("border", PETSc.IS().createGeneral(np.arange(N, N + m if last else N, dtype=PETSc.IntType),
                                                  comm=comm))]
    S = _bordered_matrix(preconditioner, B, C)
    solver = bordered_krylov_solver(K, preconditioner=S, splits=splits, problem=problem)
    for _, index_set in splits:
        index_set.destroy()
    return solver, S


def solve_bordered(A: PETSc.Mat, B: Sequence[PETSc.Vec], rhs: Sequence[PETSc.Vec], *,
                   rows: Sequence[PETSc.Vec] | None = None,
                   preconditioner: PETSc.Mat | None = None) -> tuple[list[PETSc.Vec], np.ndarray]:
    """Solve ``A y + B ℓ = f``, ``C^T y = 0`` for each ``f`` in ``rhs`` (one MUMPS factorization); ``C`` is
    ``rows``, by default ``B``. With ``preconditioner`` (a Hermitian positive definite matrix close to ``A``,
    e.g. ``Σ μ_s K_s + ρ_s M_s``) the systems are solved by GMRES preconditioned with GAMG instead, with no
    factorization (large 3D cells).

    Returns
    -------
    solutions
        The ``y`` (vectors with ``A``'s layout).
    multipliers
        ``ℓ`` per right-hand side (shape ``(len(rhs), m)``), identical on all ranks.
    """
    comm = A.getComm().tompi4py()
    m, last = len(B), comm.rank == comm.size - 1
    C = B if rows is None else rows
    K, S = _bordered_matrix(A, B, C), None
    problem = "bordered corrector system (is the eigenvector accurate?)"
    if preconditioner is None:
        solver = direct_solver(K, prefix="bordered_", problem=problem)
    else:
        solver, S = _krylov_solver(K, A, preconditioner, B, C, problem)
    x, b = K.createVecs()
    n_local = A.getLocalSize()[0]
    solutions, multipliers = [], []
    for f in rhs:
        b.array[:n_local] = f.getArray(readonly=True)
        b.array[n_local:] = 0.0
        solver.solve_into(b, x)
        y = A.createVecRight()
        y.array[:] = x.array_r[:n_local]
        solutions.append(y)
        multipliers.append(comm.bcast(x.array_r[n_local:].copy() if last else None, root=comm.size - 1))
    solver.destroy()
    for obj in (K, S, x, b):
        if obj is not None:
            obj.destroy()
    return solutions, np.array(multipliers).reshape(len(rhs), m)
