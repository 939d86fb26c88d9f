"""Run with ``mpiexec -n 2``: HFH tensors of a dispersive crystal on all ranks equal those on one rank (the
bordered corrector system has its border rows on the last rank; the eigenvector's phase is normalised)."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.hfh import Selection, hfh_at_point
from fem_homog.photonics.materials import DispersiveModel, Phase, constant

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")


def drude_rods_tensor(comm, point, band):
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "square", "side": 0.5}), h=0.1, order=2, comm=comm)
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, DispersiveModel(1.0, drude=((2 * np.pi, 0.3),)))]
    problem = BlochProblem(cell, phases, polarization="TM", degree=2)
    return hfh_at_point(problem, point, Selection(band=band, search_from=0.3))


@pytest.mark.parametrize("point,band", [([np.pi, 0.0], 1), ([np.pi, np.pi], 1)])
def test_serial_equals_parallel(point, band):
    parallel = drude_rods_tensor(MPI.COMM_WORLD, point, band)
    serial = drude_rods_tensor(MPI.COMM_SELF, point, band)
    assert parallel.case == serial.case == "simple"
    assert abs(parallel.omegas[0] - serial.omegas[0]) < 1e-9 * abs(serial.omegas[0])
    assert np.allclose(parallel.T, serial.T, rtol=1e-7, atol=1e-9 * np.abs(serial.T).max())
    assert parallel.solvability_multiplier < 1e-8


def test_one_dimensional_stack_serial_equals_parallel():
    """1D cells are split between ranks too (the periodic map finds the cell boundary geometrically)."""
    def tensor(comm):
        cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.3}), h=0.02, comm=comm)
        phases = [Phase(MATRIX, constant(4.0)), Phase(INCLUSION, DispersiveModel(1.0, drude=((8.0, 0.3),)))]
        problem = BlochProblem(cell, phases, polarization="TE", degree=2)
        return hfh_at_point(problem, [np.pi], Selection(band=1, search_from=0.5)).T

    assert np.allclose(tensor(MPI.COMM_WORLD), tensor(MPI.COMM_SELF), rtol=1e-8)


def test_symmetric_mesh_and_hermitian_correctors_serial_equals_parallel():
    """The symmetric mesh (built on rank 0, distributed) and the Hermitian bordered system of a point off the
    zone edges: the triangular lattice's K, band 1 (simple) and bands 2–3 (Dirac pair), serial = parallel."""
    from fem_homog.cells.lattice import named_point
    from fem_homog.cells.symmetric_mesh import symmetric_cell

    geo = geometry_from_config({"lattice": "hexagonal", "shape": "circle", "radius": 0.2})
    K = named_point("K", geo.lattice_vectors)

    def models(comm):
        problem = BlochProblem(symmetric_cell(geo, h=0.1, order=2, comm=comm),
                               [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))])
        return [hfh_at_point(problem, K, Selection(band=band)) for band in (1, 2)]

    (simple, dirac), (simple_1, dirac_1) = models(MPI.COMM_WORLD), models(MPI.COMM_SELF)
    assert simple.case == simple_1.case == "simple" and dirac.case == dirac_1.case == "repeated"
    assert np.allclose(simple.T, simple_1.T, rtol=1e-8)
    assert abs(dirac.omegas[1] ** 2 - dirac.omegas[0] ** 2) < 1e-12 * abs(dirac.omegas[0] ** 2)
    assert np.allclose(dirac.slopes([1.0, 0.0]), dirac_1.slopes([1.0, 0.0]), rtol=1e-8)
