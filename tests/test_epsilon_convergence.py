"""ε-convergence of homogenization (theory.md §2.5): the tiled fine mesh, the exact periodic interpolation of the
correctors, and the fitted error slopes on the torus and on the Dirichlet square."""

import json

import numpy as np
import pytest
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.fem.coefficients import integrate, phase_fractions, phase_function
from fem_homog.statics import correctors, epsilon_study

import dolfinx.fem
import ufl

PHASES = {MATRIX: 1.0, INCLUSION: 10.0}


@pytest.fixture(scope="module")
def cell_and_correctors():
    """Off-centre circle: its corrector χ_1 does not vanish on the cell faces, so the Dirichlet square has a
    boundary layer at leading order."""
    geo = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.25, "centre": [0.3, 0.3]})
    cell = mesh_cell(geo, h=0.125, order=1, comm=MPI.COMM_SELF)
    sol = correctors.conductivity(cell, phase_function(cell.mesh, cell.cell_tags, PHASES), degree=2,
                                  method="mumps")
    return cell, sol


def test_tiled_mesh_is_the_periodic_tiling(cell_and_correctors):
    cell, _ = cell_and_correctors
    mesh, tags = epsilon_study.tiled_mesh(cell, 3)
    n_cell = cell.mesh.topology.index_map(2).size_global
    assert mesh.topology.index_map(2).size_global == 9 * n_cell
    one = dolfinx.fem.Constant(mesh, 1.0 + 0j)
    assert integrate(one * ufl.dx, mesh.comm).real == pytest.approx(1.0, abs=1e-12)
    fine = phase_fractions(mesh, tags, [INCLUSION])[INCLUSION]
    assert fine == pytest.approx(phase_fractions(cell.mesh, cell.cell_tags, [INCLUSION])[INCLUSION], abs=1e-12)


def test_periodic_interpolant_is_exact(cell_and_correctors):
    """∫_Ω χ(x/ε)² dx = ∫_Y χ² dy and ∫_Ω |∇_y χ|² = ∫_Y |∇χ|² when χ(x/ε) is represented exactly."""
    cell, sol = cell_and_correctors
    mesh, _ = epsilon_study.tiled_mesh(cell, 3)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    chi = sol.correctors[0]
    fine = epsilon_study.periodic_interpolant(chi, V, 3)
    assert integrate(fine * ufl.conj(fine) * ufl.dx, mesh.comm).real == pytest.approx(
        integrate(chi * ufl.conj(chi) * ufl.dx, MPI.COMM_SELF).real, rel=1e-12)
    g, g_cell = ufl.grad(fine) / 3.0, ufl.grad(chi)
    assert integrate(ufl.inner(g, g) * ufl.dx, mesh.comm).real == pytest.approx(
        integrate(ufl.inner(g_cell, g_cell) * ufl.dx, MPI.COMM_SELF).real, rel=1e-12)


@pytest.fixture(scope="module")
def slopes(cell_and_correctors):
    cell, sol = cell_and_correctors
    out = {}
    for boundary, N in [("torus", (2, 4, 8)), ("dirichlet", (2, 4, 8, 16, 32))]:
        points = [epsilon_study.epsilon_point(cell, sol.correctors, PHASES, sol.tensor, n, boundary) for n in N]
        out[boundary] = epsilon_study.fitted_slopes(points[:3])
        out[boundary]["local"] = epsilon_study.local_slopes(points)
    return out


def test_torus_rates(slopes):
    """Torus: ‖u − u₀‖_L² = O(ε), ‖∇(u − u₀)‖ = O(1), ‖∇(u − u₁)‖ = O(ε)."""
    s = slopes["torus"]
    assert 0.8 < s["L2_u0"] < 1.5
    assert abs(s["H1_u0"]) < 0.2
    assert 0.85 < s["H1_u1"] < 1.2


def test_dirichlet_boundary_layer_rate(slopes):
    """Dirichlet square: the boundary layer brings ‖∇(u − u₁)‖ down to O(√ε) (pre-asymptotic at N ≤ 8, so
    between ½ and the torus slope, well apart from the latter)."""
    s = slopes["dirichlet"]
    assert abs(s["H1_u0"]) < 0.2
    assert 0.4 < s["H1_u1"] < 0.8
    assert s["H1_u1"] < slopes["torus"]["H1_u1"] - 0.2


def test_dirichlet_local_slopes_decrease_towards_half(slopes):
    """N = 2 … 32: the local H¹(u − u₁) slopes decrease monotonically towards the boundary-layer rate ½ as the
    layer takes over (measured 0.73, 0.68, 0.62, 0.57)."""
    local = np.array(slopes["dirichlet"]["local"]["H1_u1"])
    assert np.all(np.diff(local) < 0), local
    assert np.all(local > 0.5) and local[-1] < 0.6, local


def test_tiling_refuses_curved_cells():
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle"}), h=0.2, order=2, comm=MPI.COMM_SELF)
    with pytest.raises(InputError, match="straight-sided"):
        epsilon_study.tiled_mesh(cell, 2)


def test_driver(run_driver, tmp_path):
    run_driver("epsilon_convergence", ["--set", "study.N=[2, 4]", "--set", "mesh.h=0.25"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    for boundary in ("torus", "dirichlet"):
        assert results[boundary]["N"] == [2, 4]
        assert set(results[boundary]["slopes"]) == set(epsilon_study.ERRORS)
        assert len(results[boundary]["local_slopes"]["H1_u1"]) == 1
        assert np.all(np.diff(results[boundary]["errors"]["H1_u1"]) < 0)  # finer ε, smaller error
    assert (tmp_path / "errors.png").is_file() and (tmp_path / "boundary_layer.png").is_file()


@pytest.mark.parametrize("args,message", [
    (["--set", "study.N=[4]"], "at least two"),
    (["--set", "material.inclusion=1.0"], "must differ"),  # contrast 1: every error is 0, slopes were NaN
])
def test_driver_bad_input(run_driver, tmp_path, args, message):
    proc = run_driver("epsilon_convergence", args, tmp_path, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "results.json").exists()


def test_zero_errors_have_no_slope():
    """Errors that vanish (identical phases) raise instead of giving NaN slopes."""
    from fem_homog.core.errors import SolverError

    points = [epsilon_study.EpsilonPoint(n=n, errors=dict.fromkeys(epsilon_study.ERRORS, 0.0), dofs=1,
                                         iterations=0, u=None, u0=None, u1=None) for n in (2, 4)]
    with pytest.raises(SolverError, match="not all positive"):
        epsilon_study.fitted_slopes(points)
