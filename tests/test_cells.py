"""Periodic cell geometry: every shape meshes with the right phase fractions; bad geometry is refused."""

import math

import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import geometry_from_config, mesh_from_config
from fem_homog.core.errors import InputError
from fem_homog.fem.coefficients import phase_fractions

SHAPES = [
    # (cell table, h, order, tolerance on the inclusion fraction)
    ({"dim": 2, "shape": "circle", "radius": 0.3}, 0.05, 2, 1e-5),
    ({"dim": 2, "shape": "ellipse", "semi_axes": [0.1, 0.3], "angle": 30.0}, 0.05, 2, 1e-5),
    ({"dim": 2, "shape": "square", "side": 0.4, "angle": 20.0}, 0.1, 1, 1e-12),
    ({"dim": 2, "shape": "laminate", "fraction": 0.3, "normal": [0, 1]}, 0.1, 1, 1e-12),
    ({"dim": 2, "shape": "checkerboard"}, 0.1, 1, 1e-12),
    ({"dim": 2, "shape": "inclusions", "inclusions": [
        {"shape": "circle", "centre": [0.25, 0.25], "radius": 0.1},
        {"shape": "square", "centre": [0.7, 0.7], "side": 0.3}]}, 0.05, 2, 1e-5),
    ({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.12, 2, 2e-3),
    ({"dim": 3, "shape": "cube", "side": 0.5}, 0.15, 1, 1e-12),
    ({"dim": 3, "shape": "laminate", "fraction": 0.4, "normal": [0, 0, 1]}, 0.2, 1, 1e-12),
    ({"lattice": "hexagonal", "shape": "circle", "radius": 0.35}, 0.05, 2, 1e-5),
    ({"lattice": "hexagonal", "shape": "inclusions", "inclusions": [
        {"shape": "square", "centre": [-0.1, 0.0], "side": 0.2, "angle": 15.0},
        {"shape": "circle", "centre": [0.2, 0.1], "radius": 0.1}]}, 0.05, 2, 1e-5),
]


IDS = [s[0].get("lattice", "") + s[0]["shape"] + str(s[0].get("dim", 2)) for s in SHAPES]


@pytest.mark.parametrize("table,h,order,tol", SHAPES, ids=IDS)
def test_phase_fractions(cell_factory, table, h, order, tol):
    cell = cell_factory(table, h, order)
    f = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    assert f[MATRIX] + f[INCLUSION] == pytest.approx(1.0, abs=1e-12)
    assert f[INCLUSION] == pytest.approx(cell.geometry.nominal_inclusion_fraction(), abs=tol)


def test_curved_mesh_follows_circle():
    """Order-2 geometry reaches the disk area far better than straight-sided triangles of the same size."""
    table = {"dim": 2, "shape": "circle", "radius": 0.3}
    exact = math.pi * 0.09
    errors = []
    for order in (1, 2):
        cell = mesh_cell(geometry_from_config(table), h=0.1, order=order)
        errors.append(abs(phase_fractions(cell.mesh, cell.cell_tags, [INCLUSION])[INCLUSION] - exact))
    assert errors[1] < 1e-2 * errors[0]


BAD = [
    ({"dim": 2, "shape": "circle", "radius": 0.0}, "radius must be positive"),
    ({"dim": 2, "shape": "circle", "radius": -0.1}, "radius must be positive"),
    ({"dim": 2, "shape": "circle", "radius": 0.5}, "own periodic image"),
    ({"dim": 2, "shape": "circle", "radius": 0.2, "centre": [0.1, 0.5]}, "crosses or touches"),
    ({"dim": 2, "shape": "ellipse", "semi_axes": [0.3, -0.1]}, "semi-axes must be positive"),
    ({"dim": 2, "shape": "square", "side": 0.8, "angle": 45.0}, "crosses or touches"),
    ({"dim": 2, "shape": "laminate", "fraction": 1.0}, r"fraction must lie in \(0, 1\)"),
    ({"dim": 2, "shape": "laminate", "fraction": 0.0}, r"fraction must lie in \(0, 1\)"),
    ({"dim": 2, "shape": "laminate", "normal": [1, 1]}, "not a coordinate axis"),
    ({"dim": 2, "shape": "hexagon"}, "unknown 2D cell.shape"),
    ({"dim": 3, "shape": "circle"}, "unknown 3D cell.shape"),
    ({"dim": 4, "shape": "circle"}, "cell.dim must be 1, 2 or 3"),
    ({"dim": 1, "shape": "circle"}, "unknown 1D cell.shape"),
    ({"dim": 3, "shape": "checkerboard"}, "unknown 3D cell.shape"),
    ({"dim": 2, "shape": "inclusions", "inclusions": [
        {"shape": "circle", "centre": [0.3, 0.5], "radius": 0.15},
        {"shape": "circle", "centre": [0.55, 0.5], "radius": 0.15}]}, "overlap"),
    ({"dim": 2, "shape": "inclusions", "inclusions": []}, "non-empty"),
    ({"dim": 2, "shape": "inclusions", "inclusions": [{"shape": "sphere", "radius": 0.1}]}, "unknown 2D inclusion"),
    ({"lattice": "hexagonal", "shape": "circle", "radius": 0.5}, "hexagonal cell boundary"),
    ({"lattice": "hexagonal", "shape": "circle", "radius": 0.2, "centre": [0.1, 0.3]}, "hexagonal cell boundary"),
    ({"lattice": "hexagonal", "shape": "laminate"}, "not available on the hexagonal lattice"),
    ({"lattice": "hexagonal", "shape": "circle", "lengths": [1, 2]}, "does not apply to the hexagonal"),
    ({"lattice": "hexagonal", "dim": 3, "shape": "sphere"}, "two-dimensional"),
    ({"lattice": "triclinic", "shape": "circle"}, "unknown cell.lattice"),
]


@pytest.mark.parametrize("table,match", BAD, ids=[m for _, m in BAD])
def test_bad_geometry_is_refused(table, match):
    with pytest.raises(InputError, match=match):
        geometry_from_config(table)


def test_bad_mesh_size_is_refused():
    geo = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.2})
    with pytest.raises(InputError, match="mesh.h"):
        mesh_from_config(geo, {"h": 0.0})
    with pytest.raises(InputError, match="mesh.order"):
        mesh_from_config(geo, {"h": 0.1, "order": 3})


def test_refinement_keeps_flat_phases_exactly():
    """Uniform refinement in dolfinx: every fine cell inherits its parent's phase (flat interfaces exact)."""
    for table in ({"dim": 2, "shape": "square", "side": 0.4, "angle": 20.0},
                  {"dim": 3, "shape": "cube", "side": 0.5}):
        geo = geometry_from_config(table)
        cell = mesh_cell(geo, h=0.25, order=1, refine=1)
        f = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
        assert f[INCLUSION] == pytest.approx(geo.nominal_inclusion_fraction(), abs=1e-12)
        assert f[MATRIX] + f[INCLUSION] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("table", [{"dim": 2, "shape": "circle", "radius": 0.3},
                                   {"dim": 2, "shape": "ellipse", "semi_axes": [0.3, 0.15], "angle": 30.0},
                                   {"dim": 3, "shape": "sphere", "radius": 0.3}], ids=["circle", "ellipse", "sphere"])
def test_refinement_snaps_curved_interfaces(table):
    """New interface nodes go onto the exact curve: the volume error falls ~4x per refinement (O(h^2)),
    instead of staying at the coarse polygon's value."""
    geo = geometry_from_config(table)
    errors = []
    for refine in (0, 1, 2) if table["dim"] == 2 else (0, 1):
        cell = mesh_cell(geo, h=0.2, order=1, refine=refine)
        errors.append(abs(phase_fractions(cell.mesh, cell.cell_tags, [INCLUSION])[INCLUSION]
                          - geo.nominal_inclusion_fraction()))
    assert all(fine < coarse / 3.0 for coarse, fine in zip(errors, errors[1:])), errors


def test_refinement_needs_straight_geometry():
    geo = geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3})
    with pytest.raises(InputError, match="mesh.order = 1"):
        mesh_from_config(geo, {"h": 0.1, "order": 2, "refine": 1})
