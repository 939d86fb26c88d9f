"""Meshes of random windows ``Q_R = [0, R]^d`` with matching opposite faces (theory.md §3).

* Voxel windows (:class:`~fem_homog.cells.random_media.Voxels`) become structured meshes of squares/hexahedra,
  ``n`` cells a voxel side, each cell tagged with the phase of the voxel it lies in. Built in parallel by
  dolfinx; opposite faces match by construction.
* Disks/spheres with periodic wrap (:class:`~fem_homog.cells.random_media.Spheres`) are meshed with gmsh on rank 0
  of the communicator: every inclusion and each of its periodic images that meets the window is cut to the
  window (OCC ``intersect``), fragmented with the window box, and opposite faces are made periodic with
  :func:`fem_homog.cells.meshing.set_periodic`.

The result, :class:`WindowMesh`, offers ``mesh``, ``cell_tags`` and a ``geometry`` (:class:`WindowBox`) with what
:func:`fem_homog.statics.correctors.conductivity` reads from a cell, so periodic apparent tensors reuse it as is;
the gmsh options are those of periodic cells (:func:`fem_homog.cells.meshing.set_mesh_options`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import gmsh
import numpy as np
from mpi4py import MPI

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import gmsh_session, set_mesh_options, set_periodic
from fem_homog.cells.random_media import Spheres, Voxels
from fem_homog.core.errors import require

import dolfinx.io.gmsh
import dolfinx.mesh


@dataclass(frozen=True)
class WindowBox:
    """The window ``[0, R]^d`` as the periodic cell it is for the periodic condition: it offers the attributes
    of :class:`fem_homog.cells.geometry.CellGeometry` that :func:`fem_homog.statics.correctors.conductivity` and
    :func:`fem_homog.cells.meshing.set_mesh_options` read (``dim``, ``kind``, ``size``, ``lattice_vectors``,
    ``volume``).
    """

    dim: int
    side: float
    kind: str = "inclusions"

    @property
    def size(self) -> np.ndarray:
        return np.full(self.dim, self.side)

    @property
    def lattice_vectors(self) -> np.ndarray:
        """The square/cubic lattice ``R e_j`` of the periodized window."""
        return self.side * np.eye(self.dim)

    @property
    def volume(self) -> float:
        return self.side**self.dim


@dataclass
class WindowMesh:
    """A distributed mesh of one window with its phase tags."""

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    geometry: WindowBox

    @property
    def num_cells(self) -> int:
        return self.mesh.topology.index_map(self.mesh.topology.dim).size_global


def mesh_window(sample: Spheres | Voxels, *, comm: MPI.Comm, cells_per_voxel: int = 2, grading: float = 1.0,
                h: float = 0.1, order: int = 1) -> WindowMesh:
    """Mesh a realization: structured for voxels (``cells_per_voxel``, ``grading``), gmsh for disks/spheres
    (``h``, geometry ``order``)."""
    if isinstance(sample, Voxels):
        return voxel_mesh(sample, comm=comm, cells_per_voxel=cells_per_voxel, grading=grading)
    return spheres_mesh(sample, comm=comm, h=h, order=order)


# ----------------------------------------------------------------------------------------------------------
# voxels
# ----------------------------------------------------------------------------------------------------------

def graded(t: np.ndarray, grading: float) -> np.ndarray:
    """Map ``[0, 1]`` onto itself, fixing ``0``, ``½`` and ``1`` and crowding points towards both ends:
    ``t^q / (t^q + (1 − t)^q)`` with ``q = grading`` (1: uniform)."""
    return t**grading / (t**grading + (1.0 - t) ** grading)


def voxel_mesh(sample: Voxels, *, comm: MPI.Comm, cells_per_voxel: int = 2, grading: float = 1.0) -> WindowMesh:
    """Structured quadrilateral/hexahedral mesh, each cell tagged with its voxel's phase.

    With ``grading > 1`` the nodes inside each voxel are moved towards its faces (:func:`graded`, per
    coordinate), so the cells shrink towards the voxel edges and corners where the solution is singular
    (theory.md §3); the nodes on voxel faces stay, so every cell stays inside one voxel.
    """
    require(cells_per_voxel >= 1, f"must be >= 1, got {cells_per_voxel}", argument="cells_per_voxel")
    require(grading >= 1.0, f"must be >= 1, got {grading}", argument="grading")
    d, side = sample.dim, sample.size
    n = [sample.tags.shape[0] * cells_per_voxel] * d
    corners = [np.zeros(d), np.full(d, side)]
    if d == 2:
        mesh = dolfinx.mesh.create_rectangle(comm, corners, n, dolfinx.mesh.CellType.quadrilateral)
    else:
        mesh = dolfinx.mesh.create_box(comm, corners, n, dolfinx.mesh.CellType.hexahedron)
    cell_map = mesh.topology.index_map(d)
    cells = np.arange(cell_map.size_local + cell_map.num_ghosts, dtype=np.int32)
    midpoints = mesh.geometry.x[mesh.geometry.dofmaps[0][cells], :d].mean(axis=1)
    index = np.clip(np.floor(midpoints / sample.voxel).astype(np.int64), 0, sample.tags.shape[0] - 1)
    if grading != 1.0:
        x = mesh.geometry.x[:, :d] / sample.voxel
        whole = np.round(x * cells_per_voxel) // cells_per_voxel  # the voxel below each node (faces: itself)
        mesh.geometry.x[:, :d] = sample.voxel * (whole + graded(x - whole, grading))
    values = sample.tags[tuple(index.T)].astype(np.int32)
    return WindowMesh(mesh, dolfinx.mesh.meshtags(mesh, d, cells, values), WindowBox(d, side))


# ----------------------------------------------------------------------------------------------------------
# disks / spheres with periodic wrap
# ----------------------------------------------------------------------------------------------------------

def periodic_images(sample: Spheres) -> np.ndarray:
    """Centres of all copies ``c + n R`` (``n ∈ {-1, 0, 1}^d``) of the inclusions that meet the window."""
    R, r = sample.size, sample.radius
    copies = []
    for shift in itertools.product((-1, 0, 1), repeat=sample.dim):
        moved = sample.centres + R * np.asarray(shift, dtype=float)
        meets = np.all((moved - r < R) & (moved + r > 0.0), axis=1)
        copies.append(moved[meets])
    return np.concatenate(copies)


def _build_spheres_model(sample: Spheres) -> None:
    """OCC model: the window box fragmented with the (clipped) inclusions; physical groups; periodic faces."""
    occ, d, R = gmsh.model.occ, sample.dim, sample.size
    box = occ.addRectangle(0, 0, 0, R, R) if d == 2 else occ.addBox(0, 0, 0, R, R, R)
    pieces = []
    for c in periodic_images(sample):
        ball = (occ.addDisk(c[0], c[1], 0.0, sample.radius, sample.radius) if d == 2
                else occ.addSphere(*c, sample.radius))
        clip = occ.addRectangle(0, 0, 0, R, R) if d == 2 else occ.addBox(0, 0, 0, R, R, R)
        inside, _ = occ.intersect([(d, ball)], [(d, clip)])
        pieces += inside
    _, children = occ.fragment([(d, box)], pieces)
    occ.synchronize()
    inclusion = sorted({t for child in children[1:] for _, t in child})
    matrix = sorted({t for _, t in children[0]} - set(inclusion))
    gmsh.model.addPhysicalGroup(d, matrix, MATRIX, name="matrix")
    gmsh.model.addPhysicalGroup(d, inclusion, INCLUSION, name="inclusion")
    set_periodic(np.full(d, R))


def spheres_mesh(sample: Spheres, *, comm: MPI.Comm, h: float = 0.1, order: int = 1) -> WindowMesh:
    """Mesh a periodic disk/sphere window with gmsh on rank 0 of ``comm`` and distribute it over ``comm``.

    ``h`` is the element size in units of the inclusion spacing, refined along curved interfaces; ``order``
    2 gives curved elements.
    """
    require(0.0 < h <= 2.0 * sample.radius, f"must lie in (0, {2 * sample.radius:.3g}], got {h}", argument="h")
    require(order in (1, 2), f"must be 1 or 2, got {order}", argument="order")
    d, box = sample.dim, WindowBox(sample.dim, sample.size)
    with gmsh_session():
        if comm.rank == 0:
            _build_spheres_model(sample)
            set_mesh_options(box, h)
            gmsh.model.mesh.generate(d)
            if order > 1:
                gmsh.model.mesh.setOrder(order)
        data = dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=d)
    return WindowMesh(data.mesh, data.cell_tags, box)
