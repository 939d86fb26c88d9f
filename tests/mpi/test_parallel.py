"""Run with ``mpiexec -n 2 python -m pytest tests/mpi``: the same cell solved on all ranks (COMM_WORLD) and on
each rank alone (COMM_SELF) must give the same tensors to 1e-10; the constraint must work when slaves and their
masters live on different ranks."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.fem.coefficients import lame, phase_function
from fem_homog.fem.periodic import periodic_map, prolongation
from fem_homog.statics import correctors

import dolfinx.fem
import dolfinx.mesh

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

CASES = [
    ({"dim": 2, "shape": "circle", "radius": 0.3}, 0.05, 2, "conductivity"),
    ({"dim": 2, "shape": "ellipse", "semi_axes": [0.3, 0.15], "angle": 25.0}, 0.05, 2, "conductivity"),
    ({"dim": 2, "shape": "circle", "radius": 0.3}, 0.1, 2, "elasticity"),
    ({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.2, 1, "conductivity"),
    ({"dim": 3, "shape": "cube", "side": 0.5}, 0.25, 1, "elasticity"),
    ({"dim": 2, "shape": "circle", "radius": 0.3}, 0.1, (1, 2), "conductivity"),  # (order, refinements)
    ({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.2, (1, 1), "conductivity"),
    ({"lattice": "hexagonal", "shape": "circle", "radius": 0.35}, 0.05, 2, "conductivity"),
]


def tensor(table, h, order, problem, comm):
    order, refine = order if isinstance(order, tuple) else (order, 0)
    cell = mesh_cell(geometry_from_config(table), h=h, order=order, refine=refine, comm=comm)
    if problem == "conductivity":
        A = phase_function(cell.mesh, cell.cell_tags, {MATRIX: 1.0, INCLUSION: 10.0})
        return correctors.conductivity(cell, A, degree=2).tensor
    (l1, m1), (l2, m2) = lame(1.0, 0.3), lame(10.0, 0.2)
    lmbda = phase_function(cell.mesh, cell.cell_tags, {MATRIX: l1, INCLUSION: l2})
    mu = phase_function(cell.mesh, cell.cell_tags, {MATRIX: m1, INCLUSION: m2})
    return correctors.elasticity(cell, lmbda, mu, degree=2).tensor


@pytest.mark.parametrize("table,h,order,problem", CASES,
                         ids=[f"{c[0]['shape']}-{c[3]}-{c[2]}" for c in CASES])
def test_serial_equals_parallel(table, h, order, problem):
    parallel = tensor(table, h, order, problem, MPI.COMM_WORLD)
    serial = tensor(table, h, order, problem, MPI.COMM_SELF)
    # Refined meshes too: 3D cells are refined red, the same mesh on any number of ranks (2e-11 observed).
    assert np.abs(parallel - serial).max() < 1e-10 * np.abs(serial).max()


def test_slaves_and_masters_on_different_ranks():
    """Global multiplicities are right and some slave rows point to columns owned by another rank."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.05, order=2)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 2))
    pmap = periodic_map(V)
    P = prolongation(pmap)
    lo, hi = P.getOwnershipRangeColumn()
    cols = P.getValuesCSR()[1]
    remote = MPI.COMM_WORLD.allreduce(int(np.count_nonzero((cols < lo) | (cols >= hi))))
    assert remote > 0
    mult = P.transposeMatMult(P).getDiagonal().getArray().real
    counts = {m: MPI.COMM_WORLD.allreduce(int(np.count_nonzero(np.isclose(mult, m)))) for m in (1, 2, 4)}
    assert counts[4] == 1
    assert sum(counts.values()) == pmap.num_reduced_global


def test_non_periodic_mesh_fails_on_every_rank():
    mesh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 8, 8)
    x = mesh.geometry.x
    right = np.flatnonzero(np.isclose(x[:, 0], 1.0) & (x[:, 1] > 0.1) & (x[:, 1] < 0.9))
    if len(right):
        x[right[0], 1] += 0.01
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    with pytest.raises(InputError, match="not periodic"):
        periodic_map(V)


def test_bloch_bands_serial_equals_parallel():
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.materials import Phase, constant, drude

    for inclusion, target in ((constant(8.9), 0.5), (drude(1.0, 6.0, 0.1), 3.0)):
        values = []
        for comm in (MPI.COMM_WORLD, MPI.COMM_SELF):
            cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.1, order=2,
                             comm=comm)
            problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, inclusion)],
                                   polarization="TM", degree=2)
            values.append(problem.solve([1.0, 0.5], nev=4, target=target).omegas[:3])
        assert np.allclose(values[0], values[1], rtol=1e-9)


def test_a_failing_k_group_ends_every_rank_with_its_message():
    """Issue 12: a solver failure inside one k-group (the other group healthy) ends every rank with that
    group's error, never a rank left waiting in the gather of the results. A hang would block the run: the
    watchdog dumps the stacks and exits after 120 s instead."""
    import faulthandler

    from fem_homog.core.errors import SolverError
    from fem_homog.photonics.bands import KGroups, k_path, sweep_bands
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.materials import Phase, constant

    faulthandler.dump_traceback_later(120, exit=True)
    try:
        groups = KGroups.split(MPI.COMM_WORLD, 2)
        cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.2, order=2,
                         comm=groups.comm)
        problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))])
        if groups.index == 1:
            def fail(k, **kwargs):
                raise SolverError("injected failure in k-group 1")

            problem.solve = fail
        with pytest.raises(SolverError, match="^injected failure in k-group 1$"):
            sweep_bands(problem, k_path("GXM", 3, 2), num_bands=2, groups=groups)
        MPI.COMM_WORLD.barrier()
    finally:
        faulthandler.cancel_dump_traceback_later()


def test_continued_dispersive_sweep_serial_equals_parallel():
    """Issue 15: the continued Drude sweep (the brackets and shifts decided from distributed solves) gives the
    same bands and the same methods on two ranks as on one."""
    from fem_homog.core.units import TWO_PI
    from fem_homog.photonics.bands import k_path, sweep_bands
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.materials import Phase, constant, drude

    results = []
    for comm in (MPI.COMM_WORLD, MPI.COMM_SELF):
        cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.1, order=2,
                         comm=comm)
        problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, TWO_PI, 0.1))])
        diagram = sweep_bands(problem, k_path("GXM", 3, 2), num_bands=3, target=2.0)
        results.append((np.array([p.omega for p in diagram.points]), [p.method for p in diagram.points]))
    assert np.allclose(results[0][0], results[1][0], rtol=1e-9)
    assert results[0][1] == results[1][1] and "continued" in results[0][1]
