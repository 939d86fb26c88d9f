"""Random media (theory.md §3): RSA with periodic wrap, voxel images, apparent tensors with periodic,
Dirichlet and Neumann conditions, ensemble statistics, and the exact checks (Dykhne, laminates, ordering)."""

import itertools
import math

import numpy as np
import pytest
from mpi4py import MPI

import fem_homog  # noqa: F401
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.random_media import (
    Medium,
    Voxels,
    clear_of_window_boundary,
    image_tags,
    image_windows,
    overlaps,
    random_spheres,
    read_image,
)
from fem_homog.cells.rve_mesh import mesh_window, periodic_images
from fem_homog.cli.rve import medium_from_config
from fem_homog.core.errors import InputError
from fem_homog.fem.coefficients import phase_fractions, phase_function
from fem_homog.statics import ensemble, rve_stats
from fem_homog.statics.apparent import apparent_tensors
from fem_homog.statics.bounds import laminate_conductivity, loewner_between, voigt_reuss

COMM = MPI.COMM_SELF
A1, A2 = 1.0, 4.0


def brute_force_min_gap(centres: np.ndarray, radius: float, size: float) -> float:
    """Smallest surface gap between distinct inclusions over all 3^d periodic images (independent of RSA)."""
    d = centres.shape[1]
    smallest = np.inf
    for i, j in itertools.combinations(range(len(centres)), 2):
        for shift in itertools.product((-1, 0, 1), repeat=d):
            dist = np.linalg.norm(centres[i] - centres[j] - size * np.asarray(shift))
            smallest = min(smallest, dist - 2 * radius)
    return smallest


@pytest.mark.parametrize("dim,size,fraction,gap", [(2, 6, 0.4, 0.02), (2, 4, 0.45, 0.05), (3, 3, 0.25, 0.02)])
def test_rsa_no_overlap_with_periodic_wrap(dim, size, fraction, gap):
    """Every pair of inclusions, across the periodic boundary too, keeps the gap; the fraction is exact; some
    inclusions cross the window boundary and reappear on the opposite side; no surface grazes a face/edge."""
    for seed in range(3):
        s = random_spheres(size, dim, fraction, gap, np.random.default_rng(seed))
        assert len(s.centres) == round(size**dim)
        assert s.volume_fraction() == pytest.approx(fraction, rel=1e-12)
        assert np.all((s.centres >= 0) & (s.centres < size))
        assert brute_force_min_gap(s.centres, s.radius, size) >= gap - 1e-12
        assert overlaps(s, gap) == 0
        assert all(clear_of_window_boundary(c, s.radius, size, gap) for c in s.centres)
        assert len(periodic_images(s)) > len(s.centres)  # wrapped copies exist


def test_overlap_counter_sees_wrapped_pairs():
    """Two disks touching only through the periodic boundary are counted as overlapping."""
    from fem_homog.cells.random_media import Spheres

    s = Spheres(centres=np.array([[0.1, 2.0], [3.8, 2.0]]), radius=0.2, size=4.0)
    assert overlaps(s) == 1


def test_same_seed_same_sample():
    """A sample is a function of (seed, size, index) only; other indices or seeds give other samples."""
    disks = Medium("disks", dim=2, fraction=0.3)
    a, b, c = disks.sample(5, 3, 7), disks.sample(5, 3, 7), disks.sample(5, 4, 7)
    assert np.array_equal(a.centres, b.centres) and not np.array_equal(a.centres, c.centres)
    board = Medium("checkerboard", dim=2, fraction=0.5)
    assert np.array_equal(board.sample(8, 0, 1).tags, board.sample(8, 0, 1).tags)
    assert not np.array_equal(board.sample(8, 0, 1).tags, board.sample(8, 0, 2).tags)


def tensors_of(sample, values=None, degree=1, **mesh):
    window = mesh_window(sample, comm=COMM, **mesh)
    values = values or {MATRIX: A1, INCLUSION: A2}
    A = phase_function(window.mesh, window.cell_tags, values)
    fractions = phase_fractions(window.mesh, window.cell_tags, list(values))
    return apparent_tensors(window, A, ["neumann", "periodic", "dirichlet"], degree=degree), fractions


@pytest.mark.parametrize("kind,dim,size,fraction,h", [("checkerboard", 2, 6, 0.5, 0.1), ("disks", 2, 3, 0.35, 0.15),
                                                      ("spheres", 3, 2, 0.2, 0.3)])
def test_ordering_neumann_periodic_dirichlet(kind, dim, size, fraction, h):
    """Per sample: Reuss ⪯ A^N ⪯ A^P ⪯ A^D ⪯ Voigt as tensors (Loewner order), strictly apart."""
    medium = Medium(kind, dim=dim, fraction=fraction)
    for index in range(2 if dim == 2 else 1):
        T, fractions = tensors_of(medium.sample(size, index, seed=3), h=h)
        upper, lower = voigt_reuss([A1 * np.eye(dim), A2 * np.eye(dim)],
                                   [fractions[MATRIX], fractions[INCLUSION]])
        assert loewner_between(lower, T["neumann"], T["periodic"])
        assert loewner_between(T["neumann"], T["periodic"], T["dirichlet"])
        assert loewner_between(T["periodic"], T["dirichlet"], upper)
        assert np.trace(T["dirichlet"] - T["neumann"]) > 1e-3  # the bracket is not degenerate


def test_wrapped_disks_mesh_the_exact_fraction():
    """Every clipped piece of a wrapped disk is tagged inclusion: on a curved (order 2) mesh the measured
    inclusion fraction is the nominal one to 1e-4, and the window is periodic (the periodic solve succeeds)."""
    sample = Medium("disks", dim=2, fraction=0.4).sample(3, 0, seed=8)
    assert len(periodic_images(sample)) > len(sample.centres)
    window = mesh_window(sample, comm=COMM, h=0.1, order=2)
    fractions = phase_fractions(window.mesh, window.cell_tags, [MATRIX, INCLUSION])
    assert fractions[INCLUSION] == pytest.approx(0.4, abs=1e-4)


def stripes(n: int, width: int) -> np.ndarray:
    """Grey image (rows down) of vertical stripes: columns [0, width) dark, the rest of each period bright."""
    return np.tile((np.arange(n) % (2 * width) >= width).astype(float), (n, 1))


def test_png_image_laminate_is_exact(tmp_path):
    """A PNG of vertical stripes is read with x along columns; its periodic apparent tensor is the exact
    laminate one (harmonic mean across, arithmetic along the layers), which P1 reproduces exactly. The
    laminate field also satisfies the Neumann data for a flux across the layers and the Dirichlet data for a
    gradient along them, so those entries are exact too, while the other two are strictly outside."""
    import matplotlib.pyplot as plt

    path = tmp_path / "stripes.png"
    plt.imsave(path, stripes(12, 3), cmap="gray", vmin=0, vmax=1)
    tags = image_tags(read_image(path), mode="threshold", threshold=0.5)
    assert tags.shape == (12, 12) and np.all(tags[3:6, :] == INCLUSION) and np.all(tags[:3, :] == MATRIX)
    T, _ = tensors_of(Voxels(tags), cells_per_voxel=1)
    exact = laminate_conductivity([A1, A2], [0.5, 0.5], axis=0, dim=2)
    assert np.abs(T["periodic"] - exact).max() < 1e-9 * A2
    assert abs(T["neumann"][0, 0] - exact[0, 0]) < 1e-9 * A2 and T["dirichlet"][0, 0] > exact[0, 0] + 1e-3
    assert abs(T["dirichlet"][1, 1] - exact[1, 1]) < 1e-9 * A2 and T["neumann"][1, 1] < exact[1, 1] - 1e-3


def test_npy_labels_and_windows(tmp_path):
    """A labelled .npy volume: labels become tags 1..K, windows tile it without overlap."""
    labels = np.random.default_rng(0).choice([5, 9, 20], size=(6, 6, 6))
    np.save(tmp_path / "v.npy", labels)
    tags = image_tags(read_image(tmp_path / "v.npy"), mode="labels", threshold=0.0)
    assert sorted(np.unique(tags)) == [1, 2, 3] and np.array_equal(tags == 3, labels == 20)
    windows = image_windows(tags, 3)
    assert len(windows) == 8 and all(w.tags.shape == (3, 3, 3) for w in windows)
    assert sum(np.count_nonzero(w.tags == 2) for w in windows) == np.count_nonzero(labels == 9)


def test_dykhne_random_checkerboard():
    """Fair random checkerboard, a1 = 1, a2 = 4 (P2): the periodic 95 % CI covers √(a1 a2) = 2 and the
    Dirichlet and Neumann means bracket it (theory.md §3, exact test)."""
    medium = Medium("checkerboard", dim=2, fraction=0.5)
    [res] = ensemble.run(medium, [10], 16, 12, {MATRIX: A1, INCLUSION: A2}, ["periodic", "dirichlet", "neumann"],
                         ensemble.WindowOptions(cells_per_voxel=2, degree=2), comm=COMM)
    est = {b: rve_stats.estimate([rve_stats.mean_trace(T) for T in res.tensors[b]]) for b in res.tensors}
    exact = math.sqrt(A1 * A2)
    assert est["periodic"].covers(exact)
    assert est["neumann"].mean < exact < est["dirichlet"].mean
    assert est["periodic"].ci[1] - est["periodic"].ci[0] < 0.2 * exact  # not a vacuous interval


def test_variance_slope_is_minus_d():
    """Var[(1/2) tr A^P_R] ∝ R^-2 for the random checkerboard: the slope fitted over R = 4…32 (24 samples
    each) lies within 0.5 of -2."""
    medium = Medium("checkerboard", dim=2, fraction=0.5)
    results = ensemble.run(medium, [4, 8, 16, 32], 24, 5, {MATRIX: A1, INCLUSION: A2}, ["periodic"],
                           ensemble.WindowOptions(cells_per_voxel=1), comm=COMM)
    stds = [rve_stats.estimate([rve_stats.mean_trace(T) for T in r.tensors["periodic"]]).std for r in results]
    slope = rve_stats.variance_slope([4, 8, 16, 32], stds)
    assert abs(slope + 2.0) < 0.5, slope


def test_statistics_against_tables():
    """Student interval with t_{0.975, 9} = 2.262157 (tables); samples needed is the fixed point of
    n = (t_{n-1} s / (δ ā))²."""
    values = np.array([1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.15, 0.85, 1.0, 1.1])
    est = rve_stats.estimate(values)
    half = 2.262157 * values.std(ddof=1) / math.sqrt(10)
    assert est.ci == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-6)
    n = rve_stats.samples_needed(est, 0.02)
    t = rve_stats.student_t(n, 0.95)
    assert (t * est.std / (0.02 * est.mean)) ** 2 <= n < (t * est.std / (0.02 * est.mean)) ** 2 + 1
    assert rve_stats.variance_slope([2, 4], [1.0, 0.5]) == pytest.approx(-2.0)
    means = [rve_stats.estimate(2.0 + 0.8 / R + np.array([-1, 1]) * 0.1 / R) for R in (4, 8, 16)]
    fit = rve_stats.extrapolate([4, 8, 16], means)
    assert fit["limit"] == pytest.approx(2.0) and fit["c"] == pytest.approx(0.8)


def test_extrapolation_with_a_zero_variance_size():
    """A size whose samples all agree (zero spread) used to overflow the weights and return limit 0.0."""
    means = [rve_stats.estimate(np.full(4, 2.0 + 0.8 / 4)),
             rve_stats.estimate(2.0 + 0.8 / 8 + np.array([-1, 1]) * 0.01),
             rve_stats.estimate(2.0 + 0.8 / 16 + np.array([-1, 1]) * 0.01)]
    fit = rve_stats.extrapolate([4, 8, 16], means)
    assert fit["limit"] == pytest.approx(2.0) and fit["c"] == pytest.approx(0.8)


def test_warnings_name_unbracketed_periodic_and_large_discretization_error():
    """Dirichlet/Neumann means that do not bracket the periodic mean, and a discretization error not well inside
    the confidence interval, are reported."""
    from fem_homog.statics.rve_study import BoundaryStatistics, SizeStatistics, warnings

    def stats(centre, error=None):
        est = rve_stats.estimate([centre - 0.1, centre + 0.1])
        return BoundaryStatistics(by_size=[SizeStatistics(size=4.0, estimate=est, values=[], samples_needed=2,
                                                          tensors=np.zeros((2, 2, 2)))],
                                  variance_slope=None, extrapolation=None, discretization_error=error)

    fine = {"periodic": stats(2.0, 1e-3), "dirichlet": stats(2.1), "neumann": stats(1.9)}
    assert warnings(fine) == []
    bad = {"periodic": stats(2.0, 2.0), "dirichlet": stats(1.95), "neumann": stats(1.9)}  # half-width 1.27
    found = warnings(bad)
    assert len(found) == 2 and "not well inside" in found[0] and "do not bracket" in found[1]


BAD = [
    (lambda: image_tags(np.ones((8, 8)), mode="threshold", threshold=0.5), "single phase"),
    (lambda: image_tags(np.full((4, 4), 3), mode="labels", threshold=0.0), "single phase"),
    (lambda: image_tags(np.zeros((4, 5)), mode="threshold", threshold=0.5), "square"),
    (lambda: rve_stats.estimate([1.0]), "at least 2 samples"),
    (lambda: random_spheres(5, 2, 0.6, 0.02, np.random.default_rng(0)), "unreachable by random sequential"),
    (lambda: random_spheres(3, 3, 0.4, 0.02, np.random.default_rng(0)), "unreachable by random sequential"),
    (lambda: random_spheres(1, 2, 0.5, 0.3, np.random.default_rng(0)), "does not fit"),
    (lambda: medium_from_config({"kind": "foam"}), "unknown rve.kind"),
    (lambda: Medium("spheres", dim=2), "three-dimensional"),
    (lambda: read_image("no/such/file.png"), "does not exist"),
    (lambda: image_windows(np.ones((4, 4), dtype=int), 8), "larger than the image"),
]


@pytest.mark.parametrize("make,message", BAD, ids=[m for _, m in BAD])
def test_bad_input(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_graded_voxel_mesh_keeps_voxels_and_brackets_exact_value():
    """Grading moves nodes inside each voxel towards its faces only: the phase fractions are still exact and a
    voxel laminate still gives the exact laminate tensor; on a periodic 2 × 2 checkerboard (Dykhne: √10 exactly)
    grading brings the apparent value closer to √10 than the uniform mesh with as many cells."""
    layers = Voxels(tags=np.array([[MATRIX, MATRIX], [INCLUSION, INCLUSION]]))  # layers normal to e_1
    window = mesh_window(layers, comm=MPI.COMM_SELF, cells_per_voxel=4, grading=2.0)
    f = phase_fractions(window.mesh, window.cell_tags, [INCLUSION])[INCLUSION]
    assert f == pytest.approx(0.5, abs=1e-14)
    A = phase_function(window.mesh, window.cell_tags, {MATRIX: 1.0, INCLUSION: 10.0})
    T = apparent_tensors(window, A, ["periodic"], degree=1)["periodic"]
    assert np.abs(T - laminate_conductivity([1.0, 10.0], [0.5, 0.5], 0, 2)).max() < 1e-10
    board = Voxels(tags=np.array([[MATRIX, INCLUSION], [INCLUSION, MATRIX]]))
    errors = []
    for grading in (1.0, 2.0):
        window = mesh_window(board, comm=MPI.COMM_SELF, cells_per_voxel=4, grading=grading)
        A = phase_function(window.mesh, window.cell_tags, {MATRIX: 1.0, INCLUSION: 10.0})
        errors.append(rve_stats.mean_trace(apparent_tensors(window, A, ["periodic"], degree=2)["periodic"])
                      - np.sqrt(10.0))
    assert 0 < errors[1] < 0.8 * errors[0], errors
