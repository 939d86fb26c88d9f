"""The ``[cell]`` section every driver accepts, turned into a :class:`~fem_homog.cells.geometry.CellGeometry`,
and the ``[mesh]`` section of the cell drivers, turned into a :class:`~fem_homog.cells.meshing.CellMesh`."""

from __future__ import annotations

from mpi4py import MPI

from fem_homog.cells.geometry import CELL_SHAPES, INCLUSION_SHAPES, CellGeometry, Inclusion
from fem_homog.cells.lattice import lattice_vectors
from fem_homog.cells.meshing import CellMesh, mesh_cell
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require

CELL_DEFAULTS = {"lattice": "square", "dim": 2, "shape": "circle", "radius": 0.3, "side": 0.5,
                 "semi_axes": [0.3, 0.2], "angle": 0.0, "centre": [], "fraction": 0.5, "normal": [],
                 "inclusions": [], "lengths": []}
"""The ``[cell]`` section every driver accepts (see :func:`geometry_from_config`)."""


def geometry_from_config(cell: dict) -> CellGeometry:
    """Translate the ``[cell]`` config section into a :class:`CellGeometry`.

    Keys: ``lattice`` (``"square"``, or ``"hexagonal"``: the triangular lattice's hexagonal cell, centred at
    the origin), ``dim``, ``lengths`` (side lengths of a rectangular/orthorhombic cell; default 1),
    ``shape`` (one of :data:`CELL_SHAPES`), ``radius`` (circle/sphere), ``side``
    (square/cube), ``semi_axes`` and ``angle`` (ellipse, square), ``centre`` (default: cell centre),
    ``fraction`` and ``normal`` (laminate; default ``e_1``), ``inclusions`` (shape ``"inclusions"``: a list of
    tables with the per-inclusion keys ``shape``, ``centre``, ``radius``, ``side``, ``semi_axes``, ``angle``).
    An :class:`~fem_homog.core.errors.InputError` names the offending key (``cell.fraction must lie in ...``).
    """
    with config_keys("cell"):
        return _geometry(cell)


def _geometry(cell: dict) -> CellGeometry:
    """:func:`geometry_from_config` without the renaming of library arguments to keys."""
    dim = int(cell.get("dim", 2))
    require(dim in (1, 2, 3), f"cell.dim must be 1, 2 or 3, got {dim}")
    shape = str(cell.get("shape", "circle"))
    require(shape in CELL_SHAPES[dim],
            f"unknown {dim}D cell.shape '{shape}' (known: {', '.join(CELL_SHAPES[dim])})")
    lengths = tuple(float(v) for v in cell.get("lengths") or [])
    require(not lengths or len(lengths) == dim, f"cell.lengths must have {dim} entries, got {list(lengths)}")
    lattice = str(cell.get("lattice", "square"))
    lattice_vectors(lattice, dim, lengths)  # unknown lattices, a 3D or stretched hexagonal cell
    if lattice == "hexagonal":
        require(shape in INCLUSION_SHAPES[2] + ("inclusions",),
                f"cell.shape '{shape}' is not available on the hexagonal lattice (inclusions only)")
        tables = cell.get("inclusions") if shape == "inclusions" else [{**cell, "shape": shape}]
        require(isinstance(tables, list) and len(tables) > 0,
                "cell.shape = 'inclusions' needs a non-empty cell.inclusions list")
        return CellGeometry(dim, "inclusions", inclusions=tuple(_inclusion(t, [0.0, 0.0]) for t in tables),
                            lengths=lengths, lattice=lattice)
    middle = [0.5 * v for v in lengths] if lengths else [0.5] * dim
    if shape == "laminate":
        normal = cell.get("normal") or [1.0] + [0.0] * (dim - 1)
        return CellGeometry(dim, "laminate", fraction=float(cell.get("fraction", 0.5)),
                            normal=tuple(float(v) for v in normal), lengths=lengths, lattice=lattice)
    if shape == "checkerboard":
        return CellGeometry(dim, "checkerboard", lengths=lengths, lattice=lattice)
    if shape == "inclusions":
        tables = cell.get("inclusions", [])
        require(isinstance(tables, list) and len(tables) > 0,
                "cell.shape = 'inclusions' needs a non-empty cell.inclusions list")
        return CellGeometry(dim, "inclusions", inclusions=tuple(_inclusion(t, middle) for t in tables),
                            lengths=lengths, lattice=lattice)
    return CellGeometry(dim, "inclusions", inclusions=(_inclusion({**cell, "shape": shape}, middle),),
                        lengths=lengths, lattice=lattice)


def _inclusion(table: dict, middle: list[float]) -> Inclusion:
    centre = tuple(float(c) for c in table.get("centre") or middle)
    axes = table.get("semi_axes", [0.3, 0.2])
    return Inclusion(shape=str(table.get("shape", "circle")), centre=centre,
                     radius=float(table.get("radius", 0.3)), side=float(table.get("side", 0.5)),
                     semi_axes=(float(axes[0]), float(axes[1])), angle=float(table.get("angle", 0.0)))


def mesh_from_config(geometry: CellGeometry, mesh: dict, *, comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """Mesh ``geometry`` with the ``[mesh]`` table's ``h``, ``order`` (default 1) and ``refine`` (default 0)
    (:func:`~fem_homog.cells.meshing.mesh_cell`); an :class:`~fem_homog.core.errors.InputError` names the key
    (``mesh.h must lie in ...``)."""
    with config_keys("mesh"):
        return mesh_cell(geometry, h=mesh["h"], order=mesh.get("order", 1), refine=mesh.get("refine", 0), comm=comm)
