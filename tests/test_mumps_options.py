"""MUMPS block low-rank (BLR) compression and out-of-core factors (fem/petsc.py ``mumps_options``): the options reach
the factor of linear solvers and of the shift-and-invert ST, the BLR eigenvalues of the 3D finite-difference
Laplacian match its closed form to the dropping tolerance, BLR compresses, out-of-core gives the same solution,
bad values are refused and the default changes nothing."""

import math
import os

import numpy as np
import pytest
import scipy.sparse as sp

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import InputError, SolverError
from fem_homog.fem import petsc as fp
from fem_homog.fem.petsc import MumpsOptions, mumps_options
from fem_homog.photonics.materials import Phase, constant
from fem_homog.photonics.maxwell import MaxwellBlochProblem

from petsc4py import PETSc


def laplacian(n: int) -> PETSc.Mat:
    """The 7-point Dirichlet Laplacian on an n³ grid (unscaled: 6 on the diagonal), serial AIJ."""
    T = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    eye = sp.identity(n)
    L = (sp.kron(sp.kron(T, eye), eye) + sp.kron(sp.kron(eye, T), eye) + sp.kron(sp.kron(eye, eye), T)).tocsr()
    return PETSc.Mat().createAIJ(size=L.shape, csr=(L.indptr, L.indices, L.data.astype(complex)),
                                 comm=PETSc.COMM_SELF)


def identity(n: int) -> PETSc.Mat:
    idx = np.arange(n + 1, dtype=PETSc.IntType)
    return PETSc.Mat().createAIJ(size=(n, n), csr=(idx, idx[:-1], np.ones(n, dtype=complex)), comm=PETSc.COMM_SELF)


def exact_lowest(n: int, count: int) -> np.ndarray:
    """The ``count`` lowest eigenvalues Σ_d (2 − 2 cos(π i_d / (n + 1))) of :func:`laplacian`."""
    mu = 2 - 2 * np.cos(np.pi * np.arange(1, 4) / (n + 1))
    return np.sort([a + b + c for a in mu for b in mu for c in mu])[:count]


def lowest_eigenvalues(A: PETSc.Mat, *, nev: int) -> tuple[np.ndarray, PETSc.Mat]:
    """The ``nev`` lowest eigenvalues of ``A x = λ x`` (shift-and-invert at 0) and the ST's MUMPS factor."""
    B = identity(A.getSize()[0])
    with fp.generalized_eigensolver(A, B, nev=nev, shift=0.0, tol=1e-12) as eps:
        eps.solve()
        assert eps.getConverged() >= nev
        lams = np.sort([eps.getEigenvalue(i).real for i in range(eps.getConverged())])[:nev]
        factor = eps.getST().getKSP().getPC().getFactorMatrix()
        controls = (factor.getMumpsIcntl(35), factor.getMumpsCntl(7), factor.getMumpsIcntl(22))
    return lams, controls


def mumps_keys() -> list[str]:
    return [key for key in PETSc.Options().getAll() if "mat_mumps" in key]


def solve(A: PETSc.Mat, *, prefix: str) -> tuple[np.ndarray, tuple]:
    """Solve ``A x = 1`` by :func:`fem_homog.fem.petsc.direct_solver`; the solution and the factor's controls."""
    with fp.direct_solver(A, prefix=prefix, problem="test system") as solver:
        b = A.createVecLeft()
        b.set(1.0)
        x, _ = solver.solve(b)
        F = solver.ksp.getPC().getFactorMatrix()
        controls = (F.getMumpsIcntl(35), F.getMumpsCntl(7), F.getMumpsIcntl(22), F.getMumpsIcntl(37))
        return x.getArray().copy(), controls


@pytest.mark.parametrize("kwargs,argument", [
    ({"blr_tolerance": -1e-6}, "blr_tolerance"), ({"blr_tolerance": 1.5}, "blr_tolerance"),
    ({"blr_tolerance": math.nan}, "blr_tolerance"), ({"blr_tolerance": "1e-6"}, "blr_tolerance"),
    ({"blr_tolerance": True}, "blr_tolerance"), ({"out_of_core": "yes"}, "out_of_core"),
    ({"ooc_tmpdir": "."}, "ooc_tmpdir"), ({"out_of_core": True, "ooc_tmpdir": "/no/such/dir"}, "ooc_tmpdir"),
    ({"memory_relaxation": -5}, "memory_relaxation"), ({"memory_relaxation": 2.5}, "memory_relaxation"),
])
def test_bad_values_are_refused_naming_the_argument(kwargs, argument):
    with pytest.raises(InputError) as err:
        MumpsOptions(**kwargs)
    assert err.value.argument == argument and str(err.value).startswith(argument)


def test_default_leaves_the_factorization_unchanged():
    """Outside any block, and inside a block of default options, the factor is exact and in core, and nothing is
    left in the options database."""
    A = laplacian(6)
    outside, controls = solve(A, prefix="mumpstest_")
    assert controls[:3] == (0, 0.0, 0)
    with mumps_options(MumpsOptions()) as report:
        inside, controls_inside = solve(A, prefix="mumpstest_")
        assert mumps_keys() == []
    assert controls_inside == controls
    assert np.array_equal(inside, outside)
    assert len(report.factorizations) == 1 and not report.factorizations[0].blr


def test_options_reach_linear_solver_factor_and_leave_with_the_block():
    A = laplacian(6)
    with mumps_options(MumpsOptions(blr_tolerance=1e-7, memory_relaxation=50)):
        _, controls = solve(A, prefix="mumpstest_")
        assert PETSc.Options().getInt("mumpstest_mat_mumps_icntl_14") == 50
    assert controls == (2, 1e-7, 0, 1)
    assert mumps_keys() == []
    _, after = solve(A, prefix="mumpstest_")
    assert after[:2] == (0, 0.0)


def test_an_option_the_user_set_wins_and_stays():
    A = laplacian(6)
    database = PETSc.Options()
    database["mumpsuser_mat_mumps_cntl_7"] = "1e-5"
    try:
        with mumps_options(MumpsOptions(blr_tolerance=1e-9)):
            _, controls = solve(A, prefix="mumpsuser_")
        assert controls[:2] == (2, 1e-5)
        assert database.getReal("mumpsuser_mat_mumps_cntl_7") == 1e-5
    finally:
        database.delValue("mumpsuser_mat_mumps_cntl_7")


@pytest.mark.parametrize("tol", [1e-10, 1e-6])
def test_blr_shift_and_invert_eigenvalues_match_the_closed_form(tol):
    """The ST's factor is BLR with CNTL(7) = tol, and the eigenvalues stay within ~tol of the exact ones (the full-rank
    factor gives them to round-off)."""
    n = 16
    exact = exact_lowest(n, 4)
    full, controls = lowest_eigenvalues(laplacian(n), nev=4)
    assert controls == (0, 0.0, 0)
    assert np.abs(full / exact - 1).max() < 1e-11
    with mumps_options(MumpsOptions(blr_tolerance=tol)) as report:
        blr, controls = lowest_eigenvalues(laplacian(n), nev=4)
    assert controls == (2, tol, 0)
    assert np.abs(blr / exact - 1).max() < 30 * tol
    assert report.factorizations[0].blr and report.factorizations[0].size == n**3


def test_blr_compresses_a_large_enough_3d_factor():
    """On a 28³ grid BLR at 1e-6 stores fewer factor entries than the full-rank LU (INFOG(35)
    against INFOG(29)), and the solution moves by about the tolerance only."""
    A = laplacian(28)
    exact, _ = solve(A, prefix="mumpstest_")
    with mumps_options(MumpsOptions(blr_tolerance=1e-6)) as report:
        x, controls = solve(A, prefix="mumpstest_")
    stats = report.factorizations[0]
    assert controls[0] == 2 and stats.blr
    assert stats.factor_entries < 0.95 * stats.factor_entries_full_rank
    assert stats.compression == stats.factor_entries / stats.factor_entries_full_rank
    assert 0 < np.linalg.norm(x - exact) / np.linalg.norm(exact) < 1e-4
    assert stats.null_pivots == 0 and stats.used_mb > 0


def test_out_of_core_gives_the_same_solution(tmp_path):
    A = laplacian(10)
    in_core, _ = solve(A, prefix="mumpstest_")
    with mumps_options(MumpsOptions(out_of_core=True, ooc_tmpdir=str(tmp_path))) as report:
        with fp.direct_solver(A, prefix="mumpstest_", problem="test system") as solver:
            b = A.createVecLeft()
            b.set(1.0)
            x, _ = solver.solve(b)
            assert solver.ksp.getPC().getFactorMatrix().getMumpsIcntl(22) == 1
            assert os.listdir(tmp_path)  # the factor files are there while the factor lives
    assert report.factorizations[0].out_of_core
    assert np.linalg.norm(x.getArray() - in_core) < 1e-12 * np.linalg.norm(in_core)


def test_pep_shift_and_invert_and_refinement_get_the_options():
    """The quadratic ``(A − Ω² I) x = 0``: BLR in the PEP's ST (read back) and under the refinement prefix while the
    block lasts; Ω² equals the lowest Laplacian eigenvalue."""
    n = 8
    A, I, Z = laplacian(n), identity(n**3), identity(n**3)
    Z.scale(0.0)
    I.scale(-1.0)
    with mumps_options(MumpsOptions(blr_tolerance=1e-10)):
        with fp.polynomial_eigensolver([A, Z, I], nev=1, target=0.5, tol=1e-10, refine=True,
                                       prefix="mumpspep_") as pep:
            assert PETSc.Options().getReal("mumpspep_pep_refine_mat_mumps_cntl_7") == 1e-10
            pep.solve()
            omega = pep.getEigenpair(0)
            factor = pep.getST().getKSP().getPC().getFactorMatrix()
            assert (factor.getMumpsIcntl(35), factor.getMumpsCntl(7)) == (2, 1e-10)
    assert mumps_keys() == []
    assert abs(omega**2 / exact_lowest(n, 1)[0] - 1) < 1e-8


def test_maxwell_bloch_bands_with_blr_match_the_full_rank_factor(cell_factory):
    """The vector Maxwell eigenproblem (mixed Kikuchi pencil, EPS shift-and-invert under the ``bloch_`` prefix) on a
    coarse sphere cell: the options reach its ST's factor and BLR at 1e-8 moves no band by more than ~1e-8."""
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.25}, 0.3, 2)
    problem = MaxwellBlochProblem.from_cell(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(11.56))],
                                            degree=1)
    k = [np.pi, 0.0, 0.0]
    with mumps_options(MumpsOptions()) as report:
        full = problem.solve(k, nev=6).omegas.real
    assert not report.factorizations[0].blr
    with mumps_options(MumpsOptions(blr_tolerance=1e-8)) as report:
        blr = problem.solve(k, nev=6).omegas.real
    stats = report.factorizations[0]
    assert stats.blr and stats.size == problem.emap.num_reduced_global + problem.emap_W.num_reduced_global
    assert np.abs(blr / full - 1).max() < 1e-7


def test_a_failed_shift_and_invert_factorization_is_a_solver_error():
    """A MUMPS failure inside an eigensolve (here forced by a 1 MB working-memory cap, ICNTL(23)) is a
    SolverError naming INFOG(1), not a PETSc traceback."""
    A = laplacian(12)
    B = identity(A.getSize()[0])
    database = PETSc.Options()
    database["bloch_st_mat_mumps_icntl_23"] = "1"
    try:
        with pytest.raises(SolverError, match=r"MUMPS INFOG\(1\) = -"):
            with fp.generalized_eigensolver(A, B, nev=2, shift=0.0, tol=1e-12) as eps:
                eps.solve()
    finally:
        database.delValue("bloch_st_mat_mumps_icntl_23")
