"""Periodic unit cells meshed with gmsh and distributed with dolfinx.

Opposite faces are meshed with matching nodes (gmsh ``setPeriodic``), which the periodic prolongation of
:mod:`fem_homog.fem.periodic` relies on. Meshes are built on one rank and distributed, optionally refined
uniformly in parallel with the interface nodes snapped back onto curved inclusions.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import gmsh
import numpy as np
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX, PHASES, CellGeometry, Inclusion, axis_of
from fem_homog.cells.lattice import hexagon_vertices
from fem_homog.core.errors import require
from fem_homog.core.parallel import on_root

import dolfinx.io.gmsh
import dolfinx.mesh


@dataclass
class CellMesh:
    """A distributed periodic cell mesh with its phase tags (``MATRIX``, ``INCLUSION``)."""

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    geometry: CellGeometry
    h: float
    order: int
    phases: dict[str, int] = field(default_factory=lambda: dict(PHASES))



@contextlib.contextmanager
def gmsh_session() -> Iterator[None]:
    """Initialise gmsh quietly for the duration of a block (re-entrant: keeps an existing session)."""
    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("cell")
    try:
        yield
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()


def add_inclusion(inc: Inclusion) -> int:
    """Add one inclusion to the current gmsh OCC model; returns its entity tag."""
    occ = gmsh.model.occ
    c = inc.centre
    if inc.shape == "circle":
        return occ.addDisk(c[0], c[1], 0.0, inc.radius, inc.radius)
    if inc.shape == "sphere":
        return occ.addSphere(*c, inc.radius)
    if inc.shape == "cube":
        s = inc.side
        return occ.addBox(c[0] - s / 2, c[1] - s / 2, c[2] - s / 2, s, s, s)
    if inc.shape == "ellipse":
        a, b = inc.semi_axes
        angle = inc.angle + (90.0 if b > a else 0.0)  # gmsh wants the major axis first
        tag = occ.addDisk(c[0], c[1], 0.0, max(a, b), min(a, b))
    else:
        s = inc.side
        tag = occ.addRectangle(c[0] - s / 2, c[1] - s / 2, 0.0, s, s)
        angle = inc.angle
    if angle:
        occ.rotate([(2, tag)], c[0], c[1], 0.0, 0.0, 0.0, 1.0, math.radians(angle))
    return tag


def _add_box(lo: Sequence[float], hi: Sequence[float], dim: int) -> int:
    occ = gmsh.model.occ
    size = [top - bottom for bottom, top in zip(lo, hi)]
    if dim == 2:
        return occ.addRectangle(lo[0], lo[1], 0.0, size[0], size[1])
    return occ.addBox(*lo, *size)


def _add_hexagon() -> int:
    """The Wigner–Seitz hexagon of the unit triangular lattice, centred at the origin."""
    occ = gmsh.model.occ
    points = [occ.addPoint(x, y, 0.0) for x, y in hexagon_vertices()]
    lines = [occ.addLine(points[i], points[(i + 1) % 6]) for i in range(6)]
    return occ.addPlaneSurface([occ.addCurveLoop(lines)])


def _phase_volumes(geo: CellGeometry) -> tuple[list[int], list[int]]:
    """Build the OCC geometry; return the (matrix, inclusion) entity tags after fragmenting."""
    d, L = geo.dim, geo.size.tolist()
    if geo.kind == "inclusions":
        cell = _add_hexagon() if geo.lattice == "hexagonal" else _add_box([0.0] * d, L, d)
        tools = [add_inclusion(inc) for inc in geo.inclusions]
    elif geo.kind == "laminate":
        axis = axis_of(geo.normal, d)
        lo, hi = [0.0] * d, list(L)
        cell = _add_box(lo, hi, d)
        lo[axis], hi[axis] = 0.5 * (1 - geo.fraction) * L[axis], 0.5 * (1 + geo.fraction) * L[axis]
        tools = [_add_box(lo, hi, d)]
    else:  # checkerboard: squares (0,0) and (1/2,1/2) are matrix, the other two inclusion
        (a, b), (A, B) = (0.5 * L[0], 0.5 * L[1]), L
        cell = _add_box([0.0, 0.0], [a, b], 2)
        tools = [_add_box([a, b], [A, B], 2), _add_box([a, 0.0], [A, b], 2), _add_box([0.0, b], [a, B], 2)]
    _, pieces = gmsh.model.occ.fragment([(d, cell)], [(d, t) for t in tools])
    gmsh.model.occ.synchronize()
    if geo.kind == "checkerboard":
        matrix = [t for _, t in pieces[0]] + [t for _, t in pieces[1]]
        inclusion = [t for _, t in pieces[2]] + [t for _, t in pieces[3]]
        return matrix, inclusion
    inclusion = sorted({t for piece in pieces[1:] for _, t in piece})
    matrix = sorted({t for _, t in pieces[0]} - set(inclusion))
    return matrix, inclusion


def set_periodic(size: np.ndarray) -> None:
    """Make the mesh on each face ``x_j = L_j`` a translated copy of the mesh on ``x_j = 0``."""
    dim = len(size)
    top = list(size) + [0.0] * (3 - dim)
    eps = 1e-5  # OCC bounding boxes are inflated by about 1e-7
    for j in range(dim):
        shift = np.zeros(3)
        shift[j] = size[j]
        lo_box = [-eps] * 3 + [t + eps for t in top]
        lo_box[3 + j] = eps
        hi_box = [-eps] * 3 + [t + eps for t in top]
        hi_box[j] = size[j] - eps
        masters = gmsh.model.getEntitiesInBoundingBox(*lo_box, dim - 1)
        slaves = gmsh.model.getEntitiesInBoundingBox(*hi_box, dim - 1)
        affine = np.eye(4)
        affine[:3, 3] = shift
        for _, s in slaves:
            sbox = np.array(gmsh.model.getBoundingBox(dim - 1, s))
            for _, m in masters:
                mbox = np.array(gmsh.model.getBoundingBox(dim - 1, m)) + np.concatenate([shift, shift])
                if np.allclose(sbox, mbox, atol=1e-6):
                    gmsh.model.mesh.setPeriodic(dim - 1, [s], [m], affine.ravel().tolist())
                    break
            else:
                raise RuntimeError(f"gmsh: no periodic partner for face entity {s} on x_{j} = L_{j}")


def _set_periodic_hexagon() -> None:
    """Make each hexagon edge with outward normal ``n`` (angles 0°, 60°, 120°: ``a_1``, ``a_2``, ``a_2 − a_1``)
    a copy of the opposite edge translated by ``n`` (opposite edges are one period apart)."""
    curves = [t for _, t in gmsh.model.getEntities(1)]
    centres = {t: np.array(gmsh.model.occ.getCenterOfMass(1, t)[:2]) for t in curves}

    def edge_at(point: np.ndarray) -> int:
        found = [t for t, c in centres.items() if np.allclose(c, point, atol=1e-7)]
        if len(found) != 1:
            raise RuntimeError(f"gmsh: expected one hexagon edge centred at {point.tolist()}, found {found}")
        return found[0]

    for angle in (0.0, 60.0, 120.0):
        n = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        affine = np.eye(4)
        affine[:2, 3] = n
        gmsh.model.mesh.setPeriodic(1, [edge_at(0.5 * n)], [edge_at(-0.5 * n)], affine.ravel().tolist())


def _grade_towards_points(h: float, reach: float) -> None:
    """Refine towards every geometry point (the checkerboard's four-phase corners, where the corrector is
    singular): element size grows linearly from ``h/40`` at a corner to ``h`` at distance ``0.2``."""
    field = gmsh.model.mesh.field
    dist = field.add("Distance")
    field.setNumbers(dist, "PointsList", [t for _, t in gmsh.model.getEntities(0)])
    ramp = field.add("Threshold")
    field.setNumber(ramp, "InField", dist)
    field.setNumber(ramp, "SizeMin", h / 40)
    field.setNumber(ramp, "SizeMax", h)
    field.setNumber(ramp, "DistMin", 0.0)
    field.setNumber(ramp, "DistMax", reach)
    field.setAsBackgroundMesh(ramp)
    gmsh.option.setNumber("Mesh.MeshSizeMin", h / 40)


def build_model(geo: CellGeometry) -> None:
    """Build the gmsh geometry of the cell in the current model: phases tagged, opposite faces periodic."""
    matrix, inclusion = _phase_volumes(geo)
    d = geo.dim
    gmsh.model.addPhysicalGroup(d, matrix, MATRIX, name="matrix")
    gmsh.model.addPhysicalGroup(d, inclusion, INCLUSION, name="inclusion")
    if geo.lattice == "hexagonal":
        _set_periodic_hexagon()
    else:
        set_periodic(geo.size)


def set_mesh_options(geo: CellGeometry, h: float) -> None:
    """Element size ``h`` (refined where curvature asks for it) and the fast 3D algorithm.

    3D uses HXT (``Mesh.Algorithm3D = 10``), about 10x faster than gmsh's default Delaunay on these cells
    (benchmarks/README.md), on one thread because several threads give a different mesh on every run.
    """
    d = geo.dim
    gmsh.option.setNumber("Mesh.MeshSizeMax", h)
    gmsh.option.setNumber("Mesh.MeshSizeMin", 0.25 * h)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 24 if d == 2 else 12)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    if geo.kind == "checkerboard":
        _grade_towards_points(h, 0.2 * geo.size.min())
    if d == 3:
        gmsh.option.setNumber("Mesh.Algorithm3D", 10)
        gmsh.option.setNumber("General.NumThreads", 1)


def _mesh_on_root(geo: CellGeometry, h: float, order: int) -> None:
    """Build and mesh the gmsh model (called on one rank)."""
    build_model(geo)
    set_mesh_options(geo, h)
    gmsh.model.mesh.generate(geo.dim)
    if order > 1:
        gmsh.model.mesh.setOrder(order)


def mesh_cell(geo: CellGeometry, *, h: float, order: int = 1, refine: int = 0,
              comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """Mesh a periodic cell on rank 0 of ``comm`` and distribute it over ``comm``.

    Parameters
    ----------
    geo
        The validated cell geometry.
    h
        Target element size (the cell has side 1).
    order
        Geometry order: 2 gives curved (quadratic) elements that follow circles and spheres, which P2
        correctors need to reach their O(h^4) accuracy in ``A_hom`` (theory.md §5.1).
    refine
        Number of uniform refinements done by dolfinx after gmsh, in parallel (straight-sided geometry only):
        ``h`` is then the size of the gmsh mesh and the final size is ``h / 2**refine``. New nodes on
        circle, ellipse and sphere interfaces are moved onto the exact curve or surface. This is the fast
        route to large 3D cells: gmsh and the serial hand-over to dolfinx only see the coarse mesh.
        3D cells are refined red (each face into its four midpoint triangles, so periodic faces keep
        matching edge for edge); the refined mesh is the same on any number of ranks.
    comm
        Communicator the mesh is distributed over.

    Raises
    ------
    InputError
        About ``h`` (outside ``(0, L_min / 2]``), ``order`` (not 1 or 2, or 2 with refinement) or ``refine``.
    """
    require(0.0 < h <= 0.5 * geo.size.min(), f"must lie in (0, {0.5 * geo.size.min():g}], got {h}", argument="h")
    require(order in (1, 2), f"must be 1 or 2, got {order}", argument="order")
    if geo.dim == 1:
        return _interval_cell(geo, h / 2**refine, comm)
    require(refine >= 0, f"must be >= 0, got {refine}", argument="refine")
    require(refine == 0 or order == 1, "refinement needs straight-sided geometry ({argument} = 1)", argument="order")
    with gmsh_session():
        on_root(comm, lambda: _mesh_on_root(geo, h, order), broadcast=False)  # a gmsh failure stops every rank
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=geo.dim)
    mesh, tags = data.mesh, data.cell_tags
    for _ in range(refine):
        mesh, tags = _refine_and_snap(mesh, tags, geo)
    return CellMesh(mesh=mesh, cell_tags=tags, geometry=geo, h=h / 2**refine, order=order)


def _interval_cell(geo: CellGeometry, h: float, comm: MPI.Comm) -> CellMesh:
    """A 1D laminate cell ``[0, 1]`` with nodes on both interfaces of the centred inclusion layer."""
    import basix.ufl

    L = geo.size[0]
    a, b = 0.5 * (1 - geo.fraction) * L, 0.5 * (1 + geo.fraction) * L
    pieces = [np.linspace(lo, hi, max(1, int(np.ceil((hi - lo) / h))) + 1) for lo, hi in ((0, a), (a, b), (b, L))]
    x = np.unique(np.concatenate(pieces)) if comm.rank == 0 else np.empty(0)
    cells = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1).astype(np.int64)
    element = basix.ufl.element("Lagrange", "interval", 1, shape=(1,))
    mesh = dolfinx.mesh.create_mesh(comm, cells, element, x.reshape(-1, 1))
    n_local = mesh.topology.index_map(1).size_local
    midpoints = mesh.geometry.x[mesh.geometry.dofmaps[0][:n_local], 0].mean(axis=1)
    values = np.where((midpoints > a) & (midpoints < b), INCLUSION, MATRIX).astype(np.int32)
    tags = dolfinx.mesh.meshtags(mesh, 1, np.arange(n_local, dtype=np.int32), values)
    return CellMesh(mesh=mesh, cell_tags=tags, geometry=geo, h=h, order=1)


def _refine_and_snap(mesh: dolfinx.mesh.Mesh, tags: dolfinx.mesh.MeshTags,
                     geo: CellGeometry) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """One uniform refinement; cell tags follow their parents; interface nodes go onto curved interfaces.

    3D cells use dolfinx's red refinement (``uniform_refine``: every tetrahedron into eight, every face into its
    four midpoint triangles), so translated faces stay translated meshes. ``dolfinx.mesh.refine`` (Plaza) splits
    a face from its longest edge, ties broken by global vertex numbers: on 2 ranks it split the two copies of a
    periodic face differently (theory.md §11.2), a non-conforming periodic constraint the node map cannot see.
    """
    mesh.topology.create_entities(1)
    if mesh.topology.dim == 3:
        fine = dolfinx.mesh.uniform_refine(mesh, partitioner=None)  # children stay on their parent's rank
        parent_cell = np.repeat(np.arange(mesh.topology.index_map(3).size_local, dtype=np.int32), 8)
    else:
        fine, parent_cell, _ = dolfinx.mesh.refine(mesh, partitioner=None,  # no ghost cells: not needed
                                                   option=dolfinx.mesh.RefinementOption.parent_cell)
    fine_tags = _inherit_cell_tags(tags, mesh, fine, parent_cell)
    round_shapes = [inc for inc in geo.inclusions if inc.shape in ("circle", "sphere", "ellipse")]
    if round_shapes:
        nodes = _interface_nodes(fine, fine_tags)
        x = fine.geometry.x[nodes, :geo.dim]
        fine.geometry.x[nodes, :geo.dim] = _project(x, round_shapes)
    return fine, fine_tags


def _inherit_cell_tags(tags: dolfinx.mesh.MeshTags, coarse: dolfinx.mesh.Mesh, fine: dolfinx.mesh.Mesh,
                       parent_cell: np.ndarray) -> dolfinx.mesh.MeshTags:
    """Give each owned fine cell its parent's tag.

    ``parent_cell`` gives the local parent of each fine cell in the order this rank created them (from
    ``dolfinx.mesh.refine``, or eight children per owned cell in turn from ``uniform_refine``); dolfinx then
    reorders them: the fine cell ``c`` was created as number ``original_cell_index[c] - offset``. (This replaces
    ``dolfinx.mesh.transfer_meshtag``, which corrupts memory in parallel after ``refine`` in dolfinx 0.11.)
    Ghost cells are left untagged: phase functions and interface marks take their values from the owner.
    """
    tdim = coarse.topology.dim
    coarse_map = coarse.topology.index_map(tdim)
    coarse_values = np.zeros(coarse_map.size_local + coarse_map.num_ghosts, dtype=np.int32)
    coarse_values[tags.indices] = tags.values
    offset = fine.comm.exscan(len(parent_cell)) or 0
    n_owned = fine.topology.index_map(tdim).size_local
    created_as = np.asarray(fine.topology.original_cell_index[:n_owned]) - offset
    cells = np.arange(n_owned, dtype=np.int32)
    return dolfinx.mesh.meshtags(fine, tdim, cells, coarse_values[parent_cell[created_as]])


def _interface_nodes(mesh: dolfinx.mesh.Mesh, tags: dolfinx.mesh.MeshTags) -> np.ndarray:
    """Local geometry nodes shared by a matrix cell and an inclusion cell on any rank (consistent in parallel)."""
    import dolfinx.la

    index_map = mesh.geometry.index_map()
    marks = []
    for tag in (MATRIX, INCLUSION):
        mark = dolfinx.la.vector(index_map, 1, dtype=np.float64)
        mark.array[np.unique(mesh.geometry.dofmaps[0][tags.find(tag)])] = 1.0
        mark.scatter_reverse(dolfinx.la.InsertMode.add)
        mark.scatter_forward()
        marks.append(mark.array > 0)
    return np.flatnonzero(marks[0] & marks[1])


def _project(x: np.ndarray, inclusions: Sequence[Inclusion]) -> np.ndarray:
    """Move points radially onto the boundary of the nearest round inclusion (exact for circles and spheres)."""
    candidates = []
    for inc in inclusions:
        c = np.asarray(inc.centre)
        local = x - c
        if inc.shape == "ellipse":  # scale in the ellipse's own axes
            t = math.radians(inc.angle)
            rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
            q = local @ rot
            level = np.sqrt((q[:, 0] / inc.semi_axes[0]) ** 2 + (q[:, 1] / inc.semi_axes[1]) ** 2)
        else:
            level = np.linalg.norm(local, axis=1) / inc.radius
        candidates.append((np.abs(level - 1.0), c + local / level[:, None]))
    distance = np.array([d for d, _ in candidates])
    nearest = distance.argmin(axis=0)
    return np.array([candidates[k][1][i] for i, k in enumerate(nearest)])
