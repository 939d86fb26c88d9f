"""Run with ``mpiexec -n 2 python -m pytest tests/mpi``: the permeability of a cell solved on all ranks equals the
one solved on each rank alone; the fluid topology check fails the same way on every rank."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.statics import darcy

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

CASES = [
    ({"dim": 2, "shape": "circle", "radius": 0.3}, 0.08, "mumps", 1e-10),
    ({"dim": 2, "shape": "laminate", "fraction": 0.4}, 0.1, "fieldsplit", 1e-8),
    ({"dim": 3, "shape": "sphere", "radius": 0.25}, 0.2, "mumps", 1e-10),
]


def permeability(table, h, method, comm):
    cell = mesh_cell(geometry_from_config(table), h=h, order=2, comm=comm)
    return darcy.permeability(cell, method=method, rtol=1e-10)


@pytest.mark.parametrize("table,h,method,tol", CASES,
                         ids=[f"{c[0]['shape']}-{c[0]['dim']}D-{c[2]}" for c in CASES])
def test_serial_equals_parallel(table, h, method, tol):
    parallel = permeability(table, h, method, MPI.COMM_WORLD)
    serial = permeability(table, h, method, MPI.COMM_SELF)
    scale = np.abs(serial.tensor).max()
    assert np.abs(parallel.tensor - serial.tensor).max() < tol * scale
    assert np.abs(parallel.tensor_dissipation - serial.tensor_dissipation).max() < tol * scale
    assert parallel.solid_fraction == pytest.approx(serial.solid_fraction, abs=1e-12)
    assert len(parallel.blocked_directions) == len(serial.blocked_directions)


def test_blocked_fluid_fails_on_every_rank():
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "checkerboard"}), h=0.1, order=1)
    with pytest.raises(InputError, match="disconnected"):
        darcy.permeability(cell)


@pytest.mark.timeout(120)
def test_failure_in_rank0_windings_raises_on_every_rank(monkeypatch):
    """The winding computation runs on rank 0 only: a failure there (injected) raises on both ranks instead of
    leaving rank 1 waiting in the broadcast."""
    def failing(*args):
        raise RuntimeError("injected winding failure")

    monkeypatch.setattr(darcy, "_windings", failing)
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.1, order=2,
                     comm=MPI.COMM_WORLD)
    with pytest.raises(RuntimeError, match="injected winding failure|rank 0 of 2 failed"):
        darcy.percolation(cell)
