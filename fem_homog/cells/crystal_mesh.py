"""Meshes of finite crystals surrounded by perfectly matched layers (theory.md §9).

A finite crystal is ``n_1 × n_2`` copies of a unit cell (:class:`~fem_homog.cells.geometry.CellGeometry`, rods centred
as in the periodic cell) occupying ``[0, n_1 L_1] × [0, n_2 L_2]``, so that ``x mod L`` is the cell coordinate
``y`` of theory.md §1. Around it lies a margin of the matrix (background) material, and around that PML layers
of width ``d`` on all sides, corners included. In 1D a stack of ``n`` laminate periods is meshed the same way.

Cell tags: :data:`~fem_homog.cells.geometry.MATRIX` (background and matrix),
:data:`~fem_homog.cells.geometry.INCLUSION` (rods, layers), :data:`PML` (all layers), so
:func:`fem_homog.fem.coefficients.phase_function` works unchanged. A point (the line source) can be made a mesh
vertex, with the element size graded towards it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import gmsh
import numpy as np
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry
from fem_homog.cells.meshing import add_inclusion, build_model, gmsh_session, set_mesh_options
from fem_homog.core.errors import require
from fem_homog.core.parallel import on_root

import basix.ufl
import dolfinx.io.gmsh
import dolfinx.mesh

PML = 3


@dataclass
class CrystalMesh:
    """A distributed mesh of a (possibly empty) crystal in a background box with PMLs.

    ``lower``/``upper`` bound the physical region (crystal + margin); the PML fills the band of width
    ``pml_width`` outside it. ``crystal_lower``/``crystal_upper`` bound the crystal itself.
    """

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    lower: np.ndarray
    upper: np.ndarray
    pml_width: float
    crystal_lower: np.ndarray
    crystal_upper: np.ndarray
    counts: tuple[int, ...] = ()
    geometry: CellGeometry | None = None

    @property
    def dim(self) -> int:
        return len(self.lower)


def mesh_crystal(geo: CellGeometry, counts: Sequence[int], *, margin: float, pml_width: float, h: float,
                 h_crystal: float | None = None, source: Sequence[float] | None = None,
                 h_source: float | None = None, order: int = 2, comm: MPI.Comm = MPI.COMM_WORLD) -> CrystalMesh:
    """Mesh ``counts`` copies of the cell ``geo`` (2D: inclusions; 1D: a laminate) with margin and PMLs.

    Parameters
    ----------
    geo
        The unit cell; 2D cells must be of kind ``"inclusions"``, 1D cells are laminates.
    counts
        Number of cells along each axis (``(n_1, n_2)`` in 2D, ``(n,)`` in 1D).
    margin
        Background between the crystal and the PML (keep ``≥ λ_b/2``, theory.md §9).
    pml_width
        Thickness ``d`` of the layers.
    h, h_crystal
        Element size in the background and PML, and inside the crystal (resolve rods and skin depth there).
    source, h_source
        A point made a mesh vertex, with elements of size ``h_source`` around it (2D).
    order
        Geometry order (2D; 2 = curved elements on round rods).
    """
    counts = tuple(int(n) for n in counts)
    require(getattr(geo, "lattice", "square") == "square", "finite crystals are built on square/rectangular lattices")
    require(len(counts) == geo.dim, f"{{argument}} {list(counts)} must have {geo.dim} entries", argument="counts")
    require(min(counts) >= 1, f"must be positive, got {list(counts)}", argument="counts")
    check_frame(margin=margin, pml_width=pml_width, h=h)
    size = geo.size * np.array(counts)
    lower, upper = -np.full(geo.dim, float(margin)), size + margin
    h_crystal = h_crystal or h
    if geo.dim == 1:
        require(geo.kind == "laminate", "a 1D crystal is a laminate stack")
        mesh, tags = _stack_mesh(geo, counts[0], lower, upper, pml_width, h, h_crystal, source, comm)
    else:
        require(geo.dim == 2 and geo.kind == "inclusions",
                f"finite crystals are 2D arrays of inclusions or 1D stacks, not a {geo.dim}D {geo.kind} cell")
        rods = [dataclasses.replace(inc, centre=tuple(np.add(inc.centre, geo.size * (i, j))))
                for i in range(counts[0]) for j in range(counts[1]) for inc in geo.inclusions]
        mesh, tags = _box_mesh_2d(lower, upper, pml_width, rods, (np.zeros(2), size, h_crystal), h,
                                  source, h_source, order, comm)
    return CrystalMesh(mesh, tags, lower, upper, float(pml_width), np.zeros(geo.dim), size, counts, geo)


def tile_crystal(geo: CellGeometry, counts: Sequence[int], *, margin: float, pml_width: float, h: float,
                 order: int = 2, comm: MPI.Comm = MPI.COMM_WORLD) -> CrystalMesh:
    """A 2D crystal mesh made of copies of one periodic cell mesh: the fast route to large crystals.

    The cell is meshed once by gmsh (:func:`fem_homog.cells.meshing.build_model`, matching opposite sides) with size
    ``h``; copies fill the crystal and, with the inclusions turned into matrix, the margin and the layers, and
    coincident nodes are merged. Every crystal cell then has the same mesh as the periodic cell of the same
    ``h`` and ``order`` (the HFH cell functions are sampled without interpolation error), but the background
    has the crystal's element size. ``margin + pml_width`` must be a whole number of cells along each axis;
    the physical/PML interface itself may cut through cells (the stretch is a function of position, and
    cells are tagged :data:`PML` by their midpoint).
    """
    counts = tuple(int(n) for n in counts)
    check_tiling(geo, counts, margin=margin, pml_width=pml_width, h=h, order=order)
    frame = (margin + pml_width) / geo.size
    size = geo.size * np.array(counts)
    lower, upper = -np.full(2, float(margin)), size + margin
    tiled = on_root(comm, lambda: _tiles(*_cell_mesh(geo, h, order), geo.size, counts,
                                         np.round(frame).astype(int)), broadcast=False)  # failure stops every rank
    x, cells, phases = tiled or (np.empty((0, 2)), np.empty((0, 3 * order), dtype=np.int64),
                                 np.empty(0, dtype=np.int32))
    element = basix.ufl.element("Lagrange", "triangle", order, shape=(2,))
    perm = dolfinx.io.gmsh.cell_perm_array(dolfinx.mesh.CellType.triangle, 3 * order)
    mesh = dolfinx.mesh.create_mesh(comm, cells[:, perm], element, x)
    tags = _midpoint_tags(mesh, comm.bcast(phases, root=0), lower, upper)
    return CrystalMesh(mesh, tags, lower, upper, float(pml_width), np.zeros(2), size, counts, geo)


def check_tiling(geo: CellGeometry, counts: Sequence[int], *, margin: float, pml_width: float, h: float,
                 order: int) -> None:
    """Refuse what :func:`tile_crystal` cannot build (cheap: call it early to fail before long solves).

    Raises
    ------
    InputError
        Naming the argument: not a 2D square/rectangular cell of inclusions, ``counts`` not two positive
        integers, ``margin``/``pml_width``/``h`` out of range (:func:`check_frame`), ``order`` not 1 or 2, or
        ``margin + pml_width`` not a whole number of cells.
    """
    require(geo.dim == 2 and geo.kind == "inclusions" and getattr(geo, "lattice", "square") == "square",
            f"tiled crystals are 2D square/rectangular arrays of inclusions, not of a {geo.dim}D {geo.kind} cell "
            f"on the {geo.lattice} lattice")
    require(len(counts) == 2 and min(counts) >= 1, f"must be two positive integers, got {list(counts)}",
            argument="counts")
    check_frame(margin=margin, pml_width=pml_width, h=h)
    require(order in (1, 2), f"must be 1 or 2, got {order}", argument="order")
    frame = (margin + pml_width) / geo.size
    require(bool(np.allclose(frame, np.round(frame), atol=1e-9)),
            f"{{argument}} = {margin + pml_width:g} must be a whole number of cells {geo.size.tolist()}",
            argument="margin + pml_width")


def _cell_mesh(geo: CellGeometry, h: float, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes, cells (gmsh node order) and phase tags of the periodic cell mesh."""
    with gmsh_session():
        build_model(geo)
        set_mesh_options(geo, h)
        gmsh.model.mesh.generate(2)
        if order > 1:
            gmsh.model.mesh.setOrder(order)
        x = dolfinx.io.gmsh.extract_geometry(gmsh.model)[:, :2]
        topologies, _ = dolfinx.io.gmsh.extract_topology_and_markers(gmsh.model)
    triangles = topologies[2 if order == 1 else 9]
    return x, triangles["topology"].astype(np.int64), triangles["cell_data"].astype(np.int32)


def _tiles(x: np.ndarray, cells: np.ndarray, phases: np.ndarray, size: np.ndarray, counts: tuple[int, ...],
           frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies of the cell mesh over ``[−frame, counts + frame)`` cells, coincident nodes merged (k-d tree);
    copies outside the crystal are all matrix."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    index = np.array([(i, j) for i in range(-frame[0], counts[0] + frame[0])
                      for j in range(-frame[1], counts[1] + frame[1])])
    inside = np.all((index >= 0) & (index < counts), axis=1)
    nodes = (x[None, :, :] + (index * size)[:, None, :]).reshape(-1, 2)
    tiled = (cells[None, :, :] + (np.arange(len(index)) * len(x))[:, None, None]).reshape(-1, cells.shape[1])
    tags = np.where(inside[:, None], phases[None, :], MATRIX).ravel().astype(np.int32)
    pairs = cKDTree(nodes).query_pairs(1e-9 * float(size.min()), output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(nodes), len(nodes)))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, len(nodes))
    np.minimum.at(first, label, np.arange(len(nodes)))
    return nodes[first], label[tiled], tags


def _midpoint_tags(mesh: dolfinx.mesh.Mesh, phases: np.ndarray, lower: np.ndarray,
                   upper: np.ndarray) -> dolfinx.mesh.MeshTags:
    """Owned cells keep their input phase, or :data:`PML` if their midpoint is outside ``[lower, upper]``."""
    n_owned = mesh.topology.index_map(mesh.topology.dim).size_local
    values = phases[np.asarray(mesh.topology.original_cell_index[:n_owned])]
    midpoints = mesh.geometry.x[mesh.geometry.dofmaps[0][:n_owned, :3], :2].mean(axis=1)
    outside = np.any((midpoints < lower) | (midpoints > upper), axis=1)
    values = np.where(outside, PML, values).astype(np.int32)
    return dolfinx.mesh.meshtags(mesh, mesh.topology.dim, np.arange(n_owned, dtype=np.int32), values)


def mesh_box(lower: Sequence[float], upper: Sequence[float], *, pml_width: float, h: float,
             source: Sequence[float] | None = None, h_source: float | None = None, order: int = 1,
             comm: MPI.Comm = MPI.COMM_WORLD) -> CrystalMesh:
    """A homogeneous physical box ``[lower, upper]`` with PMLs (the macro domain of the envelope model, or
    the background-only validation case). 2D by gmsh; 1D uniform."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    require(len(lower) in (1, 2) and lower.shape == upper.shape and bool(np.all(upper > lower)),
            f"the box needs lower < upper in 1D or 2D, got {lower.tolist()}, {upper.tolist()}")
    check_frame(margin=0.0, pml_width=pml_width, h=h)
    if len(lower) == 1:
        mesh, tags = _interval_mesh([(lower[0] - pml_width, PML, h), (lower[0], MATRIX, h),
                                     (upper[0], PML, h), (upper[0] + pml_width, None, h)], source, comm)
    else:
        mesh, tags = _box_mesh_2d(lower, upper, pml_width, [], None, h, source, h_source, order, comm)
    return CrystalMesh(mesh, tags, lower, upper, float(pml_width), lower, upper)


def check_frame(*, margin: float, pml_width: float, h: float) -> None:
    """Refuse a negative ``margin``, a non-positive ``pml_width`` or an element size ``h`` outside
    ``(0, pml_width]`` (the layers need at least one element across)."""
    require(margin >= 0.0, f"must be non-negative, got {margin}", argument="margin")
    require(pml_width > 0.0, f"must be positive, got {pml_width}", argument="pml_width")
    require(0.0 < h <= pml_width, f"must lie in (0, pml_width = {pml_width:g}], got {h}", argument="h")


# ----------------------------------------------------------------------------------------------------------
# 1D stacks
# ----------------------------------------------------------------------------------------------------------

def _stack_mesh(geo: CellGeometry, n: int, lower: np.ndarray, upper: np.ndarray, pml_width: float, h: float,
                h_crystal: float, source: Sequence[float] | None,
                comm: MPI.Comm) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """Breakpoints of a stack of ``n`` centred-layer periods, margins and PMLs, meshed by :func:`_interval_mesh`."""
    L = geo.size[0]
    a, b = 0.5 * (1 - geo.fraction) * L, 0.5 * (1 + geo.fraction) * L
    pieces = [(lower[0] - pml_width, PML, h), (lower[0], MATRIX, h)]
    for i in range(n):
        pieces += [(i * L, MATRIX, h_crystal), (i * L + a, INCLUSION, h_crystal), (i * L + b, MATRIX, h_crystal)]
    pieces += [(n * L, MATRIX, h), (upper[0], PML, h), (upper[0] + pml_width, None, h)]
    return _interval_mesh(pieces, source, comm)


def _interval_mesh(pieces: list[tuple[float, int | None, float]], source: Sequence[float] | None,
                   comm: MPI.Comm) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """An interval mesh from ``(start, tag, h)`` segments (the last entry only closes the previous one), with
    the source point as a node."""
    x = np.empty(0)
    midpoints, segment_tags = [], []
    if comm.rank == 0:
        nodes = []
        for (lo, tag, size), (hi, _, _) in zip(pieces[:-1], pieces[1:]):
            if hi > lo + 1e-12:
                nodes.append(np.linspace(lo, hi, max(1, math.ceil((hi - lo) / size)) + 1))
                midpoints.append(0.5 * (lo + hi))
                segment_tags.append((lo, hi, tag))
        nodes.append(np.asarray(source or [], dtype=float))
        x = np.unique(np.round(np.concatenate(nodes), 12))
    cells = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1).astype(np.int64)
    element = basix.ufl.element("Lagrange", "interval", 1, shape=(1,))
    mesh = dolfinx.mesh.create_mesh(comm, cells, element, x.reshape(-1, 1))
    segments = comm.bcast(segment_tags if comm.rank == 0 else None, root=0)
    n_local = mesh.topology.index_map(1).size_local
    centres = mesh.geometry.x[mesh.geometry.dofmaps[0][:n_local], 0].mean(axis=1)
    values = np.zeros(n_local, dtype=np.int32)
    for lo, hi, tag in segments:
        values[(centres > lo) & (centres < hi)] = tag
    return mesh, dolfinx.mesh.meshtags(mesh, 1, np.arange(n_local, dtype=np.int32), values)


# ----------------------------------------------------------------------------------------------------------
# 2D boxes with rods (gmsh)
# ----------------------------------------------------------------------------------------------------------

def _box_mesh_2d(lower: np.ndarray, upper: np.ndarray, pml_width: float, rods: list,
                 crystal: tuple[np.ndarray, np.ndarray, float] | None, h: float,
                 source: Sequence[float] | None, h_source: float | None, order: int,
                 comm: MPI.Comm) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    require(order in (1, 2), f"must be 1 or 2, got {order}", argument="order")

    def build() -> None:
        _build_box_model(lower, upper, pml_width, rods, source)
        _set_sizes(h, crystal, source, h_source or h)
        gmsh.model.mesh.generate(2)
        if order > 1:
            gmsh.model.mesh.setOrder(order)

    with gmsh_session():
        on_root(comm, build, broadcast=False)  # a gmsh failure stops every rank
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=2)
    return data.mesh, data.cell_tags


def _build_box_model(lower: np.ndarray, upper: np.ndarray, pml_width: float, rods: list,
                     source: Sequence[float] | None) -> None:
    """OCC geometry: the PML frame, the physical box, the rods and the source point, fragmented and tagged."""
    occ = gmsh.model.occ
    d = pml_width
    outer = occ.addRectangle(lower[0] - d, lower[1] - d, 0.0, upper[0] - lower[0] + 2 * d,
                             upper[1] - lower[1] + 2 * d)
    inner = occ.addRectangle(lower[0], lower[1], 0.0, upper[0] - lower[0], upper[1] - lower[1])
    tools = [(2, inner)] + [(2, add_inclusion(rod)) for rod in rods]
    if source is not None:
        tools.append((0, occ.addPoint(source[0], source[1], 0.0)))
    _, pieces = occ.fragment([(2, outer)], tools)
    occ.synchronize()
    surfaces = [{t for dim, t in piece if dim == 2} for piece in pieces]
    inclusion = set().union(*surfaces[2:]) if rods else set()
    matrix, pml = surfaces[1] - inclusion, surfaces[0] - surfaces[1]
    for tags, tag, name in ((matrix, MATRIX, "matrix"), (inclusion, INCLUSION, "inclusion"), (pml, PML, "pml")):
        if tags:
            gmsh.model.addPhysicalGroup(2, sorted(tags), tag, name=name)


def _set_sizes(h: float, crystal: tuple[np.ndarray, np.ndarray, float] | None,
               source: Sequence[float] | None, h_source: float) -> None:
    """Size ``h`` everywhere, the crystal's size inside its box, and a linear ramp from ``h_source`` at the
    source up to ``h`` (over ten background elements)."""
    field = gmsh.model.mesh.field
    fields = []
    if crystal is not None:
        lo, hi, h_crystal = crystal
        box = field.add("Box")
        for key, value in (("VIn", h_crystal), ("VOut", h), ("XMin", lo[0]), ("XMax", hi[0]),
                           ("YMin", lo[1]), ("YMax", hi[1]), ("Thickness", 2 * h)):
            field.setNumber(box, key, value)
        fields.append(box)
    if source is not None and h_source < h:
        dist = field.add("Distance")
        point = [t for _, t in gmsh.model.getEntities(0)
                 if np.allclose(gmsh.model.getValue(0, t, []), [source[0], source[1], 0.0], atol=1e-9)]
        field.setNumbers(dist, "PointsList", point)
        ramp = field.add("Threshold")
        for key, value in (("InField", dist), ("SizeMin", h_source), ("SizeMax", h), ("DistMin", 0.0),
                           ("DistMax", 10 * h)):
            field.setNumber(ramp, key, value)
        fields.append(ramp)
    if fields:
        smallest = field.add("Min")
        field.setNumbers(smallest, "FieldsList", fields)
        field.setAsBackgroundMesh(smallest)
    gmsh.option.setNumber("Mesh.MeshSizeMax", h)
    gmsh.option.setNumber("Mesh.MeshSizeMin", 0.0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 24)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
