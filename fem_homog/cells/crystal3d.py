"""3D crystal cells: the simple cubic cell and the primitive (rhombohedral) cell of the fcc lattice, holding
spheres that may overlap one another and are wrapped across the periodic boundary (theory.md §1 "3D crystal cells").

The cell is the parallelepiped ``{o + Σ s_j a_j : 0 ≤ s_j ≤ 1}`` (``o`` the origin, or ``−(a_1 + a_2 + a_3)/2``
for the inverse opal: :attr:`CrystalGeometry.origin`) spanned by the lattice vectors (rows of
:func:`fem_homog.cells.lattice.fcc_vectors` for ``"fcc"``, the unit cube for ``"cubic"``; cubic constant
``a = 1``). The spheres of the basis and all their lattice translates that reach the cell are fragmented with it
and the pieces outside the cell dropped, so a sphere centred at the origin (a cell corner) appears as its pieces
in the corners. Face ``s_j = 1`` is meshed as the translate by ``a_j`` of face ``s_j = 0`` (gmsh ``setPeriodic``),
so :func:`fem_homog.fem.periodic.periodic_map` matches the boundary nodes with the lattice translations. Where
spheres overlap, :func:`mesh_crystal` can grade the mesh towards their intersection circles (``h_min``), where the
field is singular.

Shapes (``shape``), all spheres of one radius ``radius``, tagged ``INCLUSION`` (the rest ``MATRIX``):

* ``"sphere"`` – one sphere per lattice site (at the origin);
* ``"diamond"`` – fcc only: the two-sphere basis at ``±(1/8, 1/8, 1/8)`` (the diamond structure; the spheres
  overlap when ``radius > √3/8``);
* ``"inverse_opal"`` – fcc only: the sphere at every site, meant as the air spheres of an inverse opal (overlapping
  when ``radius > √2/4``): the ``INCLUSION`` phase is the air, the ``MATRIX`` the dielectric;
* ``"inclusions"`` – spheres at the given Cartesian ``centres``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import gmsh
import numpy as np
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.lattice import fcc_vectors
from fem_homog.cells.meshing import CellMesh, gmsh_session, set_mesh_options
from fem_homog.core.errors import require
from fem_homog.core.parallel import on_root

import dolfinx.io.gmsh

CRYSTAL_LATTICES = ("cubic", "fcc")
CRYSTAL_SHAPES = ("sphere", "diamond", "inverse_opal", "inclusions")
_GAP = 1e-3  # smallest distance allowed between a sphere and a tangency (to a face or another sphere)


@dataclass(frozen=True)
class CrystalGeometry:
    """A 3D crystal cell (validated on construction): lattice ``"cubic"`` or ``"fcc"``, ``shape`` one of
    :data:`CRYSTAL_SHAPES`, the spheres' ``radius`` (units of the cubic constant) and, for ``"inclusions"``, their
    Cartesian ``centres``. Offers the attributes of :class:`~fem_homog.cells.geometry.CellGeometry` the solvers read
    (``dim``, ``kind``, ``lattice``, ``lattice_vectors``, ``volume``, ``size``, ``nominal_inclusion_fraction``)."""

    lattice: str
    shape: str
    radius: float
    centres: tuple[tuple[float, float, float], ...] = ()
    dim: int = 3
    kind: str = "inclusions"

    def __post_init__(self) -> None:
        validate_crystal(self)

    @property
    def lattice_vectors(self) -> np.ndarray:
        """The lattice vectors (rows) the cell is spanned by and periodic with."""
        return fcc_vectors() if self.lattice == "fcc" else np.eye(3)

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.lattice_vectors)))

    @property
    def size(self) -> np.ndarray:
        """Extent of the cell's bounding box (1 along each axis for both lattices)."""
        corners = np.array(list(itertools.product((0, 1), repeat=3))) @ self.lattice_vectors
        return np.ptp(corners, axis=0)

    @property
    def heights(self) -> np.ndarray:
        """Distance between the opposite faces ``s_j = 0`` and ``s_j = 1``."""
        return 1.0 / np.linalg.norm(np.linalg.inv(self.lattice_vectors).T, axis=1)

    def basis(self) -> np.ndarray:
        """Cartesian centres of the spheres of one cell (one per lattice site and basis member)."""
        if self.shape == "diamond":
            return np.array([[0.125] * 3, [-0.125] * 3])
        if self.shape == "inclusions":
            return np.asarray(self.centres, dtype=float).reshape(-1, 3)
        return np.zeros((1, 3))

    @property
    def origin(self) -> np.ndarray:
        """The cell's first corner: the origin, except for the inverse opal, whose cell is centred on a sphere
        (gmsh cannot make the faces periodic when the spheres' intersection circles meet the cell's edges)."""
        return -0.5 * self.lattice_vectors.sum(axis=0) if self.shape == "inverse_opal" else np.zeros(3)

    def images(self) -> np.ndarray:
        """Every lattice translate of the basis spheres that may reach the closed cell (a slab test per face)."""
        A = self.lattice_vectors
        frac = np.mod((self.basis() - self.origin) @ np.linalg.inv(A), 1.0)
        shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)))
        s = (frac[:, None, :] + shifts[None, :, :]).reshape(-1, 3)
        reach = self.radius / self.heights
        keep = np.all((s > -reach - 1e-12) & (s < 1 + reach + 1e-12), axis=1)
        return self.origin + s[keep] @ A

    def nominal_inclusion_fraction(self) -> float:
        """Exact volume fraction of the spheres' union: ``N V_ball − Σ lens(d_ij)`` over overlapping pairs
        (``lens(d) = π (4r + d)(2r − d)² / 12``), exact while no three spheres share a point (checked)."""
        r, centres = self.radius, self.basis()
        neighbours = _neighbour_distances(centres, self.lattice_vectors, r)
        lenses = sum(math.pi * (4 * r + d) * (2 * r - d) ** 2 / 12 for row in neighbours for d in row)
        return (len(centres) * 4 / 3 * math.pi * r**3 - 0.5 * lenses) / self.volume


def _neighbour_distances(centres: np.ndarray, lattice: np.ndarray, r: float) -> list[list[float]]:
    """For each basis sphere, the distances to the other spheres (all lattice images) it overlaps; raises
    :class:`InputError` if three spheres share a point (the pairwise volume formula would be wrong)."""
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ lattice
    everyone = (centres[:, None, :] + shifts[None, :, :]).reshape(-1, 3)
    out = []
    for c in centres:
        d = np.linalg.norm(everyone - c, axis=1)
        near = everyone[(d > 1e-12) & (d < 2 * r)]
        for p, q in itertools.combinations(near, 2):
            require(np.linalg.norm(p - q) >= 2 * r or _enclosing_radius(c, p, q) > r,
                    f"three spheres of radius {r} share a point; the exact inclusion fraction is not available")
        out.append(np.linalg.norm(near - c, axis=1).tolist())
    return out


def _enclosing_radius(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Radius of the smallest ball containing three points (balls of radius r about them meet iff r ≥ it)."""
    sides = sorted([np.linalg.norm(b - c), np.linalg.norm(a - c), np.linalg.norm(a - b)])
    if sides[2] ** 2 >= sides[0] ** 2 + sides[1] ** 2:  # right or obtuse: half the longest side
        return 0.5 * sides[2]
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a))
    return sides[0] * sides[1] * sides[2] / (4 * area)


def validate_crystal(geo: CrystalGeometry) -> None:
    """Raise :class:`InputError` (naming ``lattice``, ``shape``, ``radius`` or ``centres``) if the cell cannot be
    meshed: unknown names, a diamond or inverse opal on the cubic lattice, a radius that is not positive, that
    reaches past the neighbouring cell (``radius < min height``), or a sphere (almost) tangent to a face plane or
    to another sphere."""
    require(geo.lattice in CRYSTAL_LATTICES, f"unknown {{argument}} '{geo.lattice}' for a 3D crystal (known: "
                                            f"{', '.join(CRYSTAL_LATTICES)})", argument="lattice")
    require(geo.shape in CRYSTAL_SHAPES, f"unknown {{argument}} '{geo.shape}' (known: {', '.join(CRYSTAL_SHAPES)})",
            argument="shape")
    require(geo.lattice == "fcc" or geo.shape in ("sphere", "inclusions"),
            f"'{geo.shape}' is an fcc crystal ({{argument}} = \"fcc\")", argument="lattice")
    require(geo.shape == "inclusions" or not geo.centres, "apply to shape = \"inclusions\" only", argument="centres")
    if geo.shape == "inclusions":
        require(len(geo.centres) > 0 and all(len(c) == 3 for c in geo.centres),
                f"must be a list of 3D points, got {list(geo.centres)}", argument="centres")
    h_min = float(geo.heights.min())
    require(0.0 < geo.radius < h_min - _GAP, f"must lie in (0, {h_min - _GAP:.4g}), got {geo.radius}",
            argument="radius")
    s = (geo.images() - geo.origin) @ np.linalg.inv(geo.lattice_vectors)
    to_faces = np.abs(np.concatenate([s, s - 1.0], axis=1)) * np.tile(geo.heights, 2)
    require(bool(np.all(np.abs(to_faces - geo.radius) > _GAP)),
            f"a sphere of radius {geo.radius} is tangent to a cell face; change {{argument}} or the centres",
            argument="radius")
    images = geo.images()
    d = np.linalg.norm(images[:, None, :] - images[None, :, :], axis=2)
    require(bool(np.all((d < 1e-9) | (np.abs(d - 2 * geo.radius) > _GAP))),
            f"two spheres of radius {geo.radius} touch; change {{argument}} or the centres", argument="radius")


def _add_cell(lattice: np.ndarray, origin: np.ndarray) -> int:
    """The parallelepiped spanned by the rows of ``lattice`` from ``origin`` (the unit box mapped by
    ``x = origin + Aᵀ s``)."""
    occ = gmsh.model.occ
    box = occ.addBox(0.0, 0.0, 0.0, 1.0, 1.0, 1.0)
    if not np.allclose(lattice, np.eye(3)) or np.any(origin):
        matrix = np.concatenate([lattice.T, origin[:, None]], axis=1)
        occ.affineTransform([(3, box)], matrix.ravel().tolist())
    return box


def _phase_volumes(geo: CrystalGeometry) -> tuple[list[int], list[int]]:
    """Fragment the cell with every sphere image; keep the pieces inside the cell: (matrix, inclusion) tags."""
    occ = gmsh.model.occ
    cell = _add_cell(geo.lattice_vectors, geo.origin)
    spheres = [(3, occ.addSphere(*c, geo.radius)) for c in geo.images()]
    _, pieces = occ.fragment([(3, cell)], spheres)
    occ.synchronize()
    inside = {t for _, t in pieces[0]}
    inclusion = sorted(inside & {t for piece in pieces[1:] for _, t in piece})
    outside = {t for piece in pieces[1:] for _, t in piece} - inside
    occ.remove([(3, t) for t in sorted(outside)], recursive=True)
    occ.synchronize()
    return sorted(inside - set(inclusion)), inclusion


def _on_plane(surface: int, normal: np.ndarray, offset: float) -> bool:
    """Whether a surface lies in the plane ``x·normal = offset`` (three generic parameter points on it)."""
    lo, hi = gmsh.model.getParametrizationBounds(2, surface)
    uv = np.array([lo + f * (np.asarray(hi) - lo) for f in ([0.3, 0.4], [0.7, 0.2], [0.45, 0.8])])
    x = np.reshape(gmsh.model.getValue(2, surface, uv.ravel().tolist()), (-1, 3))
    return bool(np.allclose(x @ normal, offset, atol=1e-9))


def set_periodic_faces(lattice: np.ndarray, origin: np.ndarray) -> None:
    """Make the mesh of each face piece on ``s_j = 1`` the translate by ``a_j`` of its partner on ``s_j = 0``
    (``x = origin + Σ s_j a_j``; partners: same area, centres of mass one lattice vector apart)."""
    occ = gmsh.model.occ
    surfaces = [t for _, t in gmsh.model.getEntities(2)]
    dual = np.linalg.inv(lattice).T  # rows b_j / 2π: x·dual_j = s_j
    for j, a in enumerate(lattice):
        on = {side: [s for s in surfaces if _on_plane(s, dual[j], side + origin @ dual[j])] for side in (0.0, 1.0)}
        affine = np.eye(4)
        affine[:3, 3] = a
        for s in on[1.0]:
            centre, area = np.array(occ.getCenterOfMass(2, s)), occ.getMass(2, s)
            partners = [m for m in on[0.0] if np.allclose(np.array(occ.getCenterOfMass(2, m)) + a, centre, atol=1e-7)
                        and math.isclose(occ.getMass(2, m), area, rel_tol=1e-7)]
            if len(partners) != 1:
                raise RuntimeError(f"gmsh: face piece {s} on s_{j} = 1 has {len(partners)} periodic partners")
            gmsh.model.mesh.setPeriodic(2, [s], partners, affine.ravel().tolist())


def make_copies_exact() -> None:
    """Move every periodic slave node to its master plus the translation, to round-off.

    gmsh re-projects the copied nodes onto the slave faces of the (affinely transformed) OCC geometry, which puts
    them ~1e-9 off the exact translates; the H(curl) prolongation needs better. Corner and edge nodes are slaves of
    slaves, hence three sweeps (one per lattice direction in a chain)."""
    tags, coords, _ = gmsh.model.mesh.getNodes()
    where = np.zeros(int(tags.max()) + 1, dtype=np.int64)
    where[tags] = np.arange(len(tags))
    x = coords.reshape(-1, 3).copy()
    pairs = []
    for dim, tag in gmsh.model.getEntities(2) + gmsh.model.getEntities(1) + gmsh.model.getEntities(0):
        master, slaves, masters, affine = gmsh.model.mesh.getPeriodicNodes(dim, tag, includeHighOrderNodes=True)
        if master != tag and len(slaves):
            pairs.append((where[np.asarray(slaves)], where[np.asarray(masters)], np.asarray(affine)[[3, 7, 11]]))
    moved = np.zeros(len(x), dtype=bool)
    for _ in range(3):
        for slave, master, shift in pairs:
            x[slave] = x[master] + shift
            moved[slave] = True
    for i in np.flatnonzero(moved):
        gmsh.model.mesh.setNode(int(tags[i]), x[i].tolist(), [])


@dataclass(frozen=True)
class Grading:
    """Mesh grading towards the circles where two spheres intersect (validated by :func:`mesh_crystal`): element
    size ``h_min`` on them, growing as ``h_min + (h − h_min) (d / reach)^power`` with the distance ``d`` up to
    ``h``."""

    h_min: float
    reach: float = 0.15
    power: float = 1.0


def intersection_curves(geo: CrystalGeometry) -> list[int]:
    """The gmsh curves (of the current model) where two spheres intersect: pieces of the circles along which the
    surface of the union of spheres has a crease (their midpoints lie on two sphere images)."""
    images, curves = geo.images(), []
    for _, curve in gmsh.model.getEntities(1):
        lo, hi = gmsh.model.getParametrizationBounds(1, curve)
        x = np.array(gmsh.model.getValue(1, curve, [0.5 * (lo[0] + hi[0])]))
        if np.count_nonzero(np.abs(np.linalg.norm(images - x, axis=1) - geo.radius) < 1e-7) >= 2:
            curves.append(curve)
    return curves


def grade_towards_intersections(geo: CrystalGeometry, h: float, grading: Grading) -> None:
    """Element size ``h_min + (h − h_min) (d / reach)^power`` at distance ``d`` from the spheres' intersection
    curves (capped at ``h`` by ``Mesh.MeshSizeMax``): a gmsh Distance field feeding a MathEval background field
    (theory.md §11.4)."""
    curves = intersection_curves(geo)
    if not curves:
        raise RuntimeError("gmsh: no intersection curves found although the spheres overlap")
    field = gmsh.model.mesh.field
    dist = field.add("Distance")
    field.setNumbers(dist, "CurvesList", curves)
    field.setNumber(dist, "Sampling", max(200, math.ceil(2.0 / grading.h_min)))  # curves < 1 long: < h_min/2 apart
    size = field.add("MathEval")
    h_min, reach, power = grading.h_min, grading.reach, grading.power
    field.setString(size, "F", f"{h_min!r} + {h - h_min!r} * (F{dist} / {reach!r})^{power!r}")
    field.setAsBackgroundMesh(size)
    gmsh.option.setNumber("Mesh.MeshSizeMin", h_min)


def _mesh_on_root(geo: CrystalGeometry, h: float, order: int, grading: Grading | None) -> None:
    matrix, inclusion = _phase_volumes(geo)
    gmsh.model.addPhysicalGroup(3, matrix, MATRIX, name="matrix")
    gmsh.model.addPhysicalGroup(3, inclusion, INCLUSION, name="inclusion")
    set_periodic_faces(geo.lattice_vectors, geo.origin)
    set_mesh_options(geo, h)
    if grading is not None:
        grade_towards_intersections(geo, h, grading)
    gmsh.model.mesh.generate(3)
    if order > 1:
        gmsh.model.mesh.setOrder(order)
    make_copies_exact()


def spheres_overlap(geo: CrystalGeometry) -> bool:
    """Whether two of the crystal's spheres (any lattice images) intersect."""
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ geo.lattice_vectors
    everyone = (geo.basis()[:, None, :] + shifts[None, :, :]).reshape(-1, 3)
    d = np.linalg.norm(everyone[None, :, :] - geo.basis()[:, None, :], axis=2)
    return bool(np.any((d > 1e-12) & (d < 2 * geo.radius)))


def mesh_crystal(geo: CrystalGeometry, *, h: float, order: int = 2, h_min: float | None = None,
                 grade_reach: float = 0.15, grade_power: float = 1.0, comm: MPI.Comm = MPI.COMM_WORLD) -> CellMesh:
    """Mesh a 3D crystal cell with gmsh on rank 0 of ``comm`` (tetrahedra, curved when ``order = 2``) and
    distribute it; the result is a :class:`~fem_homog.cells.meshing.CellMesh` with ``geometry = geo``.

    With ``h_min`` the mesh is graded towards the circles where two spheres intersect, where the field is
    singular (theory.md §11.4): element size ``h_min`` on them, growing as ``h_min + (h − h_min) (d / grade_reach)^
    grade_power`` with the distance ``d`` to ``h`` (``grade_power = 1``: linearly, reaching ``h`` at
    ``grade_reach``). Off by default (``None``: a quasi-uniform mesh of size ``h``).

    Raises :class:`InputError` about ``h`` (outside ``(0, min height / 2]``), ``order`` (not 1 or 2), ``h_min``
    (outside ``(0, h]``, or no two spheres intersect), ``grade_reach`` or ``grade_power`` (not positive).
    """
    h_max = 0.5 * float(geo.heights.min())
    require(0.0 < h <= h_max, f"must lie in (0, {h_max:.4g}], got {h}", argument="h")
    require(order in (1, 2), f"must be 1 or 2, got {order}", argument="order")
    grading = None if h_min is None else _grading(geo, h, h_min, grade_reach, grade_power)
    with gmsh_session():
        on_root(comm, lambda: _mesh_on_root(geo, h, order, grading), broadcast=False)
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=3)
    return CellMesh(mesh=data.mesh, cell_tags=data.cell_tags, geometry=geo, h=h, order=order)


def _grading(geo: CrystalGeometry, h: float, h_min: float, reach: float, power: float) -> Grading:
    """The validated :class:`Grading` of :func:`mesh_crystal`."""
    require(0.0 < h_min <= h, f"must lie in (0, h = {h:g}], got {h_min}", argument="h_min")
    require(reach > 0.0, f"must be positive, got {reach}", argument="grade_reach")
    require(power > 0.0, f"must be positive, got {power}", argument="grade_power")
    require(spheres_overlap(geo), f"grades the mesh towards the circles where spheres intersect; no two spheres "
                                  f"(radius {geo.radius}) of this {geo.shape} crystal do (drop it)", argument="h_min")
    return Grading(h_min, reach, power)
