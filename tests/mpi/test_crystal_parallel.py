"""Run with ``mpiexec -n 2 python -m pytest tests/mpi``: finite crystals and envelopes solved on all ranks agree
with the same problems solved on each rank alone; the point source is added once; point evaluation returns
every rank's own points in order."""

import math

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.crystal_mesh import mesh_box, mesh_crystal, tile_crystal
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cli.cells import geometry_from_config
from fem_homog.fem.evaluation import interpolate_values, point_values
from fem_homog.photonics import crystal, green1d, materials
from fem_homog.photonics.helmholtz import PointSource, load_vector
from fem_homog.photonics.materials import Phase

import dolfinx.fem

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

PROBES = np.array([[0.7, 0.4], [1.5, 1.5], [2.2, 0.9], [-0.3, 2.8], [3.1, 3.2]])


def full_wave_probes(comm: MPI.Comm, polarization: str, tiled: bool = False) -> np.ndarray:
    geo = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2})
    if tiled:
        cm = tile_crystal(geo, (3, 3), margin=0.5, pml_width=0.5, h=0.1, comm=comm)
    else:
        cm = mesh_crystal(geo, (3, 3), margin=0.5, pml_width=0.5, h=0.2, h_crystal=0.1, source=(1.5, 1.5),
                          h_source=0.05, comm=comm)
    phases = [Phase(MATRIX, materials.constant(1.0)), Phase(INCLUSION, materials.drude(1.0, 2 * math.pi, 0.1))]
    sol = crystal.solve_full_wave(cm, 2 * math.pi * 0.4, PointSource((1.5, 1.5)), phases=phases,
                                  polarization=polarization)
    return point_values(sol.u, PROBES)


@pytest.mark.parametrize("polarization,tiled", [("TM", False), ("TE", False), ("TM", True)])
def test_full_wave_serial_equals_parallel(polarization, tiled):
    parallel = full_wave_probes(MPI.COMM_WORLD, polarization, tiled)
    serial = full_wave_probes(MPI.COMM_SELF, polarization, tiled)
    assert np.abs(parallel - serial).max() < 1e-10 * np.abs(serial).max()


def envelope_probes(comm: MPI.Comm) -> np.ndarray:
    box = mesh_box([-3.0, -3.0], [3.0, 3.0], pml_width=1.5, h=0.25, source=(0.0, 0.0), h_source=0.1, comm=comm)
    f = crystal.solve_envelope(box, np.diag([1.0 + 0.1j, -0.8]), 1.0 + 0.2j, PointSource((0.0, 0.0), 0.5j)).u
    return point_values(f, PROBES - 1.5)


def test_envelope_serial_equals_parallel():
    parallel, serial = envelope_probes(MPI.COMM_WORLD), envelope_probes(MPI.COMM_SELF)
    assert np.abs(parallel - serial).max() < 1e-10 * np.abs(serial).max()


def test_point_source_added_once():
    """Lagrange basis functions sum to one: the assembled point load sums to the amplitude on any partition."""
    box = mesh_box([0.0, 0.0], [2.0, 2.0], pml_width=0.5, h=0.2)
    V = dolfinx.fem.functionspace(box.mesh, ("Lagrange", 2))
    for position in ((1.0, 1.0), (0.37, 1.61), (1.99, 0.02)):
        b = load_vector(V, PointSource(position, 2.0 - 1.0j))
        assert abs(b.sum() - (2.0 - 1.0j)) < 1e-12
        b.destroy()


def test_point_values_return_each_ranks_points():
    box = mesh_box([0.0, 0.0], [2.0, 2.0], pml_width=0.5, h=0.2)
    V = dolfinx.fem.functionspace(box.mesh, ("Lagrange", 1))
    u = interpolate_values(V, lambda x: 1.0 + 2.0 * x[:, 0] - 3.0j * x[:, 1])
    rng = np.random.default_rng(MPI.COMM_WORLD.rank)
    points = rng.uniform(-0.4, 2.4, size=(50 + 17 * MPI.COMM_WORLD.rank, 2))
    values = point_values(u, points)
    assert np.abs(values - (1.0 + 2.0 * points[:, 0] - 3.0j * points[:, 1])).max() < 1e-12


def test_stack_in_parallel_matches_exact():
    geo = geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.4})
    omega, xs, inclusion = 2 * math.pi * 0.45, 4.3, materials.drude(1.0, 2 * math.pi, 0.05)
    cm = mesh_crystal(geo, (10,), margin=0.5, pml_width=1.0, h=0.05, source=(xs,))
    vacuum = materials.constant(1.0)
    phases = [Phase(MATRIX, vacuum), Phase(INCLUSION, inclusion)]
    sol = crystal.solve_full_wave(cm, omega, PointSource((xs,)), phases=phases)
    stack = green1d.laminate_stack(10, 0.4, phases, omega, "TM")
    exact = interpolate_values(sol.u.function_space, lambda x: green1d.green(stack, omega, xs, x[:, 0]))
    physical = crystal.region_indicator(cm.mesh, lambda x: np.abs(x[:, 0] - 5.0) <= 5.5)
    assert crystal.relative_l2_error(sol.u, exact, physical) < 2e-5


def test_reconstruct_and_demodulate_in_parallel():
    """u = f U₀ with U₀ on a distributed periodic cell; demodulation returns the affine f at cell centres."""
    from fem_homog.cells.meshing import mesh_cell

    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.05, order=2)
    U = interpolate_values(dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 2)),
                           lambda x: np.sin(np.pi * x[:, 0]) * np.cos(2 * np.pi * x[:, 1]))
    cm = mesh_crystal(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), (4, 3), margin=0.5,
                      pml_width=0.5, h=0.2, h_crystal=0.1)
    macro = mesh_box(cm.lower, cm.upper, pml_width=0.5, h=0.25)
    f = interpolate_values(dolfinx.fem.functionspace(macro.mesh, ("Lagrange", 1)),
                           lambda x: 1.0 + 0.2 * x[:, 0] - 0.1j * x[:, 1])
    u = crystal.reconstruct(dolfinx.fem.functionspace(cm.mesh, ("Lagrange", 2)), [(f, U, (np.pi, 0.0))])
    centres, f_h = crystal.demodulate(u, U, (np.pi, 0.0), cm)
    assert np.abs(f_h - (1.0 + 0.2 * centres[:, 0] - 0.1j * centres[:, 1])).max() < 5e-3


def supercell_numbers(comm: MPI.Comm) -> np.ndarray:
    from fem_homog.cells.meshing import mesh_cell
    from fem_homog.photonics.bloch import BlochProblem
    from fem_homog.photonics.envelope_study import drive
    from fem_homog.photonics.hfh import Selection, hfh_at_point
    from fem_homog.photonics.supercell import supercell_errors

    geo = geometry_from_config({"shape": "square", "side": 0.5})
    phases = [Phase(MATRIX, materials.constant(1.0)),
              Phase(INCLUSION, materials.drude(1.0, 2 * math.pi, 2 * math.pi * 0.01))]
    problem = BlochProblem(mesh_cell(geo, h=0.1, order=2, comm=comm), phases)
    hfh = hfh_at_point(problem, [math.pi, 0.0], Selection(band=1, search_from=2 * math.pi * 0.3))
    r = supercell_errors(problem, hfh, [drive(hfh.omega0, 0.02)], size=4, block=(3, 2), position=(3.1, 4.2))
    return np.array([r.error_l2[0], r.norm_l2[0], *r.amplitude_factor])


def test_supercell_study_serial_equals_parallel():
    """The Floquet–Bloch supercell errors (one MUMPS solve per q on the distributed cell) equal the serial ones."""
    parallel = supercell_numbers(MPI.COMM_WORLD)
    serial = supercell_numbers(MPI.COMM_SELF)
    assert np.allclose(parallel, serial, rtol=1e-8), (parallel, serial)
