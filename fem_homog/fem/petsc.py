"""The one place that creates PETSc and SLEPc solvers: KSP, EPS, PEP and their ST.

Every solver here is configured from keyword options and then from the PETSc options database under a mandatory
prefix, so ``PETSC_OPTIONS="-bloch_eps_ncv 40 -cell_ksp_rtol 1e-12"`` overrides the defaults of one kind of
solve without touching the others. The prefixes in use:

=============  ===============================================================
``cell_``      periodic cell problems (:mod:`fem_homog.statics.correctors`)
``rve_``       apparent tensors of random windows
``epsilon_``   the ε-convergence study's cell problems
``darcy_``     the Stokes cell problem (``darcy_fieldsplit_u_``, ``darcy_fieldsplit_p_``)
``bloch_``     Bloch eigenproblems (EPS and PEP, ``bloch_pep_refine_`` for the Newton refinement)
``bordered_``  the bordered HFH corrector systems
``pml_``       full-wave and envelope PML systems (``pml_`` and ``envelope_``)
=============  ===============================================================

Ownership: a :class:`LinearSolver` is destroyed by whoever created it (``with`` block or :meth:`destroy`); the
eigensolvers are context managers that destroy their EPS/PEP on exit. Failures are never silent: a linear solve
that does not converge, or a factorization that fails, raises :class:`~fem_homog.core.errors.SolverError`.

Periodic cell problems are singular (constants, rigid translations in elasticity, are in the kernel of the
reduced stiffness; the right-hand sides annihilate them, theory.md §2.1). Two methods are offered for them:

``"cg-gamg"`` (default)
    Conjugate gradients preconditioned by PETSc's algebraic multigrid, with the kernel attached as the null
    space (projected out of each Krylov iterate) and as the near-null space of GAMG. Scales to large 3D cells.
``"mumps"``
    Sparse direct LU with MUMPS' null-pivot detection (ICNTL 24); the kernel is projected out afterwards.
    Robust for 2D cells; memory-bound for large 3D ones.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

from fem_homog.core.errors import SolverError, require

from petsc4py import PETSc
from slepc4py import SLEPc

METHODS = ("cg-gamg", "mumps")
"""Linear solver methods of the cell problems (:func:`singular_solver`, :func:`definite_solver`)."""


def set_default_options(prefix: str, values: dict[str, str]) -> None:
    """Put defaults in the PETSc options database without overriding what the user set (for inner solvers
    that cannot be reached through the API before set-up, such as a PEP's refinement KSP)."""
    options = PETSc.Options(prefix)
    for key, value in values.items():
        if not options.hasName(key):
            options[key] = value


@dataclass
class LinearSolver:
    """A configured KSP (set up once, factorization or preconditioner reused for every right-hand side).

    ``nullspace`` (if any) is projected out of right-hand sides and solutions: the solution is the one
    orthogonal to the kernel of a consistent singular system.
    """

    ksp: PETSc.KSP
    method: str
    problem: str
    nullspace: PETSc.NullSpace | None = None

    def solve_into(self, b: PETSc.Vec, x: PETSc.Vec) -> int:
        """Solve ``A x = b`` into ``x``; return the iteration count.

        Raises
        ------
        SolverError
            If the factorization failed or the Krylov method did not converge (with the PETSc reason).
        """
        if self.nullspace is not None:
            self.nullspace.remove(b)
        try:
            self.ksp.solve(b, x)
        except PETSc.Error as err:
            raise SolverError(f"the {self.method} solve of the {self.problem} failed ({err})") from None
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise SolverError(
                f"the {self.method} solve of the {self.problem} did not converge (PETSc reason {reason}, "
                f"{self.ksp.getIterationNumber()} iterations, residual {self.ksp.getResidualNorm():.3e})")
        if self.nullspace is not None:
            self.nullspace.remove(x)
        return self.ksp.getIterationNumber()

    def solve(self, b: PETSc.Vec) -> tuple[PETSc.Vec, int]:
        """A new solution vector of ``A x = b`` and the iteration count (see :meth:`solve_into`)."""
        x = b.duplicate()
        x.set(0.0)
        return x, self.solve_into(b, x)

    def destroy(self) -> None:
        self.ksp.destroy()
        if self.nullspace is not None:
            self.nullspace.destroy()

    def __enter__(self) -> LinearSolver:
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()


def _new_ksp(A: PETSc.Mat, prefix: str, P: PETSc.Mat | None = None) -> PETSc.KSP:
    require(bool(prefix), "a PETSc options prefix is mandatory", argument="prefix")
    ksp = PETSc.KSP().create(A.getComm())
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(A, P)
    return ksp


def _use_mumps(ksp: PETSc.KSP, *, singular: bool = False) -> None:
    """``preonly`` + MUMPS LU; for a singular consistent system, MUMPS detects the null pivots (ICNTL 24) and
    returns one solution (ICNTL 25 = 0)."""
    ksp.setType(PETSc.KSP.Type.PREONLY)
    pc = ksp.getPC()
    pc.setType(PETSc.PC.Type.LU)
    pc.setFactorSolverType("mumps")
    if singular:
        pc.setFactorSetUpSolverType()
        factor = pc.getFactorMatrix()
        factor.setMumpsIcntl(24, 1)
        factor.setMumpsIcntl(25, 0)


def _finish(ksp: PETSc.KSP, *, method: str, problem: str, nullspace: PETSc.NullSpace | None = None,
            setup: bool = True) -> LinearSolver:
    ksp.setFromOptions()
    if setup:
        try:
            ksp.setUp()
        except PETSc.Error as err:
            ksp.destroy()
            raise SolverError(f"the {method} set-up of the {problem} failed ({err})") from None
    return LinearSolver(ksp=ksp, method=method, problem=problem, nullspace=nullspace)


def direct_solver(A: PETSc.Mat, *, prefix: str, problem: str, setup: bool = False) -> LinearSolver:
    """MUMPS LU of a non-singular ``A`` (factorized at the first solve, or now with ``setup``)."""
    ksp = _new_ksp(A, prefix)
    _use_mumps(ksp)
    return _finish(ksp, method="mumps", problem=problem, setup=setup)


def _orthonormal_nullspace(kernel: Sequence[PETSc.Vec], comm) -> PETSc.NullSpace:
    basis = [v.copy() for v in kernel]
    for i, v in enumerate(basis):
        for u in basis[:i]:
            v.axpy(-u.dot(v), u)
        v.normalize()
    return PETSc.NullSpace().create(vectors=basis, comm=comm)


def _check_method(method: str, known: Sequence[str] = METHODS) -> None:
    require(method in known, f"unknown {{argument}} '{method}' (known: {', '.join(known)})", argument="method")


def singular_solver(A: PETSc.Mat, kernel: Sequence[PETSc.Vec], *, near_kernel: Sequence[PETSc.Vec] = (),
                    method: str = "cg-gamg", rtol: float = 1e-10, prefix: str = "cell_",
                    problem: str = "cell problem") -> LinearSolver:
    """A solver for the singular reduced matrix ``A`` whose kernel is spanned by ``kernel``.

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
    _check_method(method)
    comm = A.getComm()
    nullspace = _orthonormal_nullspace(kernel, comm)
    ksp = _new_ksp(A, prefix)
    if method == "cg-gamg":
        A.setNullSpace(nullspace)
        A.setNearNullSpace(_orthonormal_nullspace([*kernel, *near_kernel], comm) if near_kernel else nullspace)
        _use_gamg_cg(ksp, rtol=rtol)
    else:
        _use_mumps(ksp, singular=True)
    return _finish(ksp, method=method, problem=problem, nullspace=nullspace)


def _use_gamg_cg(ksp: PETSc.KSP, *, rtol: float) -> None:
    ksp.setType(PETSc.KSP.Type.CG)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=5000)
    ksp.getPC().setType(PETSc.PC.Type.GAMG)


def definite_solver(A: PETSc.Mat, *, method: str = "cg-gamg", rtol: float = 1e-10, prefix: str,
                    problem: str) -> LinearSolver:
    """CG + GAMG (or MUMPS) for a Hermitian positive definite ``A`` (e.g. a Dirichlet window problem)."""
    _check_method(method)
    ksp = _new_ksp(A, prefix)
    if method == "cg-gamg":
        _use_gamg_cg(ksp, rtol=rtol)
    else:
        _use_mumps(ksp)
    return _finish(ksp, method=method, problem=problem)


def saddle_point_solver(A: PETSc.Mat, *, preconditioner: PETSc.Mat, splits: Sequence[tuple[str, PETSc.IS]],
                        nullspace: PETSc.NullSpace, rtol: float, prefix: str, problem: str) -> LinearSolver:
    """MINRES on a symmetric saddle-point system with an additive field-split preconditioner built from
    ``preconditioner``: GAMG on the first block, Jacobi on the second (theory.md §4: velocity Laplacian and
    pressure mass). ``nullspace`` (the constant pressure) is attached to ``A`` and projected out."""
    ksp = _new_ksp(A, prefix, preconditioner)
    A.setNullSpace(nullspace)
    ksp.setType(PETSc.KSP.Type.MINRES)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=2000)
    pc = ksp.getPC()
    pc.setType(PETSc.PC.Type.FIELDSPLIT)
    pc.setFieldSplitType(PETSc.PC.CompositeType.ADDITIVE)
    pc.setFieldSplitIS(*splits)
    for sub, pc_type in zip(pc.getFieldSplitSubKSP(), (PETSc.PC.Type.GAMG, PETSc.PC.Type.JACOBI)):
        sub.setType(PETSc.KSP.Type.PREONLY)
        sub.getPC().setType(pc_type)
    return _finish(ksp, method="fieldsplit", problem=problem, nullspace=nullspace)


def singular_direct_solver(A: PETSc.Mat, *, nullspace: PETSc.NullSpace, prefix: str, problem: str) -> LinearSolver:
    """MUMPS LU of a consistent singular ``A`` (null pivots detected) whose kernel ``nullspace`` is projected out."""
    ksp = _new_ksp(A, prefix)
    _use_mumps(ksp, singular=True)
    return _finish(ksp, method="mumps", problem=problem, nullspace=nullspace)


def _shift_and_invert(st: SLEPc.ST) -> None:
    """Spectral transformation ``(A − σB)⁻¹B`` with the shifted matrix factorized by MUMPS."""
    st.setType(SLEPc.ST.Type.SINVERT)
    _use_mumps(st.getKSP())


@contextmanager
def generalized_eigensolver(A: PETSc.Mat, B: PETSc.Mat, *, nev: int, shift: float, tol: float,
                            max_it: int = 500, prefix: str = "bloch_") -> Iterator[SLEPc.EPS]:
    """A Hermitian-definite EPS ``A x = λ B x`` for the ``nev`` eigenvalues nearest ``shift`` (shift-and-invert,
    MUMPS), configured and ready to ``solve()``; destroyed when the block ends (theory.md §5)."""
    eps = SLEPc.EPS().create(A.getComm())
    try:
        eps.setOperators(A, B)
        eps.setProblemType(SLEPc.EPS.ProblemType.GHEP)
        eps.setDimensions(nev)
        eps.setTolerances(tol, max_it)
        _shift_and_invert(eps.getST())
        eps.setTarget(shift)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
        eps.setOptionsPrefix(prefix)
        eps.setFromOptions()
        yield eps
    finally:
        eps.destroy()


@contextmanager
def polynomial_eigensolver(ops: Sequence[PETSc.Mat], *, nev: int, target: complex, tol: float,
                           region: tuple[float, float, float, float] | None = None, refine: bool = True,
                           max_it: int = 500, prefix: str = "bloch_") -> Iterator[SLEPc.PEP]:
    """A TOAR PEP ``Σ_j Ω^j A_j x = 0`` for the ``nev`` eigenvalues nearest ``target`` (shift-and-invert, MUMPS),
    configured and ready to ``solve()``; destroyed when the block ends (theory.md §6).

    ``region`` ``(re_min, re_max, im_min, im_max)`` restricts what counts towards ``nev``; ``refine`` adds one
    simple Newton refinement per pair (with a MUMPS KSP under ``{prefix}pep_refine_``).
    """
    pep = SLEPc.PEP().create(ops[0].getComm())
    try:
        pep.setOperators(list(ops))
        pep.setProblemType(SLEPc.PEP.ProblemType.GENERAL)
        pep.setType(SLEPc.PEP.Type.TOAR)
        pep.setDimensions(nev)
        pep.setTolerances(tol, max_it)
        # automatic scalar scaling divides by zero on an all-zero coefficient (stack.md pitfall)
        pep.setScale(SLEPc.PEP.Scale.SCALAR if all(A.norm() > 0 for A in ops) else SLEPc.PEP.Scale.NONE)
        _shift_and_invert(pep.getST())
        pep.setTarget(target)
        pep.setWhichEigenpairs(SLEPc.PEP.Which.TARGET_MAGNITUDE)
        if region is not None:
            rg = pep.getRG()
            rg.setType(SLEPc.RG.Type.INTERVAL)
            rg.setIntervalEndpoints(*region)
        if refine:
            pep.setRefine(SLEPc.PEP.Refine.SIMPLE)
            set_default_options(f"{prefix}pep_refine_", {"ksp_type": "preonly", "pc_type": "lu",
                                                         "pc_factor_mat_solver_type": "mumps"})
        pep.setOptionsPrefix(prefix)
        pep.setFromOptions()
        yield pep
    finally:
        pep.destroy()


@contextmanager
def wavenumber_eigensolver(ops: Sequence[PETSc.Mat], *, nev: int, target: complex, tol: float,
                           region: tuple[float, float, float, float] | None = None, ncv: int | None = None,
                           max_it: int = 500,
                           prefix: str = "complex_") -> Iterator[SLEPc.PEP]:
    """A TOAR PEP ``(K0 + k K1 + k² K2) x = 0`` in the Bloch wavenumber ``k`` at a fixed real frequency, for the
    ``nev`` eigenvalues nearest ``target`` (shift-and-invert, MUMPS; no refinement: the caller checks every
    residual); destroyed when the block ends (theory.md §5.3). ``region`` ``(re_min, re_max, im_min, im_max)``
    restricts what counts towards ``nev``; beware that a region holding fewer than ``nev`` roots makes the solve
    run to ``max_it``. ``-complex_pep_...`` options override."""
    pep = SLEPc.PEP().create(ops[0].getComm())
    try:
        pep.setOperators(list(ops))
        pep.setProblemType(SLEPc.PEP.ProblemType.GENERAL)
        pep.setType(SLEPc.PEP.Type.TOAR)
        pep.setDimensions(nev, ncv if ncv is not None else PETSc.DECIDE)
        pep.setTolerances(tol, max_it)
        pep.setScale(SLEPc.PEP.Scale.SCALAR if all(A.norm() > 0 for A in ops) else SLEPc.PEP.Scale.NONE)
        _shift_and_invert(pep.getST())
        pep.setTarget(target)
        pep.setWhichEigenpairs(SLEPc.PEP.Which.TARGET_MAGNITUDE)
        if region is not None:
            rg = pep.getRG()
            rg.setType(SLEPc.RG.Type.INTERVAL)
            rg.setIntervalEndpoints(*region)
        pep.setOptionsPrefix(prefix)
        pep.setFromOptions()
        yield pep
    finally:
        pep.destroy()
