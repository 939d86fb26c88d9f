"""Linear solver plumbing for the reduced (periodic) systems: KSP set-up, null spaces, convergence checks.

Periodic cell problems are singular: constants (rigid translations in elasticity) are in the kernel of the
reduced stiffness. The right-hand sides annihilate them (theory.md §2.1), so the systems are consistent.
Two methods are offered:

``"cg-gamg"`` (default)
    Conjugate gradients preconditioned by PETSc's algebraic multigrid, with the kernel attached as the null
    space (projected out of each Krylov iterate) and as the near-null space of GAMG. Scales to large 3D cells.
``"mumps"``
    Sparse direct LU with MUMPS' null-pivot detection (ICNTL 24); the kernel is projected out afterwards.
    Robust for 2D cells; memory-bound for large 3D ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from petsc4py import PETSc
from fem_homog.core.errors import InputError, SolverError

METHODS = ("cg-gamg", "mumps")


@dataclass
class SingularSolver:
    """A KSP for a consistent singular system ``A x = b`` with known kernel."""

    ksp: PETSc.KSP
    nullspace: PETSc.NullSpace
    method: str
    problem: str = "cell problem"

    def solve(self, b: PETSc.Vec) -> tuple[PETSc.Vec, int]:
        """Solve for the solution orthogonal to the kernel; return it with the iteration count.

        Raises
        ------
        SolverError
            If the Krylov method did not converge (with the PETSc reason).
        """
        self.nullspace.remove(b)
        x = b.duplicate()
        x.set(0.0)
        self.ksp.solve(b, x)
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise SolverError(
                f"the {self.method} solve of the {self.problem} did not converge (PETSc reason {reason}, "
                f"{self.ksp.getIterationNumber()} iterations, residual {self.ksp.getResidualNorm():.3e})")
        self.nullspace.remove(x)
        return x, self.ksp.getIterationNumber()

    def destroy(self) -> None:
        self.ksp.destroy()
        self.nullspace.destroy()


def _orthonormal_nullspace(kernel: list[PETSc.Vec], comm) -> PETSc.NullSpace:
    basis = [v.copy() for v in kernel]
    for i, v in enumerate(basis):
        for u in basis[:i]:
            v.axpy(-u.dot(v), u)
        v.normalize()
    return PETSc.NullSpace().create(vectors=basis, comm=comm)


def singular_solver(A: PETSc.Mat, kernel: list[PETSc.Vec], *, near_kernel: list[PETSc.Vec] = (),
                    method: str = "cg-gamg", rtol: float = 1e-10, prefix: str = "cell_") -> SingularSolver:
    """Set up a solver for the singular reduced matrix ``A`` whose kernel is spanned by ``kernel``.

    Parameters
    ----------
    A
        Reduced stiffness ``P^H K P`` (Hermitian positive semi-definite).
    kernel
        Vectors spanning its kernel (constants per component).
    near_kernel
        Further low-energy modes for the multigrid aggregation only (e.g. rigid rotations in elasticity,
        which are not periodic but are locally in the kernel); they are not projected out.
    method
        ``"cg-gamg"`` or ``"mumps"``.
    rtol
        Relative residual tolerance of the Krylov method (ignored by ``"mumps"``).
    prefix
        PETSc options prefix: ``-{prefix}ksp_...`` and ``-{prefix}pc_...`` override the defaults.
    """
    if method not in METHODS:
        raise InputError(f"unknown solver.method '{method}' (known: {', '.join(METHODS)})")
    comm = A.getComm()
    nullspace = _orthonormal_nullspace(kernel, comm)
    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(A)
    pc = ksp.getPC()
    if method == "cg-gamg":
        A.setNullSpace(nullspace)
        A.setNearNullSpace(_orthonormal_nullspace([*kernel, *near_kernel], comm) if near_kernel else nullspace)
        ksp.setType(PETSc.KSP.Type.CG)
        ksp.setTolerances(rtol=rtol, atol=0.0, max_it=5000)
        pc.setType(PETSc.PC.Type.GAMG)
    else:
        ksp.setType(PETSc.KSP.Type.PREONLY)
        pc.setType(PETSc.PC.Type.LU)
        pc.setFactorSolverType("mumps")
        pc.setFactorSetUpSolverType()
        factor = pc.getFactorMatrix()
        factor.setMumpsIcntl(24, 1)  # detect the null pivots of the singular matrix
        factor.setMumpsIcntl(25, 0)  # and return one solution of the consistent system
    ksp.setFromOptions()
    ksp.setUp()
    return SingularSolver(ksp=ksp, nullspace=nullspace, method=method)
