"""Periodic unit cells meshed with gmsh and distributed with dolfinx.

A cell is the box ``Y = [0, L_1] × … × [0, L_d]`` (the unit cell of theory.md §1 by default; other lengths
give rectangular and orthorhombic lattices) holding one matrix phase and one inclusion phase
(or two checkerboard phases). Opposite faces are meshed with matching nodes (gmsh ``setPeriodic``), which the
periodic prolongation of :mod:`fem_homog.periodic` relies on. Cells are tagged ``MATRIX`` and ``INCLUSION``.

Geometry is validated before any meshing, on every rank, so a bad input fails the same way everywhere:
radii and sides must be positive, fractions in (0, 1), inclusions inside the cell and not overlapping one
another or their own periodic images.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import gmsh
import numpy as np
from mpi4py import MPI

import dolfinx.io.gmsh
import dolfinx.mesh
from fem_homog.errors import require
from fem_homog.lattice import hexagon_vertices, lattice_vectors

MATRIX = 1
INCLUSION = 2
PHASES = {"matrix": MATRIX, "inclusion": INCLUSION}

INCLUSION_SHAPES = {1: (), 2: ("circle", "ellipse", "square"), 3: ("sphere", "cube")}
CELL_SHAPES = {1: ("laminate",), 2: INCLUSION_SHAPES[2] + ("laminate", "checkerboard", "inclusions"),
               3: INCLUSION_SHAPES[3] + ("laminate", "inclusions")}
_GAP = 1e-3  # smallest gap allowed between an inclusion and the cell boundary or another inclusion


@dataclass(frozen=True)
class Inclusion:
    """One inclusion of the cell.

    ``radius`` is the radius of a circle/sphere, ``side`` the side of a square/cube, ``semi_axes`` the two
    semi-axes of an ellipse and ``angle`` a counter-clockwise rotation in degrees (2D shapes).
    """

    shape: str
    centre: tuple[float, ...]
    radius: float = 0.0
    side: float = 0.0
    semi_axes: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0

    def circumradius(self) -> float:
        """Radius of the smallest centred ball containing the inclusion."""
        if self.shape in ("circle", "sphere"):
            return self.radius
        if self.shape == "ellipse":
            return max(self.semi_axes)
        return 0.5 * self.side * math.sqrt(len(self.centre))

    def inradius(self) -> float:
        """Radius of the largest centred ball inside the inclusion."""
        if self.shape in ("circle", "sphere"):
            return self.radius
        if self.shape == "ellipse":
            return min(self.semi_axes)
        return 0.5 * self.side


@dataclass(frozen=True)
class CellGeometry:
    """What to mesh: the dimension, the kind of cell and its parameters.

    ``kind`` is ``"inclusions"`` (a matrix with the listed inclusions), ``"laminate"`` (a layer of the
    inclusion phase of volume fraction ``fraction`` normal to the axis ``normal``, centred in the cell) or
    ``"checkerboard"`` (2D, four squares, the inclusion phase on the anti-diagonal). ``lattice`` is
    ``"square"`` (the box ``[0, L_1] × … × [0, L_d]``) or ``"hexagonal"`` (2D inclusions in the Wigner–Seitz
    hexagon of the unit triangular lattice, centred at the origin; :mod:`fem_homog.lattice`).
    """

    dim: int
    kind: str
    inclusions: tuple[Inclusion, ...] = ()
    fraction: float = 0.5
    normal: tuple[float, ...] = ()
    lengths: tuple[float, ...] = ()
    lattice: str = "square"

    def __post_init__(self) -> None:
        validate(self)

    @property
    def size(self) -> np.ndarray:
        """Extent of the cell's bounding box: the side lengths ``L_j`` of a box cell (1 by default), the
        width and height of the hexagonal cell."""
        if self.lattice == "hexagonal":
            return np.ptp(hexagon_vertices(), axis=0)
        return np.asarray(self.lengths, dtype=float) if self.lengths else np.ones(self.dim)

    @property
    def lattice_vectors(self) -> np.ndarray:
        """The lattice vectors (rows) the cell is periodic with."""
        return lattice_vectors(self.lattice, self.dim, self.lengths)

    @property
    def volume(self) -> float:
        """``|Y|``, the cell's area/volume."""
        return float(abs(np.linalg.det(self.lattice_vectors)))

    def nominal_inclusion_fraction(self) -> float:
        """Exact volume fraction of the inclusion phase (for straight-sided or exactly curved meshes)."""
        if self.kind == "laminate":
            return self.fraction
        if self.kind == "checkerboard":
            return 0.5
        return sum(_volume(inc) for inc in self.inclusions) / self.volume


@dataclass
class CellMesh:
    """A distributed periodic cell mesh with its phase tags (``MATRIX``, ``INCLUSION``)."""

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    geometry: CellGeometry
    h: float
    order: int
    phases: dict[str, int] = field(default_factory=lambda: dict(PHASES))


def _volume(inc: Inclusion) -> float:
    d = len(inc.centre)
    if inc.shape == "circle":
        return math.pi * inc.radius**2
    if inc.shape == "sphere":
        return 4.0 / 3.0 * math.pi * inc.radius**3
    if inc.shape == "ellipse":
        return math.pi * inc.semi_axes[0] * inc.semi_axes[1]
    return inc.side**d


def _axis_of(normal: Sequence[float], dim: int) -> int:
    n = np.asarray(normal, dtype=float)
    require(n.shape == (dim,), f"cell.normal must have {dim} components, got {list(normal)}")
    nonzero = np.flatnonzero(np.abs(n) > 1e-12)
    require(len(nonzero) == 1,
            f"cell.normal {list(normal)} is not a coordinate axis; laminates must be layered along x, y or z")
    return int(nonzero[0])


def validate(geo: CellGeometry) -> None:
    """Raise :class:`InputError` if the cell cannot be meshed as a periodic cell."""
    require(geo.dim in (1, 2, 3), f"cell.dim must be 1, 2 or 3, got {geo.dim}")
    require(not geo.lengths or (len(geo.lengths) == geo.dim and min(geo.lengths) > 0),
            f"cell.lengths must be {geo.dim} positive numbers, got {list(geo.lengths)}")
    lattice_vectors(geo.lattice, geo.dim, geo.lengths)  # refuses unknown lattices and bad combinations
    if geo.lattice == "hexagonal":
        require(geo.kind == "inclusions", "the hexagonal cell holds inclusions (not a laminate or checkerboard)")
        require(len(geo.inclusions) > 0, "the cell has no inclusion")
        for inc in geo.inclusions:
            _validate_in_hexagon(inc)
        _check_no_overlap(geo.inclusions)
        return
    if geo.kind == "laminate":
        require(0.0 < geo.fraction < 1.0, f"cell.fraction must lie in (0, 1), got {geo.fraction}")
        _axis_of(geo.normal, geo.dim)
        return
    if geo.kind == "checkerboard":
        require(geo.dim == 2, "the checkerboard cell is two-dimensional (cell.dim = 2)")
        return
    require(geo.kind == "inclusions", f"unknown cell kind '{geo.kind}'")
    require(len(geo.inclusions) > 0, "the cell has no inclusion")
    for inc in geo.inclusions:
        _validate_inclusion(inc, geo.dim, geo.size)
    _check_no_overlap(geo.inclusions)


def _validate_inclusion(inc: Inclusion, dim: int, size: np.ndarray) -> None:
    _validate_shape(inc, dim)
    r = inc.circumradius()
    require(2.0 * inc.inradius() < size.min() - _GAP,
            f"{inc.shape} of size {2 * inc.inradius():g} touches or overlaps its own periodic image "
            "across the cell boundary (it must be smaller than the cell)")
    lo, hi = _extent(inc)
    require(bool(np.all(lo > _GAP) and np.all(hi < size - _GAP)),
            f"{inc.shape} at centre {list(inc.centre)} (extent {r:g}) crosses or touches the periodic cell "
            "boundary; move it inside the cell")


def _validate_shape(inc: Inclusion, dim: int) -> None:
    require(inc.shape in INCLUSION_SHAPES[dim],
            f"unknown {dim}D inclusion shape '{inc.shape}' (known: {', '.join(INCLUSION_SHAPES[dim])})")
    require(len(inc.centre) == dim, f"inclusion centre {list(inc.centre)} must have {dim} coordinates")
    if inc.shape in ("circle", "sphere"):
        require(inc.radius > 0.0, f"{inc.shape} radius must be positive, got {inc.radius}")
    elif inc.shape == "ellipse":
        require(min(inc.semi_axes) > 0.0, f"ellipse semi-axes must be positive, got {list(inc.semi_axes)}")
    else:
        require(inc.side > 0.0, f"{inc.shape} side must be positive, got {inc.side}")


def _validate_in_hexagon(inc: Inclusion) -> None:
    """An inclusion of the hexagonal cell lies inside the hexagon (inradius 1/2) with a gap: its bounding
    ball against each of the six edges."""
    _validate_shape(inc, 2)
    angles = np.radians(60.0 * np.arange(6))  # edge normals: ±a_1, ±a_2, ±(a_2 − a_1) directions
    normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    reach = normals @ np.asarray(inc.centre) + inc.circumradius()
    require(bool(np.all(reach < 0.5 - _GAP)),
            f"{inc.shape} at centre {list(inc.centre)} (extent {inc.circumradius():g}) crosses or touches the "
            "hexagonal cell boundary (inradius 1/2, centred at the origin); move or shrink it")


def _extent(inc: Inclusion) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounding box of an inclusion (exact for rotated ellipses and squares)."""
    c = np.asarray(inc.centre, dtype=float)
    if inc.shape in ("circle", "sphere"):
        half = np.full(len(c), inc.radius)
    elif inc.shape == "cube":
        half = np.full(3, 0.5 * inc.side)
    else:
        t = math.radians(inc.angle)
        a, b = inc.semi_axes if inc.shape == "ellipse" else (0.5 * inc.side, 0.5 * inc.side)
        if inc.shape == "ellipse":
            half = np.array([math.hypot(a * math.cos(t), b * math.sin(t)),
                             math.hypot(a * math.sin(t), b * math.cos(t))])
        else:
            half = np.array([a * (abs(math.cos(t)) + abs(math.sin(t)))] * 2)
    return c - half, c + half


def _check_no_overlap(inclusions: Sequence[Inclusion]) -> None:
    """Inclusions must keep a gap between one another (circumscribed balls, then exact boxes)."""
    for a, b in itertools.combinations(inclusions, 2):
        dist = float(np.linalg.norm(np.subtract(a.centre, b.centre)))
        balls_apart = dist > a.circumradius() + b.circumradius() + _GAP
        (alo, ahi), (blo, bhi) = _extent(a), _extent(b)
        boxes_apart = bool(np.any(alo > bhi + _GAP) or np.any(blo > ahi + _GAP))
        exact_balls = {a.shape, b.shape} <= {"circle", "sphere"}
        require(balls_apart or (boxes_apart and not exact_balls),
                f"inclusions at {list(a.centre)} and {list(b.centre)} overlap or touch")


# ----------------------------------------------------------------------------------------------------------
# gmsh
# ----------------------------------------------------------------------------------------------------------

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
    size = [h - l for l, h in zip(lo, hi)]
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
        axis = _axis_of(geo.normal, d)
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
        In 3D the refined mesh depends slightly on the number of ranks (the diagonal splitting each
        tetrahedron's inner octahedron follows the vertex numbering), so serial and parallel tensors agree to
        discretization level (~1e-8 relative), not to round-off as they do without refinement.
    comm
        Communicator the mesh is distributed over.
    """
    require(0.0 < h <= 0.5 * geo.size.min(), f"mesh.h must lie in (0, {0.5 * geo.size.min():g}], got {h}")
    require(order in (1, 2), f"mesh.order must be 1 or 2, got {order}")
    if geo.dim == 1:
        return _interval_cell(geo, h / 2**refine, comm)
    require(refine >= 0, f"mesh.refine must be >= 0, got {refine}")
    require(refine == 0 or order == 1, "mesh.refine needs straight-sided geometry (mesh.order = 1)")
    with gmsh_session():
        if comm.rank == 0:
            _mesh_on_root(geo, h, order)
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
    """One uniform refinement; cell tags follow their parents; interface nodes go onto curved interfaces."""
    mesh.topology.create_entities(1)
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

    ``parent_cell`` is indexed by the fine cells' creation order on this rank, which dolfinx then reorders:
    the fine cell ``c`` was created as number ``original_cell_index[c] - offset``. (This replaces
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


CELL_DEFAULTS = {"lattice": "square", "dim": 2, "shape": "circle", "radius": 0.3, "side": 0.5, "semi_axes": [0.3, 0.2], "angle": 0.0,
                 "centre": [], "fraction": 0.5, "normal": [], "inclusions": [], "lengths": []}
"""The ``[cell]`` section every driver accepts (see :func:`geometry_from_config`)."""


def geometry_from_config(cell: dict) -> CellGeometry:
    """Translate the ``[cell]`` config section into a :class:`CellGeometry`.

    Keys: ``lattice`` (``"square"``, or ``"hexagonal"``: the triangular lattice's hexagonal cell, centred at
    the origin), ``dim``, ``lengths`` (side lengths of a rectangular/orthorhombic cell; default 1),
    ``shape`` (one of :data:`CELL_SHAPES`), ``radius`` (circle/sphere), ``side``
    (square/cube), ``semi_axes`` and ``angle`` (ellipse, square), ``centre`` (default: cell centre),
    ``fraction`` and ``normal`` (laminate; default ``e_1``), ``inclusions`` (shape ``"inclusions"``: a list of
    tables with the per-inclusion keys ``shape``, ``centre``, ``radius``, ``side``, ``semi_axes``, ``angle``).
    """
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
