"""The ``[cell]`` section every driver accepts, turned into a :class:`~fem_homog.cells.geometry.CellGeometry` (or,
for the band driver, a 3D :class:`~fem_homog.cells.crystal3d.CrystalGeometry`), and the ``[mesh]`` section of the
cell drivers, turned into a :class:`~fem_homog.cells.meshing.CellMesh`."""

from __future__ import annotations

from numbers import Real

import numpy as np
from mpi4py import MPI

from fem_homog.cells.crystal3d import CRYSTAL_LATTICES, CRYSTAL_SHAPES, CrystalGeometry, mesh_crystal
from fem_homog.cells.geometry import CELL_SHAPES, INCLUSION_SHAPES, CellGeometry, Inclusion
from fem_homog.cells.lattice import LATTICES, lattice_vectors
from fem_homog.cells.meshing import CellMesh, mesh_cell
from fem_homog.cells.symmetric_mesh import symmetric_cell
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require

CELL_DEFAULTS = {"lattice": "square", "dim": 2, "shape": "circle", "radius": 0.3, "side": 0.5,
                 "semi_axes": [0.3, 0.2], "angle": 0.0, "centre": [], "fraction": 0.5, "normal": [],
                 "inclusions": [], "lengths": []}
"""The ``[cell]`` section every driver accepts (see :func:`geometry_from_config`)."""


def geometry_from_config(cell: dict, *, crystals: bool = False) -> CellGeometry | CrystalGeometry:
    """Translate the ``[cell]`` config section into a :class:`CellGeometry` (with ``crystals``, ``lattice``
    ``"cubic"`` or ``"fcc"`` gives a :class:`CrystalGeometry`: :func:`crystal_from_config`).

    Keys: ``lattice`` (``"square"``, or ``"hexagonal"``: the triangular lattice's hexagonal cell, centred at
    the origin), ``dim``, ``lengths`` (side lengths of a rectangular/orthorhombic cell; default 1),
    ``shape`` (one of :data:`CELL_SHAPES`), ``radius`` (circle/sphere), ``side``
    (square/cube), ``semi_axes`` and ``angle`` (ellipse, square), ``centre`` (default: cell centre),
    ``fraction`` and ``normal`` (laminate; default ``e_1``), ``inclusions`` (shape ``"inclusions"``: a list of
    tables with the per-inclusion keys ``shape``, ``centre``, ``radius``, ``side``, ``semi_axes``, ``angle``).
    An :class:`~fem_homog.core.errors.InputError` names the offending key (``cell.fraction must lie in ...``).
    """
    lattice = str(cell.get("lattice", "square"))
    known = LATTICES + (CRYSTAL_LATTICES if crystals else ())
    require(lattice in known, f"unknown cell.lattice '{lattice}' (known: {', '.join(known)})")
    if lattice in CRYSTAL_LATTICES:
        return crystal_from_config(cell)
    with config_keys("cell"):
        return _geometry(cell)


CRYSTAL_INCLUSION_KEYS = ("shape", "centre", "radius")
"""The keys of one table of ``cell.inclusions`` in a crystal (spheres of the common ``cell.radius``)."""


def crystal_from_config(cell: dict) -> CrystalGeometry:
    """A 3D crystal cell: ``lattice`` ``"cubic"`` or ``"fcc"`` (cubic constant 1), ``dim = 3``, ``shape`` one of
    :data:`~fem_homog.cells.crystal3d.CRYSTAL_SHAPES` (``"diamond"`` and ``"inverse_opal"`` on fcc only), the
    spheres' ``radius`` and, for ``"inclusions"``, the tables of ``inclusions`` with a Cartesian ``centre`` (units
    of the cubic constant; a ``radius`` there must equal ``cell.radius``: the crystal's spheres share one radius).
    """
    lattice, shape = str(cell["lattice"]), str(cell.get("shape", "sphere"))
    require(cell.get("dim", 2) == 3, f"cell.lattice = \"{lattice}\" is a 3D crystal: it needs cell.dim = 3, got "
                                     f"{cell.get('dim', 2)}")
    require(shape in CRYSTAL_SHAPES, f"unknown cell.shape '{shape}' for a {lattice} crystal (known: "
                                     f"{', '.join(CRYSTAL_SHAPES)})")
    require(lattice == "fcc" or shape in ("sphere", "inclusions"), f"cell.shape '{shape}' needs cell.lattice = \"fcc\"")
    for key in ("lengths", "centre"):
        require(not cell.get(key), f"cell.{key} does not apply to a {lattice} crystal (cubic constant 1, spheres "
                                   f"at the lattice sites or at the centres of cell.inclusions)")
    radius = _number(cell.get("radius", 0.3), "cell.radius")
    centres = _crystal_centres(cell, radius) if shape == "inclusions" else ()
    with config_keys("cell", centres="cell.inclusions"):
        return CrystalGeometry(lattice, shape, radius, centres=centres)


def _crystal_centres(cell: dict, radius: float) -> tuple[tuple[float, ...], ...]:
    """The ``centre`` of each table of ``cell.inclusions`` (spheres of radius ``cell.radius``)."""
    tables = cell.get("inclusions")
    require(isinstance(tables, list) and len(tables) > 0,
            "cell.shape = 'inclusions' needs a non-empty cell.inclusions list ({ centre = [x, y, z] } tables)")
    centres = []
    for n, table in enumerate(tables):
        key = f"cell.inclusions[{n}]"
        require(isinstance(table, dict), f"{key} must be a table {{ centre = [x, y, z] }}, got {table!r}")
        unknown = sorted(set(table) - set(CRYSTAL_INCLUSION_KEYS))
        require(not unknown, f"unknown key(s) {', '.join(unknown)} in {key} (known: "
                             f"{', '.join(CRYSTAL_INCLUSION_KEYS)})")
        require(table.get("shape", "sphere") == "sphere", f"{key}.shape: a crystal's inclusions are spheres")
        require(_number(table.get("radius", radius), f"{key}.radius") == radius,
                f"{key}.radius: the spheres of a crystal share cell.radius = {radius}, got {table.get('radius')}")
        require("centre" in table, f"{key} needs a centre = [x, y, z]")
        centres.append(_numbers(table["centre"], f"{key}.centre", 3))
    return tuple(centres)


def _geometry(cell: dict) -> CellGeometry:
    """:func:`geometry_from_config` without the renaming of library arguments to keys."""
    dim = int(cell.get("dim", 2))
    require(dim in (1, 2, 3), f"cell.dim must be 1, 2 or 3, got {dim}")
    shape = str(cell.get("shape", "circle"))
    require(shape in CELL_SHAPES[dim],
            f"unknown {dim}D cell.shape '{shape}' (known: {', '.join(CELL_SHAPES[dim])})")
    lengths = _numbers(cell.get("lengths") or [], "cell.lengths")
    require(not lengths or len(lengths) == dim, f"cell.lengths must have {dim} entries, got {list(lengths)}")
    lattice = str(cell.get("lattice", "square"))
    lattice_vectors(lattice, dim, lengths)  # a 3D or stretched hexagonal cell
    if lattice == "hexagonal":
        require(shape in INCLUSION_SHAPES[2] + ("inclusions",),
                f"cell.shape '{shape}' is not available on the hexagonal lattice (inclusions only)")
        inclusions = (_inclusion_tables(cell, [0.0, 0.0]) if shape == "inclusions"
                      else (_inclusion({**cell, "shape": shape}, [0.0, 0.0]),))
        return CellGeometry(dim, "inclusions", inclusions=inclusions, lengths=lengths, lattice=lattice)
    middle = [0.5 * v for v in lengths] if lengths else [0.5] * dim
    if shape == "laminate":
        normal = _numbers(cell.get("normal") or [1.0] + [0.0] * (dim - 1), "cell.normal", dim)
        return CellGeometry(dim, "laminate", fraction=_number(cell.get("fraction", 0.5), "cell.fraction"),
                            normal=normal, lengths=lengths, lattice=lattice)
    if shape == "checkerboard":
        return CellGeometry(dim, "checkerboard", lengths=lengths, lattice=lattice)
    if shape == "inclusions":
        return CellGeometry(dim, "inclusions", inclusions=_inclusion_tables(cell, middle), lengths=lengths,
                            lattice=lattice)
    return CellGeometry(dim, "inclusions", inclusions=(_inclusion({**cell, "shape": shape}, middle),),
                        lengths=lengths, lattice=lattice)


INCLUSION_KEYS = ("shape", "centre", "radius", "side", "semi_axes", "angle")
"""The keys of one table of ``cell.inclusions``."""


def is_number(value) -> bool:
    """A real number (Python or numpy), not a boolean."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _numbers(value, key: str, count: int | None = None) -> tuple[float, ...]:
    """A list of numbers (``count`` of them, if given) as floats; anything else names ``key``."""
    ok = isinstance(value, (list, tuple, np.ndarray)) and all(is_number(v) for v in value)
    require(ok and (count is None or len(value) == count),
            f"{key} must be a list of {f'{count} ' if count else ''}numbers, got {value!r}")
    return tuple(float(v) for v in value)


def _number(value, key: str) -> float:
    require(is_number(value), f"{key} must be a number, got {value!r}")
    return float(value)


SIZE_KEYS = {"circle": "radius", "sphere": "radius", "square": "side", "cube": "side", "ellipse": "semi_axes"}
"""The key that sizes each inclusion shape."""


def _inclusion(table: dict, middle: list[float], key: str = "cell") -> Inclusion:
    """One inclusion from ``table`` (the ``[cell]`` section, or one table of ``cell.inclusions``, named ``key``);
    its centre and size are checked here so that the error names the key (the geometry checks the rest)."""
    shape = str(table.get("shape", "circle"))
    centre = _numbers(table.get("centre") or middle, f"{key}.centre")
    require(len(centre) == len(middle), f"{key}.centre must have {len(middle)} coordinates, got {list(centre)}")
    inclusion = Inclusion(shape=shape, centre=centre, radius=_number(table.get("radius", 0.3), f"{key}.radius"),
                          side=_number(table.get("side", 0.5), f"{key}.side"),
                          semi_axes=_numbers(table.get("semi_axes", [0.3, 0.2]), f"{key}.semi_axes", 2),
                          angle=_number(table.get("angle", 0.0), f"{key}.angle"))
    size = SIZE_KEYS.get(shape)
    if size is not None:
        value = getattr(inclusion, size)
        require(min(value) > 0 if size == "semi_axes" else value > 0,
                f"{key}.{size}: the {shape}'s {size.replace('_', '-')} must be positive, got "
                f"{list(value) if size == 'semi_axes' else value}")
    return inclusion


def _inclusion_tables(cell: dict, middle: list[float]) -> tuple[Inclusion, ...]:
    """``cell.inclusions``: a non-empty list of tables with the keys :data:`INCLUSION_KEYS`."""
    tables = cell.get("inclusions")
    require(isinstance(tables, list) and len(tables) > 0,
            "cell.shape = 'inclusions' needs a non-empty cell.inclusions list")
    for n, table in enumerate(tables):
        require(isinstance(table, dict), f"cell.inclusions[{n}] must be a table {{ shape = ..., ... }}, "
                                         f"got {table!r}")
        unknown = sorted(set(table) - set(INCLUSION_KEYS))
        require(not unknown, f"unknown key(s) {', '.join(unknown)} in cell.inclusions[{n}] "
                             f"(known: {', '.join(INCLUSION_KEYS)})")
    return tuple(_inclusion(t, middle, f"cell.inclusions[{n}]") for n, t in enumerate(tables))


GRADING_DEFAULTS = {"h_min": 0.0, "grade_reach": 0.15, "grade_power": 1.0}
"""The ``[mesh]`` keys of a crystal mesh graded towards the spheres' intersection circles (``h_min = 0``: off)."""


def mesh_from_config(geometry: CellGeometry | CrystalGeometry, mesh: dict, *,
                     comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """Mesh ``geometry`` with the ``[mesh]`` table's ``h``, ``order`` (default 1) and ``refine`` (default 0)
    (:func:`~fem_homog.cells.meshing.mesh_cell`); with ``symmetric = true`` (default false) a 2D cell with a
    mirror group gets a mesh invariant under it (:func:`~fem_homog.cells.symmetric_mesh.symmetric_cell`). A
    crystal cell is meshed by :func:`~fem_homog.cells.crystal3d.mesh_crystal` (``h``, ``order`` and, with
    ``h_min > 0``, graded towards the spheres' intersection circles: the keys of :data:`GRADING_DEFAULTS`). An
    :class:`~fem_homog.core.errors.InputError` names the key (``mesh.h must lie in ...``)."""
    options = {"h": mesh["h"], "order": mesh.get("order", 1), "refine": mesh.get("refine", 0), "comm": comm}
    grading = {key: mesh.get(key, default) for key, default in GRADING_DEFAULTS.items()}
    with config_keys("mesh"):
        require(isinstance(mesh.get("symmetric", False), bool), "mesh.symmetric must be true or false")
        if isinstance(geometry, CrystalGeometry):
            require(options.pop("refine") == 0 and not mesh.get("symmetric", False),
                    f"mesh.refine and mesh.symmetric are not available on a {geometry.lattice} crystal cell (set "
                    f"mesh.refine = 0, mesh.symmetric = false; mesh.h sets the size)")
            return mesh_crystal(geometry, **options, **(grading if grading["h_min"] != 0 else {}))
        require(grading["h_min"] == 0, "mesh.h_min (grading towards the spheres' intersections) applies to 3D "
                                       "crystal cells only (cell.lattice = \"cubic\" or \"fcc\"); set it to 0")
        cell = symmetric_cell(geometry, **options) if mesh.get("symmetric", False) else None
        return cell or mesh_cell(geometry, **options)
