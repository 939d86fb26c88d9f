"""Run with ``mpiexec -n 2 python -m pytest tests/mpi``: vector Maxwell bands (theory.md §11) of a curved sphere
cell distributed over all ranks equal those of the same cell on each rank alone to 1e-8, with the same kernel
counts, constant and lossy Drude; the entity prolongation reproduces the node prolongation of Lagrange spaces
across ranks."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.fem import periodic, prolongation
from fem_homog.photonics.materials import Phase, constant, drude
from fem_homog.photonics.maxwell import MaxwellBlochProblem

import dolfinx.fem

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

SPHERE = {"dim": 3, "shape": "sphere", "radius": 0.3}
PHASES = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(6.0))]


def _cell(comm):
    return mesh_cell(geometry_from_config(SPHERE), h=0.3, order=2, comm=comm)


@pytest.mark.parametrize("degree, points", [(1, ([0.0, 0.0, 0.0], [1.1, -0.4, 2.3])), (2, ([1.1, -0.4, 2.3],))])
def test_maxwell_serial_equals_parallel(degree, points):
    results = {}
    for comm in (MPI.COMM_WORLD, MPI.COMM_SELF):
        problem = MaxwellBlochProblem.from_cell(_cell(comm), PHASES, degree=degree)
        results[comm.size > 1] = [problem.solve(k, nev=6) for k in points]
    for parallel, serial in zip(results[True], results[False]):
        assert parallel.filtered == serial.filtered
        assert np.allclose(parallel.omegas.real, serial.omegas.real, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("degree", [1, 2])
def test_entity_prolongation_equals_node_prolongation_in_parallel(degree):
    V = dolfinx.fem.functionspace(_cell(MPI.COMM_WORLD).mesh, ("Lagrange", degree))
    k = [0.3, -1.2, 2.0]
    P_nodes = periodic.prolongation(periodic.periodic_map(V), k=k)
    P_entities = prolongation.prolongation(prolongation.periodic_entity_map(V), k=k)
    P_entities.axpy(-1.0, P_nodes)
    assert P_entities.norm() < 1e-12 * P_nodes.norm()


def test_lossy_drude_serial_equals_parallel():
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, drude(1.0, 3.0, 0.2))]
    sols = [MaxwellBlochProblem.from_cell(_cell(comm), phases).solve([1.2, 0.3, 0.0], nev=3, target=4.0)
            for comm in (MPI.COMM_WORLD, MPI.COMM_SELF)]
    assert sols[0].filtered == sols[1].filtered and len(sols[0].pairs) >= 2
    assert np.allclose(sols[0].omegas, sols[1].omegas, rtol=1e-8)
