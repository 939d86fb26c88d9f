"""The band-sweep library (theory.md §5.2): band connection by eigenvector overlap at a crossing, resume and
in-memory sweeps through :func:`sweep_bands`, k-groups, the per-k records; the continuation of dispersive bands
(issue 15) against independent full solves, exact roots (homogeneous Drude medium through a crossing, 1D Drude
and Lorentz laminates with the transfer matrix) and a forced loss of the bands; resume settings (issue 12)."""

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
from fem_homog.core.units import TWO_PI, to_omega
from fem_homog.output.results import jsonable
from fem_homog.photonics.bands import KGroups, KPointBands, connect, connected_bands, k_file, k_path, sweep_bands
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.laminate1d import bloch_root, count_roots, photonic_layers
from fem_homog.photonics.materials import Phase, constant, drude, lorentz

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
    assert list(record) == ["index", "k", "omega", "residual", "filtered", "previous_band", "seconds", "method",
                            "solves", "settings"]
    assert KPointBands.from_dict(record).to_dict() == record == diagram.points[2].to_dict()
    assert list(diagram.to_dict()) == ["k", "k_distance", "labels", "omega_a_over_2pi_c", "residuals", "filtered",
                                       "bands", "gaps", "dofs", "ranks", "k_groups", "timings"]


def test_k_groups_chunks_and_errors():
    """Contiguous chunks, each after the first starting with the previous chunk's last point (its link)."""
    groups = KGroups.single(MPI.COMM_SELF)
    assert groups.chunks(5) == [[0, 1, 2, 3, 4]]
    # equal numbers of solves, links included (each chunk starts with one full solve and continues from it)
    assert KGroups(MPI.COMM_SELF, 3, 0, MPI.COMM_SELF).chunks(10) == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert KGroups(MPI.COMM_SELF, 2, 0, MPI.COMM_SELF).chunks(25) == [list(range(13)), list(range(12, 25))]
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


# -- issue 15: continuation of dispersive bands ---------------------------------------------------------------
def frequencies(diagram) -> np.ndarray:
    return np.array([p.omega for p in diagram.points])


def assert_continued_equals_full(problem, path, num_bands, target, continued_at_least):
    """The continued sweep against independent full solves at every k-point: same frequencies to 1e-10, same
    band connection; returns the continued diagram."""
    continued = sweep_bands(problem, path, num_bands=num_bands, target=target)
    full = sweep_bands(problem, path, num_bands=num_bands, target=target, continuation=False)
    methods = [p.method for p in continued.points]
    assert set(p.method for p in full.points) == {"full"}
    assert methods.count("continued") >= continued_at_least, methods
    assert np.allclose(frequencies(continued), frequencies(full), rtol=1e-10, atol=0)
    assert [p.previous_band for p in continued.points] == [p.previous_band for p in full.points]
    return continued


@pytest.fixture(scope="module")
def drude_rods():
    """The lossy Drude rods of drivers/configs/drude_rods_tm.toml (ω_p a/2πc = 1, γ a/2πc = 0.02) on a coarse
    mesh, Γ–X–M–Γ with 3 intervals per segment."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.1, order=2)
    rods = Phase(INCLUSION, drude(1.0, TWO_PI, 0.02 * TWO_PI))
    return cell, rods, k_path("GXMG", 3, 2)


def test_continued_drude_tm_sweep_equals_independent_solves(drude_rods):
    cell, rods, path = drude_rods
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), rods], polarization="TM")
    assert problem.velocity_bound() == pytest.approx(1.0)
    assert_continued_equals_full(problem, path, 4, float(to_omega(0.3)), continued_at_least=len(path.k) - 2)


def test_continued_te_sweeps(drude_rods):
    """TE with Lorentz μ_r(Ω) rods (ρ-slot dispersive) is continued; TE with Drude ε (1/ε(Ω) in the gradient
    slot: no group-velocity bound) is solved in full at every k-point; both equal the independent solves."""
    cell, rods, path = drude_rods
    magnetic = Phase(INCLUSION, constant(4.0), lorentz(1.0, [[1.0, 12.0, 1.0]]))  # resonance far above the bands
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), magnetic], polarization="TE")
    assert_continued_equals_full(problem, path, 3, 0.3, continued_at_least=len(path.k) - 3)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), rods], polarization="TE")
    assert problem.velocity_bound() is None
    assert_continued_equals_full(problem, path, 3, float(to_omega(0.3)), continued_at_least=0)


def test_continued_through_a_crossing_of_damped_folded_bands():
    """A homogeneous lossy Drude medium: the folded bands are the roots of Ω² ε(Ω) = |k + 2πn|², i.e.
    Ω³ + iΓΩ² − (q² + Ω_p²)Ω − iΓq² = 0; along A→B the folds n = (−1, 0) and (0, −1) cross. The continued
    sweep follows the swap and gives the exact damped roots to the P2 error."""
    wp, gamma = 4.0, 0.3
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2}), h=0.1, order=2)
    medium = drude(1.0, wp, gamma)
    problem = BlochProblem(cell, [Phase(MATRIX, medium), Phase(INCLUSION, medium)], polarization="TM")
    path = k_path([A, B], 5, 2)
    diagram = assert_continued_equals_full(problem, path, 3, 3.5, continued_at_least=4)
    exact = []
    for q in np.linalg.norm(path.k[:, None, :] + 2 * np.pi * FOLDS[None], axis=2).ravel():
        roots = np.roots([1.0, 1j * gamma, -(q**2 + wp**2), -1j * gamma * q**2])
        exact.append(roots[np.argmax(roots.real)])
    exact = np.sort_complex(np.array(exact).reshape(len(path.k), 3) / TWO_PI)
    assert np.allclose(frequencies(diagram), exact, rtol=5e-4)  # P2 error of e^{i(k+G)·y}, h = 0.1
    assert np.all(exact.imag < -1e-3)  # really damped
    assert [p.previous_band for p in diagram.points][3] == [0, 2, 1]  # the swap happens in the middle


@pytest.mark.parametrize("inclusion", [drude(1.0, 6.0, 0.1), lorentz(2.0, [[3.0, 20.0, 1.0]])],
                         ids=["drude", "lorentz"])
def test_continued_1d_laminate_against_exact_roots(inclusion):
    """1D stacks (ε = 1 | dispersive, 0.6 | 0.4) along k ∈ [0, π]: every continued band is a root of the exact
    transfer-matrix relation (to the P2 error), and the argument principle counts no other root between the
    lowest and highest band (nothing skipped; 1D bands do not cross)."""
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": 0.4}), h=0.02)
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, inclusion)], degree=2)
    path = k_path([[0.0], [np.pi]], 8, 1)
    diagram = assert_continued_equals_full(problem, path, 3, 0.1, continued_at_least=6)
    layers = photonic_layers([constant(1.0), inclusion], [0.6, 0.4], "TM")
    for k, point in zip(path.k[:, 0], diagram.points):
        omega = np.array(point.omega) * TWO_PI
        exact = np.array([bloch_root(layers, k, w) for w in omega])
        assert np.allclose(omega, exact, rtol=1e-5), (k, omega, exact)  # P2, h = 0.02
        for a, b in zip(omega[:-1], omega[1:]):  # no root between two bands (overlapping circles)
            for t in (0.25, 0.5, 0.75):
                assert count_roots(layers, k, a + t * (b - a), 0.2 * abs(b - a)) == 0, (k, a, b, t)


def test_a_forced_loss_of_the_bands_is_detected_and_recovered(drude_rods, monkeypatch):
    """The continued solves at one k-point are sent to a shift far above the bands (a target jump) or lose their
    lowest band: the continuation does not accept what it finds there, renews its window or solves in full, and
    the sweep still equals the independent solves (never a band silently dropped)."""
    cell, rods, path = drude_rods
    problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), rods], polarization="TM")
    target = float(to_omega(0.3))
    full = sweep_bands(problem, path, num_bands=4, target=target, continuation=False)
    solve, broken, calls = problem.solve, path.k[5], []

    def jump(k, **kwargs):
        kwargs["target"] += 3.0
        return solve(k, **kwargs)

    def lose(k, **kwargs):
        solution = solve(k, **kwargs)
        solution.pairs = solution.pairs[1:]
        return solution

    for fault in (jump, lose):
        def faulty_solve(k, fault=fault, **kwargs):
            if not kwargs.get("refine", True) and np.allclose(k, broken):
                calls.append(fault.__name__)
                return fault(k, **kwargs)
            return solve(k, **kwargs)

        monkeypatch.setattr(problem, "solve", faulty_solve)
        diagram = sweep_bands(problem, path, num_bands=4, target=target)
        assert calls.count(fault.__name__) >= 2 or diagram.points[5].method == "full"  # not the quick solve
        assert diagram.points[6].method == "continued"
        assert np.allclose(frequencies(diagram), frequencies(full), rtol=1e-10, atol=0)
    assert diagram.points[5].method == "full"  # a lost band cannot be certified


# -- issue 12: resume refuses other settings and broken files; num_bands within the discretization ------------
def test_resume_refuses_other_settings_other_paths_and_broken_files(homogeneous, tmp_path):
    """Every per-k file carries the sweep's settings digest and its k: a resume with other settings, or over a
    path whose points differ, is an InputError naming the file; a truncated file is an InputError, not a
    traceback; files are written atomically (no temporary left)."""
    problem, path = homogeneous
    settings = {"mesh": {"h": 0.1}, "bands": {"points_per_segment": 5}}
    sweep_bands(problem, path, num_bands=2, store=tmp_path, settings=settings)
    assert not list(tmp_path.glob("*.tmp"))
    assert sweep_bands(problem, path, num_bands=2, store=tmp_path, resume=True, settings=settings).points
    with pytest.raises(InputError, match="written with other settings"):
        sweep_bands(problem, path, num_bands=2, store=tmp_path, resume=True, settings={**settings, "mesh": {"h": 0.2}})
    with pytest.raises(InputError, match=r"holds k = .* not a point of this path"):
        sweep_bands(problem, k_path([A, B], 4, 2), num_bands=2, store=tmp_path, resume=True, settings=settings)
    text = k_file(tmp_path, 3).read_text()
    k_file(tmp_path, 3).write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="k_0003.json is truncated or corrupt"):
        sweep_bands(problem, path, num_bands=2, store=tmp_path, resume=True, settings=settings)
    sweep_bands(problem, path, num_bands=2, store=tmp_path, settings=settings)  # a fresh sweep replaces them all
    assert json.loads(k_file(tmp_path, 3).read_text())["index"] == 3


def test_num_bands_beyond_the_discretization_is_refused(homogeneous):
    """``bands.num_bands = 100000`` used to run for minutes and list the Γ zero mode twice."""
    problem, path = homogeneous
    limit = problem.unit_mass().getSize()[0]
    with pytest.raises(InputError, match=f"^bands.num_bands must be <= {limit}, the number of modes"), \
            config_keys("bands"):
        sweep_bands(problem, path, num_bands=100000)


def test_merge_counts_the_zero_mode_once():
    """Two solves that both see the Γ zero mode (at round-off from 0, different signs of round-off)."""
    from types import SimpleNamespace as Pair

    from fem_homog.photonics.bands import merge

    first = [Pair(omega=0.0 + 0j), Pair(omega=1.0 + 0j)]
    second = [Pair(omega=3e-9 + 0j), Pair(omega=1.0 + 0j), Pair(omega=2.0 + 0j)]
    assert [p.omega.real for p in merge(merge([], first), second)] == [0.0, 1.0, 2.0]
