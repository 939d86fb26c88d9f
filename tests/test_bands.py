"""The band-sweep library (theory.md §5.2): band connection by eigenvector overlap at a crossing, resume and
in-memory sweeps through :func:`sweep_bands`, k-groups, the per-k records."""

import json
import shutil

import numpy as np
import pytest
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import InputError
from fem_homog.output.results import jsonable
from fem_homog.photonics.bands import KGroups, KPointBands, connect, connected_bands, k_file, k_path, sweep_bands
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.materials import Phase, constant

# A path across the diagonal of the zone: the folded light lines n = (−1, 0) and n = (0, −1) of a homogeneous
# cell cross in the middle (bands 2 and 3 swap in sorted order); 5 intervals, so no sample is degenerate.
A, B = (2.0, 0.5), (0.5, 2.0)
FOLDS = np.array([(0, 0), (-1, 0), (0, -1)])


def light_lines(k: np.ndarray) -> np.ndarray:
    """``ω a/2πc = |k + 2πn| / 2π`` (ε = 1) of the three lowest folds along the path, one column per fold."""
    return np.linalg.norm(k[:, None, :] + 2 * np.pi * FOLDS[None], axis=2) / (2 * np.pi)


@pytest.fixture(scope="module")
def homogeneous():
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.1, order=2)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(1.0))])
    return problem, k_path([A, B], 5, 2)


def numbers(diagram) -> dict:
    """The diagram's results.json content without its timings."""
    data = jsonable(diagram.to_dict())
    data.pop("timings")
    return data


def assert_same(a, b, path=""):
    """Equal structure and numbers to 1e-12 (relative)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{n}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-300), path
    else:
        assert a == b, path


def test_connect_follows_the_overlap_not_the_order():
    """New band j continues the old band it overlaps most; a band with no predecessor gets −1."""
    overlap = np.array([[0.05, 0.99, 0.00],
                        [0.98, 0.03, 0.10],
                        [0.00, 0.10, 0.97]])
    assert connect(overlap).tolist() == [1, 0, 2]
    assert connect(np.array([[0.1, 0.9, 0.2]])).tolist() == [-1, 0, -1]


def test_connected_bands_through_a_synthetic_crossing():
    """Two straight bands crossing between the second and third k-point: sorted order swaps, the links do not."""
    rising, falling = [1.0, 1.4, 1.8, 2.2], [2.0, 1.6, 1.2, 0.8]
    links = [[0, 1], [0, 1], [1, 0], [0, 1]]
    points = [KPointBands(index=n, k=np.zeros(2), omega=sorted([complex(rising[n]), complex(falling[n])],
                                                                 key=lambda w: w.real),
                          residual=[0.0, 0.0], filtered={}, previous_band=links[n], seconds=0.0)
              for n in range(4)]
    bands = connected_bands(points)
    assert [[w.real for w in band] for band in bands] == [rising, falling]


def test_overlap_connection_at_a_crossing_of_folded_bands(homogeneous):
    """The homogeneous cell along the path: the connected bands are the light lines of the folds n = (−1, 0)
    and (0, −1), which cross; the sorted second frequency is the lower of the two (a 'V')."""
    problem, path = homogeneous
    diagram = sweep_bands(problem, path, num_bands=3)
    exact = light_lines(path.k)
    sorted_omega = np.array([[w.real for w in p.omega] for p in diagram.points])
    assert np.allclose(sorted_omega, np.sort(exact, axis=1), rtol=2e-3)
    bands = [np.array([w.real for w in band]) for band in diagram.bands]
    assert len(bands) == 3
    for band, fold in zip(bands, exact.T):
        assert np.allclose(band, fold, rtol=2e-3)
    assert not np.allclose(sorted_omega[:, 1], exact[:, 1], rtol=2e-2)  # the crossing is really there
    assert [p.previous_band for p in diagram.points][3] == [0, 2, 1]  # the swap happens in the middle


def test_resume_equals_an_uninterrupted_sweep(homogeneous, tmp_path):
    """Half the per-k files present: the resumed sweep solves the rest (and the point before, for its vectors)
    and returns what an uninterrupted sweep returns, to 1e-12; the kept files are not rewritten."""
    problem, path = homogeneous
    full = sweep_bands(problem, path, num_bands=3, store=tmp_path / "full")
    assert sorted(f.name for f in (tmp_path / "full").iterdir()) == [f"k_{i:04d}.json" for i in range(6)]
    partial = tmp_path / "partial"
    shutil.copytree(tmp_path / "full", partial)
    for i in range(3, 6):
        k_file(partial, i).unlink()
    kept = [k_file(partial, i).read_text() for i in range(3)]
    resumed = sweep_bands(problem, path, num_bands=3, store=partial, resume=True)
    assert [k_file(partial, i).read_text() for i in range(3)] == kept
    assert_same(numbers(full), numbers(resumed))
    assert [p.seconds for p in resumed.points[:3]] == [p.seconds for p in full.points[:3]]  # read, not solved
    assert_same(numbers(full), numbers(sweep_bands(problem, path, num_bands=3)))  # in memory, no store
    complete = sweep_bands(problem, path, num_bands=3, store=partial, resume=True)  # nothing left to solve
    assert [p.seconds for p in complete.points] == [p.seconds for p in resumed.points]


def test_records_and_results_keys(homogeneous, tmp_path):
    """A per-k file reads back to the same record; the diagram has every results.json key of the driver."""
    problem, path = homogeneous
    diagram = sweep_bands(problem, path, num_bands=2, store=tmp_path)
    record = json.loads(k_file(tmp_path, 2).read_text())
    assert list(record) == ["index", "k", "omega", "residual", "filtered", "previous_band", "seconds"]
    assert KPointBands.from_dict(record).to_dict() == record == diagram.points[2].to_dict()
    assert list(diagram.to_dict()) == ["k", "k_distance", "labels", "omega_a_over_2pi_c", "residuals", "filtered",
                                       "bands", "dofs", "ranks", "k_groups", "timings"]


def test_k_groups_chunks_and_errors():
    """Contiguous chunks, each after the first starting with the previous chunk's last point (its link)."""
    groups = KGroups.single(MPI.COMM_SELF)
    assert groups.chunks(5) == [[0, 1, 2, 3, 4]]
    assert KGroups(MPI.COMM_SELF, 3, 0, MPI.COMM_SELF).chunks(10) == [[0, 1, 2], [2, 3, 4, 5, 6], [6, 7, 8, 9]]
    with pytest.raises(InputError, match=r"^--k-groups 2 must divide the number of MPI ranks \(1\)$"):
        with config_keys(k_groups="--k-groups"):
            KGroups.split(MPI.COMM_SELF, 2)


def test_bad_arguments_are_named(homogeneous):
    problem, path = homogeneous
    with pytest.raises(InputError, match="^num_bands must be >= 1, got 0$"):
        sweep_bands(problem, path, num_bands=0)
    with pytest.raises(InputError, match="^resume needs a store folder"):
        sweep_bands(problem, path, num_bands=2, resume=True)
    with pytest.raises(InputError, match="^bands.path is empty$"):
        with config_keys("bands"):
            k_path([], 2, 2)
    with pytest.raises(InputError, match="^unknown k-point 'Q' in hfh.path for this 2D lattice"):
        with config_keys("hfh"):
            k_path("GQ", 2, 2)


# -- issue 12, item 1: bands that were not found are reported per k-point -----------------------------------
def test_missing_bands_are_counted_and_warned_per_k_point(homogeneous, monkeypatch, capsys, tmp_path):
    """A k-point where the solves find only 2 of the 4 bands asked for: ``missing`` = 2 there (0 elsewhere) in
    the per-k record, its file and results.json, and a warning line names it."""
    problem, path = homogeneous
    solve = problem.solve

    def short_solve(k, **kwargs):
        solution = solve(k, **kwargs)
        if np.allclose(k, path.k[2]):
            solution.pairs = solution.pairs[:2]
        return solution

    monkeypatch.setattr(problem, "solve", short_solve)
    diagram = sweep_bands(problem, path, num_bands=4, max_targets=2, store=tmp_path)
    assert diagram.missing == [0, 0, 2, 0, 0, 0]
    assert diagram.to_dict()["missing"] == [0, 0, 2, 0, 0, 0]
    assert len(diagram.points[2].omega) == 2
    assert json.loads(k_file(tmp_path, 2).read_text())["missing"] == 2
    assert "2 band(s) missing at 1 of 6 k-point(s)" in diagram.missing_report()
    out = capsys.readouterr().out
    assert "warning: k 3/6" in out and "2 of 4 bands missing" in out
    monkeypatch.undo()
    complete = sweep_bands(problem, path, num_bands=4)
    assert complete.missing == [0] * 6 and complete.missing_report() is None
    assert "missing" not in complete.to_dict() and "missing" not in complete.points[2].to_dict()


def test_k_point_files_without_missing_still_load():
    """Files written before ``missing`` existed (a resume of an older sweep) load with ``missing = 0``."""
    point = KPointBands(index=0, k=np.zeros(2), omega=[1.0 + 0j], residual=[1e-12], filtered={},
                        previous_band=[0], seconds=0.1, missing=3)
    data = json.loads(json.dumps(point.to_dict()))
    assert KPointBands.from_dict(data).missing == 3
    data.pop("missing")
    assert KPointBands.from_dict(data).missing == 0


def test_zero_max_targets_is_refused(homogeneous):
    """``max_targets = 0`` used to return no frequency at all."""
    problem, path = homogeneous
    with pytest.raises(InputError, match="max_targets must be >= 1"):
        sweep_bands(problem, path, num_bands=2, max_targets=0)
    with pytest.raises(InputError, match="bands.max_targets must be >= 1"), config_keys("bands"):
        sweep_bands(problem, path, num_bands=2, max_targets=0)
