"""The iterative Bloch eigensolver (preconditioned generalized Davidson with GAMG, no factorization; theory.md §5)
against the sparse-direct one on the same matrices, and against the exact folded light cone of a homogeneous
cell; its failures are errors."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import InputError, SolverError
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.materials import Phase, constant, drude

SPHERE = {"dim": 3, "shape": "sphere", "radius": 0.3}
CIRCLE = {"dim": 2, "shape": "circle", "radius": 0.3}
AGREEMENT = 1e-10  # relative in λ = Ω², both solvers at tol 1e-10 (observed: 1e-14)


def contrast(eps: float) -> list[Phase]:
    return [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(eps))]


@pytest.mark.parametrize("table, h, k", [
    (SPHERE, 0.15, [0.0, 0.0, 0.0]),
    (SPHERE, 0.15, [1.1, 0.4, 0.2]),
    (SPHERE, 0.15, [1e-4, 0.0, 0.0]),
    (CIRCLE, 0.08, [0.0, 0.0]),
    (CIRCLE, 0.08, [np.pi, 0.7]),
], ids=["3d-gamma", "3d-generic", "3d-near-gamma", "2d-gamma", "2d-generic"])
def test_iterative_equals_direct(cell_factory, table, h, k):
    """Same lowest bands as shift-and-invert with MUMPS, at Γ (singular stiffness: the constant, Ω = 0, is
    deflated), at a generic k, and near Γ (λ ~ 1e-9: a relative convergence test would never be met)."""
    cell = cell_factory(table, h, 2)
    direct = BlochProblem(cell, contrast(11.56), degree=2).solve(k, nev=6)
    iterative = BlochProblem(cell, contrast(11.56), degree=2, solver="iterative").solve(k, nev=6)
    assert len(iterative.pairs) >= 6 and len(direct.pairs) >= 6
    lam_i, lam_d = iterative.omegas[:6].real ** 2, direct.omegas[:6].real ** 2  # λ = Ω²: the direct zero mode
    assert np.allclose(lam_i, lam_d, rtol=AGREEMENT, atol=AGREEMENT * lam_d.max())  # is round-off, λ ~ 1e-14
    assert max(p.residual for p in iterative.pairs) < 1e-8
    if not any(k):
        assert iterative.omegas[0] == 0.0 and iterative.omegas[1].real > 0.1  # one zero mode, then a band


def test_homogeneous_cube_folded_light_cone(cell_factory):
    """ε = 2 everywhere at Γ: Ω = 0 once, then 2π/√2 six times (n = ±e_j), then 2π√2/√2 twelve times."""
    cell = cell_factory({"dim": 3, "shape": "cube", "side": 0.5}, 0.125, 1)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(2.0)), Phase(INCLUSION, constant(2.0))], degree=2,
                           solver="iterative")
    omegas = problem.solve([0.0, 0.0, 0.0], nev=8).omegas.real
    assert omegas[0] == 0.0
    assert np.allclose(omegas[1:7], 2 * np.pi / np.sqrt(2.0), rtol=1e-3)  # P2 at 8 cells per wavelength: 4e-4
    assert np.ptp(omegas[1:7]) < 1e-4 * omegas[1]  # the sixfold degeneracy, kept to 2e-5 by the mesh
    assert omegas[7] == pytest.approx(2 * np.pi, rel=3e-3)  # next shell, |n| = √2: 2π√2/√2


def test_iterative_failures_are_errors(cell_factory):
    """Too few iterations: SolverError (never fewer pairs silently); a target above 0 or a dispersive medium:
    InputError."""
    from petsc4py import PETSc

    cell = cell_factory(SPHERE, 0.15, 2)
    problem = BlochProblem(cell, contrast(11.56), degree=2, solver="iterative")
    options = PETSc.Options()
    options["bloch_iterative_eps_max_it"] = 3
    try:
        with pytest.raises(SolverError, match="did not converge"):
            problem.solve([np.pi, 0.0, 0.0], nev=6)
    finally:
        options.delValue("bloch_iterative_eps_max_it")
    with pytest.raises(InputError, match="target must be 0"):
        problem.solve([np.pi, 0.0, 0.0], nev=6, target=1.0)
    with pytest.raises(InputError, match="solver"):
        BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, 6.0, 0.1))],
                     solver="iterative")
    with pytest.raises(InputError, match="unknown solver"):
        BlochProblem(cell, contrast(2.0), solver="lobpcg")


@pytest.mark.parametrize("table, h, k0, band", [
    (CIRCLE, 0.08, [np.pi, 0.0], 2),
    (SPHERE, 0.15, [np.pi, 0.0, 0.0], 1),
], ids=["2d-X-band2", "3d-X-band1"])
def test_hfh_tensor_iterative_equals_direct(cell_factory, table, h, k0, band):
    """The HFH tensor T from GD + GAMG eigenpairs and GMRES + GAMG bordered corrector solves equals the one
    from MUMPS (same matrices; observed 1e-10 relative)."""
    from fem_homog.photonics.hfh import Selection, hfh_at_point

    cell = cell_factory(table, h, 2)
    direct, iterative = (hfh_at_point(BlochProblem(cell, contrast(8.9), solver=solver), k0, Selection(band=band))
                         for solver in ("direct", "iterative"))
    assert iterative.case == direct.case == "simple"
    assert iterative.omegas[0] == pytest.approx(direct.omegas[0], rel=1e-12)
    assert np.allclose(iterative.T, direct.T, rtol=0, atol=1e-8 * np.abs(direct.T).max())


def test_unconverged_bordered_solve_is_an_error(cell_factory):
    """GMRES stopped after 2 iterations: SolverError, not a corrector of unknown accuracy."""
    from fem_homog.photonics.hfh import Selection, hfh_at_point

    from petsc4py import PETSc

    problem = BlochProblem(cell_factory(CIRCLE, 0.08, 2), contrast(8.9), solver="iterative")
    options = PETSc.Options()
    options["bordered_ksp_max_it"] = 2
    try:
        with pytest.raises(SolverError, match=r"gmres-gamg solve of the bordered corrector system .* did not converge"):
            hfh_at_point(problem, [np.pi, 0.0], Selection(band=1))
    finally:
        options.delValue("bordered_ksp_max_it")
