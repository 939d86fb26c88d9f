"""Run with ``mpiexec -n 2``: complex band structures k(ω) on all ranks equal those on one rank (lossless rods with
zone-edge gap roots, lossy Drude rods, a 1D lossy stack): roots, energy fluxes and branches."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.complex_bands import ComplexBandProblem, sweep_complex_bands
from fem_homog.photonics.materials import Phase, constant, drude

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

CASES = {"rods": ({"shape": "circle", "radius": 0.2}, constant(8.9), [1.0, 0.0], 0.1),
         "drude_rods": ({"shape": "circle", "radius": 0.2}, drude(1.0, 2 * np.pi, 0.02 * 2 * np.pi), [1.0, 0.0], 0.1),
         "stack": ({"dim": 1, "shape": "laminate", "fraction": 0.4}, drude(1.0, 6.0, 0.3), [1.0], 0.02)}


def roots(comm, case):
    table, eps, direction, h = CASES[case]
    cell = mesh_cell(geometry_from_config(table), h=h, order=2 if len(direction) == 2 else 1, comm=comm)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, eps)], polarization="TM")
    cp = ComplexBandProblem(problem, direction)
    return sweep_complex_bands(cp, 2 * np.pi * np.array([0.2, 0.3, 0.4, 0.55]), max_imag_k=3.0, num_modes=8).modes


@pytest.mark.parametrize("case", list(CASES))
def test_serial_equals_parallel(case):
    for parallel, serial in zip(roots(MPI.COMM_WORLD, case), roots(MPI.COMM_SELF, case)):
        assert len(parallel.k) == len(serial.k)
        assert np.allclose(parallel.k, serial.k, rtol=0, atol=1e-9)
        assert np.allclose(parallel.flux, serial.flux, rtol=0, atol=1e-9)
        assert parallel.branch == serial.branch
