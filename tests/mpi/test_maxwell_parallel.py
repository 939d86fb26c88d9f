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
    sols = [MaxwellBlochProblem.from_cell(_cell(comm), phases).solve([1.2, 0.3, 0.0], nev=4, target=4.0)
            for comm in (MPI.COMM_WORLD, MPI.COMM_SELF)]
    assert sols[0].filtered == sols[1].filtered and len(sols[0].pairs) >= 2
    assert np.allclose(sols[0].omegas, sols[1].omegas, rtol=1e-8)


def _centroids_and_tags(cell) -> tuple[np.ndarray, np.ndarray]:
    """All cells' centroids (lexicographic order) and phase tags, gathered on every rank."""
    mesh = cell.mesh
    n = mesh.topology.index_map(3).size_local
    centroids = mesh.geometry.x[mesh.geometry.dofmaps[0][:n]].mean(axis=1)
    tags = np.zeros(n, dtype=np.int32)
    tags[cell.cell_tags.indices] = cell.cell_tags.values
    centroids = np.concatenate(mesh.comm.allgather(centroids))
    tags = np.concatenate(mesh.comm.allgather(tags))
    order = np.lexsort(centroids.T)
    return centroids[order], tags[order]


def test_refined_cell_is_periodic_and_rank_independent():
    """``refine = 1`` on a 3D cell over 2 ranks (red refinement, meshing.py): the entity maps of P1, N1curl and RT
    accept it (dolfinx's Plaza refinement split the two copies of a periodic face differently on this cell, which
    the N1curl map refused) and count the vertices, edges and faces of the periodic mesh with Euler characteristic
    V − E + F − C = 0 (a 3-torus); the P1 entity P equals the node P; the cells and tags equal the serial ones."""
    cell = mesh_cell(geometry_from_config(SPHERE), h=0.3, order=1, refine=1, comm=MPI.COMM_WORLD)
    counts = {}
    for family in ("Lagrange", "N1curl", "RT"):
        V = dolfinx.fem.functionspace(cell.mesh, (family, 1))
        emap = prolongation.periodic_entity_map(V)
        counts[family] = emap.num_reduced_global
        if family == "Lagrange":
            P_nodes = periodic.prolongation(periodic.periodic_map(V), k=[0.3, -1.2, 2.0])
            P_entities = prolongation.prolongation(emap, k=[0.3, -1.2, 2.0])
            P_entities.axpy(-1.0, P_nodes)
            assert P_entities.norm() < 1e-12 * P_nodes.norm()
    num_cells = cell.mesh.topology.index_map(3).size_global
    assert counts["Lagrange"] - counts["N1curl"] + counts["RT"] - num_cells == 0
    serial = mesh_cell(geometry_from_config(SPHERE), h=0.3, order=1, refine=1, comm=MPI.COMM_SELF)
    (x_par, tags_par), (x_ser, tags_ser) = _centroids_and_tags(cell), _centroids_and_tags(serial)
    assert len(x_par) == len(x_ser) == num_cells
    assert np.allclose(x_par, x_ser, atol=1e-13) and np.array_equal(tags_par, tags_ser)


def test_band_driver_k_groups_equal_serial(tmp_path):
    """``drivers/band_diagram.py --k-groups 2`` on a coarse cubic crystal (vector Maxwell, this process, the
    command-line contract): each rank solves its chunk of Γ–X–M–R, and the diagram equals the sweep of the same
    config on one rank alone to 1e-8, with the same kernel counts."""
    import importlib.util
    import json
    from pathlib import Path

    from fem_homog.cli.cells import mesh_from_config
    from fem_homog.cli.driver import resolve, run_driver
    from fem_homog.cli.materials import phases_from_config
    from fem_homog.cli.photonics import band_path_from_config, problem_from_config
    from fem_homog.photonics.bands import sweep_bands

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("band_diagram_mpi", root / "drivers" / "band_diagram.py")
    driver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(driver)
    settings = ["physics.equation='maxwell'", "cell.lattice='cubic'", "cell.dim=3", "cell.shape='sphere'",
                "cell.radius=0.25", "material.inclusion=11.56", "mesh.h=0.3", "fe.degree=1", "bands.path='GXMR'",
                "bands.points_per_segment=1", "bands.num_bands=4", "output.plot=false"]
    out = Path(MPI.COMM_WORLD.bcast(str(tmp_path) if MPI.COMM_WORLD.rank == 0 else None))
    argv = [arg for s in settings for arg in ("--set", s)] + ["--k-groups", "2", "--out", str(out)]
    assert run_driver(driver.main, driver.DEFAULTS, "band_diagram", argv=argv, flags=driver.FLAGS) == 0
    grouped = json.loads((out / "results.json").read_text())
    config = resolve(driver.DEFAULTS, overrides=settings)
    geometry = driver.geometry_from_config(config["cell"], crystals=True)
    cell = mesh_from_config(geometry, config["mesh"], comm=MPI.COMM_SELF)
    problem = problem_from_config("maxwell", cell, phases_from_config(config["material"]), degree=1)
    serial = sweep_bands(problem, band_path_from_config(config["bands"], geometry), num_bands=4)
    assert grouped["k_groups"] == 2 and grouped["ranks"] == 2
    assert np.allclose([[complex(*w) for w in ws] for ws in grouped["omega_a_over_2pi_c"]],
                       [p.omega for p in serial.points], rtol=1e-8, atol=1e-12)
    assert grouped["filtered"] == [p.filtered for p in serial.points]
