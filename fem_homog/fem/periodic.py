"""Periodic and Bloch-phase constraints as a sparse prolongation ``P`` (theory.md §5.1).

dolfinx has no periodic boundary conditions (and ``dolfinx_mpc`` is not available), so a periodic space is
represented by the full Lagrange space ``V`` on a cell mesh with matching opposite faces, plus a prolongation
``P`` from "reduced" (master) dofs to all dofs:

* the nodes on the cell boundary fall into classes of periodic images (nodes that differ by a lattice vector:
  opposite faces of a box, all corners together; the three pairs of opposite edges of a hexagonal cell);
  the node of each class with the smallest global number is its *master*, the others are *slaves*;
* every other dof is a master and maps to itself with weight 1.

The weight of a slave at ``y_m + Σ n_j a_j`` (``n`` integer, ``a_j`` the lattice vectors) is ``exp(i k·Σ n_j a_j)``:
1 for periodic functions, ±1 for (anti)periodic ones at Brillouin-zone edges and a Bloch phase for
quasi-periodic ones. Reduced operators are ``A_r = P^H A P``, ``b_r = P^H b`` and ``u = P u_r``.

Parallel design: the owned boundary nodes of every rank (coordinates and global numbers: boundary data only)
are gathered on all ranks, which build the same classes with a k-d tree (a query per lattice translation) and
a connected-components pass (:func:`gathered_classes`, shared with the entity prolongation of theory.md §11.2).
Rows of ``P`` are in dolfinx's global dof numbering, so ``P`` composes with
matrices from :mod:`dolfinx.fem.petsc` directly. The node match is built once per space (:class:`PeriodicMap`)
and reused for every k-point (:func:`prolongation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from mpi4py import MPI
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from fem_homog.cells.lattice import bloch_angles, reciprocal, translations
from fem_homog.core.errors import InputError, require_collective

import dolfinx.fem
import dolfinx.fem.petsc
from petsc4py import PETSc

MATCH_TOL = 1e-8  # relative to the cell size: gmsh copies periodic nodes exactly, up to round-off


@dataclass(frozen=True)
class PeriodicMap:
    """Slave→master matching of the nodes of a function space on a periodic cell.

    Attributes
    ----------
    V
        The (scalar or blocked) Lagrange space.
    lattice
        The lattice vectors (rows ``a_j``) the cell is periodic with.
    reduced_node
        For each owned node, the global number of its master among the reduced nodes.
    shift
        For each owned node, the integers ``n`` with ``y_node = y_master + Σ n_j a_j`` (0 for masters).
    num_reduced_local, reduced_offset
        How many reduced nodes this rank owns, and the global number of its first one.
    num_reduced_global
        Total number of reduced nodes.
    """

    V: dolfinx.fem.FunctionSpace
    lattice: np.ndarray
    reduced_node: np.ndarray
    shift: np.ndarray
    num_reduced_local: int
    reduced_offset: int
    num_reduced_global: int

    @property
    def block_size(self) -> int:
        return self.V.dofmap.index_map_bs

    @property
    def comm(self) -> MPI.Comm:
        return self.V.mesh.comm


def box_lattice(x: np.ndarray, comm: MPI.Comm, gdim: int) -> np.ndarray:
    """The lattice of a box cell, ``diag(L)``, from the extent of the mesh nodes over all ranks."""
    lo = np.full(gdim, np.inf)
    hi = np.full(gdim, -np.inf)
    if len(x):
        lo, hi = x.min(axis=0), x.max(axis=0)
    lo_all, hi_all = np.empty(gdim), np.empty(gdim)
    comm.Allreduce(np.ascontiguousarray(lo, dtype=float), lo_all, op=MPI.MIN)
    comm.Allreduce(np.ascontiguousarray(hi, dtype=float), hi_all, op=MPI.MAX)
    return np.diag(hi_all - lo_all)


def _boundary_nodes(x: np.ndarray, lattice: np.ndarray, comm: MPI.Comm, tol: float) -> np.ndarray:
    """Owned nodes on the boundary of the (convex) cell: those where ``x·t̂`` reaches its maximum over the mesh
    for some lattice or reciprocal-lattice translation ``t`` (box faces and corners, hexagon edges and vertices,
    the faces of a parallelepiped, normal to the reciprocal vectors). Geometric, so it does not depend on how the
    mesh is partitioned (exterior facets of 1D meshes without ghost cells include the boundaries between ranks)."""
    directions = np.concatenate([translations(lattice), translations(reciprocal(lattice))])
    directions = directions / np.linalg.norm(directions, axis=1)[:, None]
    height = x @ directions.T
    local_top = height.max(axis=0) if len(x) else np.full(len(directions), -np.inf)
    top = np.empty_like(local_top)
    comm.Allreduce(np.ascontiguousarray(local_top), top, op=MPI.MAX)
    return np.flatnonzero((height >= top - tol).any(axis=1)).astype(np.int32)


def _image_classes(x: np.ndarray, lattice: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Classes of boundary nodes that are lattice translates of one another: a component label per node and
    whether each node has at least one image (a periodic mesh has one for every boundary node)."""
    tree = cKDTree(x)
    rows, cols = [], []
    for t in translations(lattice):
        dist, nearest = tree.query(x + t, distance_upper_bound=tol)
        hit = np.isfinite(dist)
        rows.append(np.flatnonzero(hit))
        cols.append(nearest[hit])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(x), len(x)))
    _, label = connected_components(graph, directed=False)
    has_image = np.zeros(len(x), dtype=bool)
    has_image[rows] = True
    return label, has_image


@dataclass(frozen=True)
class GatheredClasses:
    """Classes of periodic images among boundary points gathered from every rank (in rank order).

    Attributes
    ----------
    master
        For each gathered point, the gathered index of its class's master (the point with the smallest id).
    mine
        The gathered indices of this rank's points.
    problem
        None, or the message naming one of this rank's points that has no periodic image (the mesh is not
        periodic); pass it to :func:`~fem_homog.core.errors.require_collective`.
    """

    master: np.ndarray
    mine: np.ndarray
    problem: str | None

    @property
    def is_master(self) -> np.ndarray:
        """Whether each of this rank's points is the master of its class."""
        return self.master[self.mine] == self.mine


def gathered_classes(x: np.ndarray, ids: np.ndarray, num_mine: int, lattice: np.ndarray, comm: MPI.Comm,
                     tol: float, *, what: str = "node") -> GatheredClasses:
    """Group gathered boundary points (coordinates ``x``, global ``ids``; this rank contributed ``num_mine``
    of them, after those of the lower ranks) into classes of lattice translates and pick each class's master:
    its point with the smallest id (theory.md §5.1). The same on every rank; shared by the node map here and
    the entity map of :mod:`fem_homog.fem.prolongation` (``what`` names the points in the message)."""
    if len(x):
        label, has_image = _image_classes(x, lattice, tol)
    else:
        label, has_image = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    smallest = np.full(label.max() + 1 if len(label) else 0, np.iinfo(np.int64).max)
    np.minimum.at(smallest, label, ids)
    sorter = np.argsort(ids)
    master = sorter[np.searchsorted(ids, smallest[label], sorter=sorter)]
    start = comm.exscan(num_mine) or 0
    mine = np.arange(start, start + num_mine)
    lonely = np.flatnonzero(~has_image[mine])
    problem = None
    if len(lonely):
        problem = (f"the mesh is not periodic: the boundary {what} at {x[mine][lonely[0]].tolist()} has no "
                   f"periodic image ({len(lonely)} such on rank {comm.rank}); mesh the cell with matching "
                   "opposite faces (gmsh setPeriodic)")
    return GatheredClasses(master=master, mine=mine, problem=problem)


def periodic_map(V: dolfinx.fem.FunctionSpace, lattice: np.ndarray | None = None) -> PeriodicMap:
    """Group the boundary nodes of ``V`` into classes of periodic images and pick a master for each.

    Parameters
    ----------
    V
        Lagrange space (scalar or blocked) on a periodic cell mesh.
    lattice
        Lattice vectors (rows); default: the box spanned by the mesh nodes (square/rectangular/cubic cells).

    Raises
    ------
    InputError
        If a boundary node has no periodic image (the mesh is not periodic).
    """
    comm = V.mesh.comm
    gdim = V.mesh.geometry.dim
    index_map = V.dofmap.index_map
    n_owned = index_map.size_local
    x = V.tabulate_dof_coordinates()[:n_owned, :gdim]
    lattice = box_lattice(x, comm, gdim) if lattice is None else np.asarray(lattice, dtype=float)
    tol = MATCH_TOL * np.abs(lattice).max()

    boundary = _boundary_nodes(x, lattice, comm, tol)
    global_id = index_map.local_to_global(np.arange(n_owned, dtype=np.int32)).astype(np.int64)
    all_x = np.concatenate(comm.allgather(x[boundary])).reshape(-1, gdim)
    all_id = np.concatenate(comm.allgather(global_id[boundary]))
    classes = gathered_classes(all_x, all_id, len(boundary), lattice, comm, tol)
    require_collective(comm, classes.problem)
    master, mine, is_master = classes.master, classes.mine, classes.is_master
    is_slave = np.zeros(n_owned, dtype=bool)
    is_slave[boundary] = ~is_master
    num_reduced_local = int(np.count_nonzero(~is_slave))
    reduced_offset = comm.exscan(num_reduced_local) or 0
    num_reduced_global = comm.allreduce(num_reduced_local)
    reduced_node = np.full(n_owned, -1, dtype=np.int64)
    reduced_node[~is_slave] = reduced_offset + np.arange(num_reduced_local)

    # reduced numbers of the gathered masters, then of this rank's slaves
    reduced_of_gathered = np.concatenate(comm.allgather(reduced_node[boundary]))
    slaves = boundary[~is_master]
    reduced_node[slaves] = reduced_of_gathered[master[mine][~is_master]]
    shift = np.zeros((n_owned, gdim), dtype=np.int64)
    offsets = all_x[mine] - all_x[master[mine]]
    shift[boundary] = np.rint(np.linalg.solve(lattice.T, offsets.T).T).astype(np.int64)
    return PeriodicMap(V=V, lattice=lattice, reduced_node=reduced_node, shift=shift,
                       num_reduced_local=num_reduced_local, reduced_offset=reduced_offset,
                       num_reduced_global=num_reduced_global)


def lattice_phases(k: Sequence[float] | None, lattice: np.ndarray) -> np.ndarray:
    """Per-period Bloch factors ``exp(i k·a_j)`` with exact ±1 at the zone centre and edges."""
    if k is None:
        return np.ones(len(lattice), dtype=complex)
    k = np.asarray(k, dtype=float)
    if k.shape != (len(lattice),):
        raise InputError(f"k-point {k.tolist()} must have {len(lattice)} components")
    angle = bloch_angles(k, lattice)
    phase = np.exp(1j * angle)
    wrapped = np.abs(np.mod(angle + np.pi, 2 * np.pi) - np.pi)
    phase[np.isclose(wrapped, 0.0, atol=1e-14)] = 1.0
    phase[np.isclose(wrapped, np.pi, atol=1e-14)] = -1.0
    return phase


def prolongation(pmap: PeriodicMap, k: Sequence[float] | None = None) -> PETSc.Mat:
    """The prolongation ``P`` (full dofs × reduced dofs) with weights ``exp(i k·n)``.

    Parameters
    ----------
    pmap
        The node matching of the space.
    k
        Bloch wave vector (Cartesian, inverse units of the mesh coordinates): ``exp(i k·a_j)`` is the phase
        across the period ``a_j``; ``None`` (or zeros) gives the periodic constraint, ``k·a_j = π``
        antiperiodicity.

    Returns
    -------
    PETSc.Mat
        An AIJ matrix with one entry per row, block size equal to the space's.
    """
    V, bs = pmap.V, pmap.block_size
    index_map = V.dofmap.index_map
    n_owned = index_map.size_local
    phase = lattice_phases(k, pmap.lattice)
    weight = np.prod(phase[None, :] ** pmap.shift, axis=1)
    if k is None or np.all(phase.imag == 0):
        weight = weight.real.astype(PETSc.ScalarType)

    cols = pmap.reduced_node[:, None] * bs + np.arange(bs)
    vals = np.repeat(weight, bs).astype(PETSc.ScalarType)

    indptr = np.arange(n_owned * bs + 1, dtype=PETSc.IntType)
    return PETSc.Mat().createAIJ(
        size=((n_owned * bs, index_map.size_global * bs),
              (pmap.num_reduced_local * bs, pmap.num_reduced_global * bs)),
        bsize=bs, csr=(indptr, cols.ravel().astype(PETSc.IntType), vals), comm=pmap.comm)


def is_real(P: PETSc.Mat) -> bool:
    """Whether every weight of ``P`` is real (periodic or ±1 constraints)."""
    local = P.getValuesCSR()[2]
    return P.getComm().tompi4py().allreduce(bool(np.all(local.imag == 0)), op=MPI.LAND)


PARALLEL_PTAP = "allatonce"
"""The algorithm of a parallel (MPIAIJ) ``PtAP``: PETSc's default keeps intermediate products about as large as
the serial ones, ``allatonce`` cut the peak memory per rank of 3D reductions by 22–33 % at the same speed and
results (benchmarks/README.md, scalar 3D at scale). A user's ``-matptap_via`` wins."""


def reduce_matrix(A: PETSc.Mat, P: PETSc.Mat) -> PETSc.Mat:
    """``A_r = P^H A P`` (PETSc ``PtAP`` for a real ``P``, in parallel with :data:`PARALLEL_PTAP`; ``PtAP`` does
    not conjugate a complex one)."""
    if is_real(P):
        options = PETSc.Options()
        ours = A.getType() == PETSc.Mat.Type.MPIAIJ and not options.hasName("matptap_via")
        if ours:
            options["matptap_via"] = PARALLEL_PTAP
        try:
            return A.PtAP(P)
        finally:
            if ours:
                options.delValue("matptap_via")
    P_H = P.hermitianTranspose(PETSc.Mat())  # without an output matrix petsc4py transposes P in place
    return P_H.matMult(A.matMult(P))


def reduce_vector(b: PETSc.Vec, P: PETSc.Mat) -> PETSc.Vec:
    """``b_r = P^H b`` for a vector assembled by dolfinx (its ghost contributions are accumulated here)."""
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    b_r = P.createVecRight()
    P.multHermitian(b, b_r)
    return b_r


def assemble_reduced_vector(form: dolfinx.fem.Form, P: PETSc.Mat) -> PETSc.Vec:
    """Assemble a linear form and restrict it to the reduced space, ``P^H b``."""
    b = dolfinx.fem.petsc.assemble_vector(form)
    b_r = reduce_vector(b, P)
    b.destroy()
    return b_r


def extend(u_r: PETSc.Vec, P: PETSc.Mat, u: dolfinx.fem.Function) -> None:
    """Write ``u = P u_r`` into the dolfinx function ``u``, ghosts included."""
    P.mult(u_r, u.x.petsc_vec)
    u.x.scatter_forward()


def restrict(u: PETSc.Vec, P: PETSc.Mat) -> PETSc.Vec:
    """Reduced vector of a (quasi-)periodic full vector ``u = P x``: ``x = (P^H P)^{-1} P^H u``.

    ``P^H P`` is diagonal with the multiplicities (each full dof has one master with a weight of modulus 1), so
    each master gets the average of its copies with the Bloch phases removed.
    """
    ones = P.createVecRight()
    ones.set(1.0)
    phases, multiplicity, x = P.createVecLeft(), P.createVecRight(), P.createVecRight()
    P.mult(ones, phases)
    P.multHermitian(phases, multiplicity)
    P.multHermitian(u, x)
    x.pointwiseDivide(x, multiplicity)
    for v in (ones, phases, multiplicity):
        v.destroy()
    return x


def constant_vectors(pmap: PeriodicMap, P: PETSc.Mat) -> list[PETSc.Vec]:
    """Reduced vectors of the constant fields, one per component (the kernel of periodic stiffness).

    Every reduced dof of component ``c`` is 1 in the ``c``-th vector; ``P`` maps it to the constant field
    ``e_c`` because periodic weights are 1.
    """
    bs = pmap.block_size
    vectors = []
    for c in range(bs):
        v = P.createVecRight()
        arr = v.getArray()
        arr[:] = 0.0
        arr[c::bs] = 1.0
        v.setArray(arr)
        vectors.append(v)
    return vectors
