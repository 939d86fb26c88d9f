"""Run with ``mpiexec -n 2``: a failure on one rank only ends every rank with the message, never a hang
(issue 12, item 4).

Failures are injected on rank 0 only (the rank-0 steps: gmsh meshing, writing ``results.json``, drawing a plot)
or on rank 1 only (rank-local work checked with :func:`~fem_homog.core.parallel.agreed`); every test then makes a
collective call, which would block forever if the ranks disagreed, and carries a timeout that kills the run
instead (``method="thread"``: a rank blocked inside MPI never returns to Python for a signal).
"""

import json

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells import meshing
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.cli.driver import run_driver
from fem_homog.core.errors import InputError, SolverError
from fem_homog.core.parallel import PeerError, agree, agreed, on_root
from fem_homog.output import plotting
from fem_homog.output.results import write_results

import dolfinx.fem

pytestmark = [pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more"),
              pytest.mark.timeout(60, method="thread")]

COMM = MPI.COMM_WORLD
CELL = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3})


def fail_on(rank: int, error: Exception):
    """A step that raises ``error`` on ``rank`` only."""
    def step(*args, **kwargs):
        if COMM.rank == rank:
            raise error
    return step


def still_in_step() -> None:
    """Every rank reaches the next collective call together."""
    assert COMM.allreduce(1) == COMM.size


def test_on_root_broadcasts_result_or_error():
    assert on_root(COMM, lambda: COMM.rank + 41) == 41
    assert on_root(COMM, lambda: "only here", broadcast=False) == ("only here" if COMM.rank == 0 else None)
    with pytest.raises(InputError, match="bad h"):
        on_root(COMM, fail_on(0, InputError("bad h")))
    still_in_step()


@pytest.mark.parametrize("error, kind", [(InputError("bad key"), InputError), (SolverError("no convergence"),
                                                                              SolverError)])
def test_agree_raises_the_same_kind_everywhere(error, kind):
    with pytest.raises(kind, match=str(error)):
        with agreed(COMM):
            fail_on(1, error)()
    still_in_step()


def test_unexpected_error_names_the_failing_rank():
    with pytest.raises(ZeroDivisionError if COMM.rank == 1 else PeerError) as info:
        agree(COMM, ZeroDivisionError("boom") if COMM.rank == 1 else None)
    if COMM.rank != 1:
        assert "rank 1 of 2 failed: ZeroDivisionError: boom" in str(info.value)
    still_in_step()


def test_gmsh_failure_on_rank_0_stops_every_rank(monkeypatch):
    """An exception while rank 0 meshes (gmsh) reaches every rank; the next mesh works."""
    monkeypatch.setattr(meshing, "_mesh_on_root", fail_on(0, RuntimeError("gmsh: meshing failed")))
    with pytest.raises(RuntimeError if COMM.rank == 0 else PeerError, match="gmsh: meshing failed"):
        mesh_cell(CELL, h=0.2)
    monkeypatch.undo()
    cell = mesh_cell(CELL, h=0.2)
    assert cell.mesh.topology.index_map(2).size_global > 0


def test_results_that_rank_0_cannot_write_stop_every_rank(tmp_path):
    with pytest.raises(OSError if COMM.rank == 0 else PeerError):
        write_results(tmp_path / "missing" / "folder", {"x": 1.0})
    still_in_step()


def test_results_json_is_strict(tmp_path):
    """NaN and ±inf are written as null (strict JSON, readable by any parser) and listed in a warning."""
    out = COMM.bcast(tmp_path if COMM.rank == 0 else None)
    write_results(out, {"a": [1.0, float("nan")], "b": {"c": float("inf")}, "z": complex(np.nan, 1.0)})
    if COMM.rank == 0:
        text = (out / "results.json").read_text()
        assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in results.json")) == {
            "a": [1.0, None], "b": {"c": None}, "z": [None, 1.0]}


def test_plot_failure_on_rank_0_stops_every_rank(monkeypatch, tmp_path):
    mesh = mesh_cell(CELL, h=0.2).mesh
    u = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1)))
    monkeypatch.setattr(plotting, "_draw", fail_on(0, RuntimeError("no OpenGL")))
    with pytest.raises(RuntimeError if COMM.rank == 0 else PeerError, match="no OpenGL"):
        plotting.plot_fields([u], ["u"], tmp_path / "u.png")
    still_in_step()


def test_driver_exits_on_every_rank(tmp_path, capfd):
    """A driver story whose rank 1 finds bad input (rank-local work) exits 2 on every rank, rank 0 printing the
    one error line; a bug in rank 0's meshing is raised there and ends the other ranks with status 1."""
    out = str(COMM.bcast(tmp_path if COMM.rank == 0 else None))

    def story(config, out):
        with agreed(COMM):
            fail_on(1, InputError("cell.radius is too large for rank 1"))()

    assert run_driver(story, {"cell": {"radius": 0.3}}, "story", argv=["--out", out]) == 2
    err = capfd.readouterr().err
    assert err == ("error: cell.radius is too large for rank 1\n" if COMM.rank == 0 else ""), err

    def meshing_story(config, out):
        mesh_cell(CELL, h=0.2)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(meshing, "_mesh_on_root", fail_on(0, RuntimeError("gmsh: no periodic partner")))
        if COMM.rank == 0:
            with pytest.raises(RuntimeError, match="no periodic partner"):
                run_driver(meshing_story, {}, "story", argv=["--out", out])
        else:
            assert run_driver(meshing_story, {}, "story", argv=["--out", out]) == 1
    still_in_step()
