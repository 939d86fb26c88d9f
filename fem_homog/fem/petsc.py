"""The one place that creates PETSc and SLEPc solvers: KSP, EPS, PEP and their ST.

Every solver here is configured from keyword options and then from the PETSc options database under a mandatory
prefix, so ``PETSC_OPTIONS="-bloch_eps_ncv 40 -cell_ksp_rtol 1e-12"`` overrides the defaults of one kind of
solve without touching the others. The prefixes in use:

====================  ===============================================================================
``cell_``             periodic cell problems (:mod:`fem_homog.statics.correctors`)
``rve_``              apparent tensors of random windows
``epsilon_``          the ε-convergence study's cell problems
``darcy_``            the Stokes cell problem (``darcy_fieldsplit_u_``, ``darcy_fieldsplit_p_``)
``bloch_``            Bloch eigenproblems (EPS and PEP, ``bloch_pep_refine_`` for the Newton refinement)
``bloch_iterative_``  the iterative Bloch eigensolver (GD + GAMG, :func:`preconditioned_eigensolver`)
``complex_``          the complex band structure k(ω) (:func:`wavenumber_eigensolver`)
``bordered_``         the bordered HFH corrector systems (MUMPS, or GMRES + GAMG: :func:`bordered_krylov_solver`)
``pml_``              full-wave and envelope PML systems (``pml_`` and ``envelope_``)
====================  ===============================================================================

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

Every MUMPS factorization (direct solvers, the shift-and-invert ST of each EPS/PEP, the PEP refinement) takes
block low-rank compression and out-of-core settings from the enclosing :func:`mumps_options` block
(:class:`MumpsOptions`; outside one: exact and in core), which also reports MUMPS's memory and factor sizes
(:class:`MumpsStatistics`).
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
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


# -- MUMPS options: block low-rank compression and out-of-core --------------------------------------------------


@dataclass(frozen=True)
class MumpsOptions:
    """How MUMPS factorizes: set for every factorization made inside a :func:`mumps_options` block.

    The default is the exact in-core factorization (today's behaviour). Each choice becomes a PETSc option under
    the solver's prefix, so ``-{prefix}mat_mumps_...`` given by the user still wins.

    Attributes
    ----------
    blr_tolerance
        Block low-rank (BLR) compression with the dropping tolerance CNTL(7) = ``blr_tolerance``: blocks of the
        factors (ICNTL(35) = 2) and of the contribution blocks (ICNTL(37) = 1, without which BLR costs memory)
        are replaced by low-rank products accurate to it, so solves are exact only to about the tolerance:
        shift-and-invert eigenvalues moved by 1–6 times it (benchmarks/README.md). 0 (default) is off. It pays on
        large 3D factors only (fronts of thousands); Maxwell bands need ≤ 1e-7 (their gauge check fails at 1e-6).
    out_of_core
        Write the factors to disk (ICNTL(22) = 1) and keep only the active fronts in memory (with BLR the
        low-rank factors stay in memory).
    ooc_tmpdir
        Existing directory for the out-of-core files (``-mat_mumps_ooc_tmpdir``); None: the ``MUMPS_OOC_TMPDIR``
        environment variable, else ``/tmp``. Only with ``out_of_core``.
    memory_relaxation
        ICNTL(14): percentage of extra workspace over the analysis estimate (None: MUMPS's default); raise it
        when a factorization fails with INFOG(1) = -9.
    """

    blr_tolerance: float = 0.0
    out_of_core: bool = False
    ooc_tmpdir: str | None = None
    memory_relaxation: int | None = None

    def __post_init__(self) -> None:
        tol = self.blr_tolerance
        require(isinstance(tol, (int, float)) and not isinstance(tol, bool) and math.isfinite(tol)
                and 0.0 <= tol < 1.0, f"must be 0 (off) or a dropping tolerance in (0, 1), got {tol!r}",
                argument="blr_tolerance")
        require(isinstance(self.out_of_core, bool), f"must be true or false, got {self.out_of_core!r}",
                argument="out_of_core")
        if self.ooc_tmpdir is not None:
            require(self.out_of_core, "needs out_of_core = true", argument="ooc_tmpdir")
            require(os.path.isdir(self.ooc_tmpdir), f"must be an existing directory, got '{self.ooc_tmpdir}'",
                    argument="ooc_tmpdir")
        relax = self.memory_relaxation
        require(relax is None or (isinstance(relax, int) and not isinstance(relax, bool) and relax >= 0),
                f"must be a non-negative percentage, got {relax!r}", argument="memory_relaxation")

    def settings(self) -> dict[str, str]:
        """The PETSc options (after the solver's prefix) that these choices set; empty for the default."""
        out = {}
        if self.blr_tolerance > 0:
            out |= {"mat_mumps_icntl_35": "2", "mat_mumps_icntl_37": "1", "mat_mumps_cntl_7": repr(self.blr_tolerance)}
        if self.out_of_core:
            out["mat_mumps_icntl_22"] = "1"
            if self.ooc_tmpdir is not None:
                out["mat_mumps_ooc_tmpdir"] = os.path.abspath(self.ooc_tmpdir)
        if self.memory_relaxation is not None:
            out["mat_mumps_icntl_14"] = str(self.memory_relaxation)
        return out

    def to_dict(self) -> dict:
        return asdict(self)


_MUMPS_ESTIMATE = {(False, False): 16, (False, True): 26, (True, False): 36, (True, True): 38}
"""INFOG entry of the analysis' memory estimate (max over ranks) for (BLR, out-of-core)."""


def _mumps_count(value: int) -> int:
    """MUMPS returns counts beyond 2³¹ as negative millions."""
    return value if value >= 0 else -value * 1_000_000


@dataclass(frozen=True)
class MumpsStatistics:
    """MUMPS's own account of one factorization (its INFOG/RINFOG entries; ``_mb`` in millions of bytes, per rank
    = the largest over the ranks, ``_total`` = the sum).

    ``estimated_mb`` is the analysis estimate for the mode used (INFOG(16) full-rank in core, (26) full-rank
    out-of-core, (36) BLR in core, (38) BLR out-of-core); ``estimated_full_rank_mb`` = INFOG(16) for comparison;
    ``used_mb``/``used_mb_total`` = INFOG(21)/(22) the memory the factorization effectively used; ``factor_entries``
    = INFOG(35) against ``factor_entries_full_rank`` = INFOG(29); ``null_pivots`` = INFOG(28); ``flops`` =
    RINFOG(3), the elimination's operation count (full-rank: this MUMPS returns no BLR count in RINFOG(14)).
    """

    size: int
    blr: bool
    out_of_core: bool
    estimated_mb: int
    estimated_full_rank_mb: int
    used_mb: int
    used_mb_total: int
    factor_entries: int
    factor_entries_full_rank: int
    null_pivots: int
    flops: float

    @property
    def compression(self) -> float:
        """Entries in the (BLR) factors over those of the full-rank factors (1 without BLR)."""
        return self.factor_entries / max(self.factor_entries_full_rank, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "compression": self.compression}


def mumps_statistics(ksp: PETSc.KSP) -> MumpsStatistics:
    """The :class:`MumpsStatistics` of the MUMPS factorization of a set-up ``ksp`` (e.g. ``st.getKSP()`` of a solved
    EPS, or ``LinearSolver.ksp`` after a solve).

    Raises
    ------
    SolverError
        If the last MUMPS call failed (INFOG(1) < 0).
    """
    F = ksp.getPC().getFactorMatrix()
    infog = F.getMumpsInfog
    if infog(1) < 0:
        raise SolverError(f"MUMPS failed with INFOG(1) = {infog(1)}, INFOG(2) = {infog(2)}")
    blr, ooc = F.getMumpsIcntl(35) > 0, F.getMumpsIcntl(22) > 0
    return MumpsStatistics(size=F.getSize()[0], blr=blr, out_of_core=ooc,
                           estimated_mb=infog(_MUMPS_ESTIMATE[blr, ooc]), estimated_full_rank_mb=infog(16),
                           used_mb=infog(21), used_mb_total=infog(22), factor_entries=_mumps_count(infog(35)),
                           factor_entries_full_rank=_mumps_count(infog(29)), null_pivots=infog(28),
                           flops=F.getMumpsRinfog(3))


@dataclass
class MumpsReport:
    """What a :func:`mumps_options` block saw: the options and, per MUMPS solver used in it, the statistics of its
    last factorization (:attr:`factorizations`, in the order the solvers were created)."""

    options: MumpsOptions
    by_solver: dict[int, MumpsStatistics] = field(default_factory=dict)

    @property
    def factorizations(self) -> list[MumpsStatistics]:
        return [self.by_solver[i] for i in sorted(self.by_solver)]


_OWNED_KEYS: set[str] = set()  # PETSc database keys set by an active block (any other key is the user's)


class _MumpsScope:
    """The active block: puts the options into the PETSc database under each MUMPS solver's prefix (unless the
    user set them there), records each solver's statistics after its solves, restores the database at the end."""

    def __init__(self, options: MumpsOptions):
        self.report = MumpsReport(options)
        self.saved: dict[str, str | None] = {}
        self.solvers = 0

    def put(self, prefix: str) -> None:
        database = PETSc.Options()
        for key, value in self.report.options.settings().items():
            name = prefix + key
            if name in self.saved or (database.hasName(name) and name not in _OWNED_KEYS):
                continue
            self.saved[name] = database.getString(name) if database.hasName(name) else None
            database[name] = value
            _OWNED_KEYS.add(name)

    def watch(self, ksp: PETSc.KSP) -> None:
        slot, report = self.solvers, self.report
        self.solvers += 1

        def record(ksp: PETSc.KSP, *_) -> None:
            report.by_solver[slot] = mumps_statistics(ksp)

        ksp.setPostSolve(record)

    def restore(self) -> None:
        database = PETSc.Options()
        for name, value in self.saved.items():
            if value is None:
                database.delValue(name)
                _OWNED_KEYS.discard(name)
            else:
                database[name] = value


_ACTIVE: ContextVar[_MumpsScope | None] = ContextVar("mumps_scope", default=None)


@contextmanager
def mumps_options(options: MumpsOptions) -> Iterator[MumpsReport]:
    """Use ``options`` for every MUMPS factorization made inside the block (linear solvers, the shift-and-invert
    ST of every EPS/PEP, the PEP refinement); yields the :class:`MumpsReport` filled as solvers run.

    >>> with mumps_options(MumpsOptions(blr_tolerance=1e-8)) as report:  # doctest: +SKIP
    ...     solution = problem.solve(k)
    >>> report.factorizations[0].compression  # doctest: +SKIP
    """
    scope = _MumpsScope(options)
    token = _ACTIVE.set(scope)
    try:
        yield scope.report
    finally:
        _ACTIVE.reset(token)
        scope.restore()


def _mumps_prefix(prefix: str) -> None:
    """Put the active :func:`mumps_options` under ``prefix`` (for a MUMPS solver SLEPc creates itself)."""
    scope = _ACTIVE.get()
    if scope is not None:
        scope.put(prefix)


def _use_mumps(ksp: PETSc.KSP, *, singular: bool = False, prefix: str | None = None) -> None:
    """``preonly`` + MUMPS LU with the active :func:`mumps_options` (under ``prefix``, by default the KSP's own);
    for a singular consistent system, MUMPS detects the null pivots (ICNTL 24) and returns one solution
    (ICNTL 25 = 0)."""
    ksp.setType(PETSc.KSP.Type.PREONLY)
    pc = ksp.getPC()
    pc.setType(PETSc.PC.Type.LU)
    pc.setFactorSolverType("mumps")
    scope = _ACTIVE.get()
    if scope is not None:
        scope.put((ksp.getOptionsPrefix() or "") if prefix is None else prefix)
        scope.watch(ksp)
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
    _additive_fieldsplit(ksp, splits, (PETSc.PC.Type.GAMG, PETSc.PC.Type.JACOBI))
    return _finish(ksp, method="fieldsplit", problem=problem, nullspace=nullspace)


def _additive_fieldsplit(ksp: PETSc.KSP, splits: Sequence[tuple[str, PETSc.IS]], pc_types: Sequence[str]) -> None:
    """An additive field-split preconditioner: one application of ``pc_types[i]`` on block ``i``."""
    pc = ksp.getPC()
    pc.setType(PETSc.PC.Type.FIELDSPLIT)
    pc.setFieldSplitType(PETSc.PC.CompositeType.ADDITIVE)
    pc.setFieldSplitIS(*splits)
    for sub, pc_type in zip(pc.getFieldSplitSubKSP(), pc_types):
        sub.setType(PETSc.KSP.Type.PREONLY)
        sub.getPC().setType(pc_type)


def singular_direct_solver(A: PETSc.Mat, *, nullspace: PETSc.NullSpace, prefix: str, problem: str) -> LinearSolver:
    """MUMPS LU of a consistent singular ``A`` (null pivots detected) whose kernel ``nullspace`` is projected out."""
    ksp = _new_ksp(A, prefix)
    _use_mumps(ksp, singular=True)
    return _finish(ksp, method="mumps", problem=problem, nullspace=nullspace)


def _shift_and_invert(st: SLEPc.ST, *, prefix: str) -> None:
    """Spectral transformation ``(A − σB)⁻¹B`` with the shifted matrix factorized by MUMPS (``prefix``: the
    EPS/PEP's, which its ST's KSP gets later with ``st_`` appended)."""
    st.setType(SLEPc.ST.Type.SINVERT)
    _use_mumps(st.getKSP(), prefix=f"{prefix}st_")


MUMPS_ERRORS = {-8: "integer workspace too small", -9: "real workspace too small",
                -10: "numerically singular matrix", -13: "memory allocation failed",
                -19: "the memory cap ICNTL(23) is too small"}
"""Explanations of MUMPS's commonest INFOG(1) failure codes (its users' guide, §8)."""


@contextmanager
def _solve_failures(st: SLEPc.ST, what: str) -> Iterator[None]:
    """Turn a PETSc/SLEPc error raised while an eigensolver runs into a :class:`SolverError` (exit 3, one line),
    with MUMPS's INFOG(1) and its meaning when the shift-and-invert factorization is what failed."""
    try:
        yield
    except (PETSc.Error, SystemError) as err:  # petsc4py may wrap the PETSc error in a SystemError
        error = err if isinstance(err, PETSc.Error) else err.__cause__
        if not isinstance(error, PETSc.Error):
            raise
        detail = f"PETSc error code {error.ierr}"
        try:
            code = st.getKSP().getPC().getFactorMatrix().getMumpsInfog(1)
            if code < 0:
                detail = (f"MUMPS INFOG(1) = {code}: {MUMPS_ERRORS.get(code, 'see the MUMPS users guide')}; "
                          f"raise -{st.getKSP().getOptionsPrefix() or ''}mat_mumps_icntl_14 or use MUMPS out-of-core")
        except PETSc.Error:
            pass
        raise SolverError(f"{what} failed ({detail})") from None


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
        _shift_and_invert(eps.getST(), prefix=prefix)
        eps.setTarget(shift)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
        eps.setOptionsPrefix(prefix)
        eps.setFromOptions()
        with _solve_failures(eps.getST(), "the eigensolver (EPS)"):
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
        _shift_and_invert(pep.getST(), prefix=prefix)
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
            _mumps_prefix(f"{prefix}pep_refine_")
        pep.setOptionsPrefix(prefix)
        pep.setFromOptions()
        with _solve_failures(pep.getST(), "the polynomial eigensolver (PEP)"):
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
        _shift_and_invert(pep.getST(), prefix=prefix)
        pep.setTarget(target)
        pep.setWhichEigenpairs(SLEPc.PEP.Which.TARGET_MAGNITUDE)
        if region is not None:
            rg = pep.getRG()
            rg.setType(SLEPc.RG.Type.INTERVAL)
            rg.setIntervalEndpoints(*region)
        pep.setOptionsPrefix(prefix)
        pep.setFromOptions()
        with _solve_failures(pep.getST(), "the polynomial eigensolver (PEP)"):
            yield pep
    finally:
        pep.destroy()


# -- iterative eigensolvers (no factorization) ------------------------------------------------------------

PRECONDITIONER_SHIFT = -1.0
"""``σ`` of the preconditioned matrix ``A − σB`` (:func:`preconditioned_eigensolver`): negative, so that it is
positive definite even when ``A`` is singular (constants at Γ); the GAMG iteration counts hardly depend on it
(29–31 CG iterations for σ = −0.1, −1, −10 on a 44k-dof P2 sphere cell)."""


@contextmanager
def preconditioned_eigensolver(A: PETSc.Mat, B: PETSc.Mat, *, nev: int, tol: float,
                               deflation: Sequence[PETSc.Vec] = (), shift: float = PRECONDITIONER_SHIFT,
                               max_it: int = 2000, prefix: str = "bloch_iterative_") -> Iterator[SLEPc.EPS]:
    """A Hermitian-definite EPS ``A x = λ B x`` for the ``nev`` smallest eigenvalues above ``shift``, with no
    factorization: generalized Davidson (SLEPc GD) whose correction equation is preconditioned by one GAMG
    V-cycle of ``A − shift·B`` (theory.md §5, iterative solver). Converged means an absolute residual
    ``‖Ax − λBx‖ ≤ tol`` (unit ``x``): ``λ`` vanishes near Γ, where a relative test cannot be met. ``deflation``
    spans known eigenvectors kept out of the search space (the constants at Γ). Configured and ready to
    ``solve()``; the EPS and the preconditioned matrix are destroyed when the block ends. ``-{prefix}eps_...``,
    ``-{prefix}st_pc_...`` override the defaults.
    """
    shifted = A.duplicate(copy=True)
    shifted.axpy(-shift, B, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
    eps = SLEPc.EPS().create(A.getComm())
    try:
        eps.setOperators(A, B)
        eps.setProblemType(SLEPc.EPS.ProblemType.GHEP)
        eps.setType(SLEPc.EPS.Type.GD)
        eps.setDimensions(nev)
        eps.setTolerances(tol, max_it)
        eps.setConvergenceTest(SLEPc.EPS.Conv.ABS)
        st = eps.getST()
        st.setType(SLEPc.ST.Type.PRECOND)
        st.setPreconditionerMat(shifted)
        st.getKSP().setType(PETSc.KSP.Type.PREONLY)
        st.getKSP().getPC().setType(PETSc.PC.Type.GAMG)
        eps.setTarget(shift)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_REAL)
        if deflation:
            eps.setDeflationSpace(list(deflation))
        eps.setOptionsPrefix(prefix)
        eps.setFromOptions()
        yield eps
    finally:
        eps.destroy()
        shifted.destroy()


def bordered_krylov_solver(K: PETSc.Mat, *, preconditioner: PETSc.Mat, splits: Sequence[tuple[str, PETSc.IS]],
                           rtol: float = 1e-10, restart: int = 100, prefix: str = "bordered_",
                           problem: str) -> LinearSolver:
    """GMRES on a bordered system ``K = [A B; C^T 0]`` with no factorization (theory.md §8.2): additive
    field-split preconditioner, one GAMG V-cycle of the first block of ``preconditioner`` (a Hermitian positive
    definite matrix close to ``A``, bordered like ``K``) and the identity on the border (``splits``: the two
    index sets)."""
    ksp = _new_ksp(K, prefix, preconditioner)
    ksp.setType(PETSc.KSP.Type.GMRES)
    ksp.setGMRESRestart(restart)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=5000)
    _additive_fieldsplit(ksp, splits, (PETSc.PC.Type.GAMG, PETSc.PC.Type.NONE))
    return _finish(ksp, method="gmres-gamg", problem=problem)
