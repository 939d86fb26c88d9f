"""Run with ``mpiexec -n 2 python -m pytest tests/mpi``: a seed gives the same realization and the same apparent
tensors on one rank and on two, and the ensemble does not depend on how ranks are grouped."""

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.random_media import Medium
from fem_homog.core.errors import InputError, SolverError
from fem_homog.statics import ensemble

pytestmark = pytest.mark.skipif(MPI.COMM_WORLD.size < 2, reason="needs mpiexec -n 2 or more")

WORLD = MPI.COMM_WORLD
VALUES = {MATRIX: 1.0, INCLUSION: 10.0}
BOUNDARIES = ["periodic", "dirichlet", "neumann"]
MEDIA = [Medium("checkerboard", dim=2, fraction=0.5), Medium("disks", dim=2, fraction=0.35),
         Medium("checkerboard", dim=3, fraction=0.5)]
SIZES = {("checkerboard", 2): 4, ("disks", 2): 3, ("checkerboard", 3): 3}


@pytest.mark.parametrize("medium", MEDIA, ids=[f"{m.kind}-{m.dim}d" for m in MEDIA])
def test_same_seed_same_sample_and_tensor_on_1_and_2_ranks(medium):
    """Every rank draws the same sample; tensors of that sample on COMM_SELF and on 2 ranks agree to 1e-8."""
    size = SIZES[medium.kind, medium.dim]
    sample = medium.sample(size, 2, 17)
    data = sample.tags if medium.kind == "checkerboard" else sample.centres
    assert all(np.array_equal(data, other) for other in WORLD.allgather(data))
    disc = ensemble.WindowOptions(cells_per_voxel=1, h=0.15)
    parallel = ensemble.solve_sample(medium, size, 2, 17, VALUES, BOUNDARIES, disc, WORLD)
    serial = ensemble.solve_sample(medium, size, 2, 17, VALUES, BOUNDARIES, disc, MPI.COMM_SELF)
    assert (parallel.cells, parallel.dofs) == (serial.cells, serial.dofs)
    for name in BOUNDARIES:
        P, S = parallel.tensors[name], serial.tensors[name]
        assert np.abs(P - S).max() < 1e-8 * np.abs(S).max()


def test_groups_do_not_change_the_ensemble():
    """Two groups of one rank and one group of two ranks give the same per-sample tensors, in sample order."""
    medium = Medium("disks", dim=2, fraction=0.3)
    disc = ensemble.WindowOptions(h=0.15)
    runs = [ensemble.run(medium, [3], 3, 4, VALUES, BOUNDARIES, disc, groups=g, comm=WORLD) for g in (1, 2)]
    for one, two in zip(*runs):
        assert one.size == two.size and len(one.samples) == 3
        for name in BOUNDARIES:
            assert np.abs(one.tensors[name] - two.tensors[name]).max() < 1e-8


@pytest.mark.timeout(120)
@pytest.mark.parametrize("error", [InputError, SolverError])
def test_failure_in_one_group_raises_on_every_rank(monkeypatch, error):
    """Sample 1 fails on group 1 only (injected): both groups raise the same kind of error with its message,
    instead of group 0 waiting forever in the gather (the timeout turns a hang into a failure)."""
    solve = ensemble.solve_sample

    def failing(medium, size, index, *args, **kwargs):
        if index == 1:
            raise error(f"injected failure in sample {index}")
        return solve(medium, size, index, *args, **kwargs)

    monkeypatch.setattr(ensemble, "solve_sample", failing)
    medium = Medium("checkerboard", dim=2, fraction=0.5)
    with pytest.raises(error, match="injected failure in sample 1"):
        ensemble.run(medium, [4], 3, 4, VALUES, ["periodic"], ensemble.WindowOptions(cells_per_voxel=1),
                     groups=2, comm=WORLD)
