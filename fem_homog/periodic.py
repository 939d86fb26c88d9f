"""Periodic and Bloch-phase constraints as a sparse prolongation ``P`` (theory.md §5.1).

dolfinx has no periodic boundary conditions (and ``dolfinx_mpc`` is not available), so a periodic space is
represented by the full Lagrange space ``V`` on a cell mesh with matching opposite faces, plus a prolongation
``P`` from "reduced" (master) dofs to all dofs:

* a dof of a node on a face ``y_j = y_j^max`` (a *slave*) takes the value of the dof at its image with every
  such coordinate moved to the opposite face (all corners map to one master), times a weight;
* every other dof is a master and maps to itself with weight 1.

The weight of a slave at ``y_m + n`` (``n`` an integer lattice vector, in units of the cell lengths) is
``exp(i k·n)``: 1 for periodic functions, ±1 for (anti)periodic ones at Brillouin-zone edges and a Bloch phase
for quasi-periodic ones. Reduced operators are ``A_r = P^H A P``, ``b_r = P^H b`` and ``u = P u_r``.

Parallel design: each rank owns the slaves among its owned dofs. The masters that can be the image of a slave
lie on the faces ``y_j = y_j^min``; their coordinates and reduced global numbers are gathered on every rank
(only boundary data), and each rank matches its own slaves against them with a k-d tree. Rows of ``P`` are in
dolfinx's global dof numbering, so ``P`` composes with matrices from :mod:`dolfinx.fem.petsc` directly. The node
match is built once per space (:class:`PeriodicMap`) and reused for every k-point (:func:`prolongation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from mpi4py import MPI
from scipy.spatial import cKDTree

import dolfinx.fem
import dolfinx.fem.petsc
from petsc4py import PETSc
from fem_homog.errors import InputError, require_collective

_MATCH_TOL = 1e-8  # relative to the cell size: gmsh copies periodic nodes exactly, up to round-off


@dataclass(frozen=True)
class PeriodicMap:
    """Slave→master matching of the nodes of a function space on a periodic cell.

    Attributes
    ----------
    V
        The (scalar or blocked) Lagrange space.
    lower, lengths
        The cell box ``[lower, lower + lengths]`` (from the mesh nodes, over all ranks).
    reduced_node
        For each owned node, the global number of its master among the reduced nodes.
    shift
        For each owned node, the lattice vector ``n`` with ``y_node = y_master + n * lengths`` (0 for masters).
    num_reduced_local, reduced_offset
        How many reduced nodes this rank owns, and the global number of its first one.
    num_reduced_global
        Total number of reduced nodes.
    """

    V: dolfinx.fem.FunctionSpace
    lower: np.ndarray
    lengths: np.ndarray
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


def _cell_box(x: np.ndarray, comm: MPI.Comm, gdim: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(gdim, np.inf)
    hi = np.full(gdim, -np.inf)
    if len(x):
        lo, hi = x.min(axis=0), x.max(axis=0)
    lo_all, hi_all = np.empty(gdim), np.empty(gdim)
    comm.Allreduce(np.ascontiguousarray(lo, dtype=float), lo_all, op=MPI.MIN)
    comm.Allreduce(np.ascontiguousarray(hi, dtype=float), hi_all, op=MPI.MAX)
    return lo_all, hi_all - lo_all


def periodic_map(V: dolfinx.fem.FunctionSpace) -> PeriodicMap:
    """Match the nodes of ``V`` on the faces ``y_j = max`` to their images on ``y_j = min``.

    Raises
    ------
    InputError
        If a node on a face has no partner on the opposite face (the mesh is not periodic).
    """
    comm = V.mesh.comm
    gdim = V.mesh.geometry.dim
    index_map = V.dofmap.index_map
    n_owned = index_map.size_local
    x = V.tabulate_dof_coordinates()[:n_owned, :gdim]
    lower, lengths = _cell_box(x, comm, gdim)
    tol = _MATCH_TOL * lengths.max()

    shift = (np.abs(x - (lower + lengths)) < tol).astype(np.int64)
    is_slave = shift.any(axis=1)
    num_reduced_local = int(np.count_nonzero(~is_slave))
    reduced_offset = comm.exscan(num_reduced_local) or 0
    num_reduced_global = comm.allreduce(num_reduced_local)

    reduced_node = np.full(n_owned, -1, dtype=np.int64)
    reduced_node[~is_slave] = reduced_offset + np.arange(num_reduced_local)

    # Masters that can be the image of a slave: non-slaves on a lower face. Gather them everywhere.
    on_lower = (~is_slave) & (np.abs(x - lower) < tol).any(axis=1)
    cand_x = np.concatenate(comm.allgather(x[on_lower]))
    cand_id = np.concatenate(comm.allgather(reduced_node[on_lower]))

    slaves = np.flatnonzero(is_slave)
    images = x[slaves] - shift[slaves] * lengths
    problem = None
    if len(slaves) and len(cand_x):
        dist, nearest = cKDTree(cand_x).query(images)
        reduced_node[slaves] = np.where(dist <= tol, cand_id[nearest], -1)
    unmatched = np.flatnonzero(reduced_node < 0)
    if len(unmatched):
        where = np.searchsorted(slaves, unmatched[0])
        problem = (f"the mesh is not periodic: the node at {x[unmatched[0]].tolist()} has no partner at "
                   f"{images[where].tolist()} on the opposite face ({len(unmatched)} unmatched nodes on rank "
                   f"{comm.rank}); mesh the cell with matching opposite faces (gmsh setPeriodic)")
    require_collective(comm, problem)
    return PeriodicMap(V=V, lower=lower, lengths=lengths, reduced_node=reduced_node, shift=shift,
                       num_reduced_local=num_reduced_local, reduced_offset=reduced_offset,
                       num_reduced_global=num_reduced_global)


def _phases(k: Sequence[float] | None, lengths: np.ndarray) -> np.ndarray:
    """Per-axis Bloch factors ``exp(i k_j L_j)`` with exact ±1 at the zone centre and edges."""
    if k is None:
        return np.ones(len(lengths), dtype=complex)
    k = np.asarray(k, dtype=float)
    if k.shape != lengths.shape:
        raise InputError(f"k-point {k.tolist()} must have {len(lengths)} components")
    angle = k * lengths
    phase = np.exp(1j * angle)
    phase[np.isclose(angle, 0.0, atol=1e-14)] = 1.0
    phase[np.isclose(np.abs(angle), np.pi, atol=1e-14)] = -1.0
    return phase


def prolongation(pmap: PeriodicMap, k: Sequence[float] | None = None) -> PETSc.Mat:
    """The prolongation ``P`` (full dofs × reduced dofs) with weights ``exp(i k·n)``.

    Parameters
    ----------
    pmap
        The node matching of the space.
    k
        Bloch wave vector (in the units of the mesh coordinates, inverse): ``exp(i k_j L_j)`` is the phase
        across one period; ``None`` (or zeros) gives the periodic constraint, ``k_j L_j = π`` antiperiodicity.

    Returns
    -------
    PETSc.Mat
        An AIJ matrix with one entry per row, block size equal to the space's.
    """
    V, bs = pmap.V, pmap.block_size
    index_map = V.dofmap.index_map
    n_owned = index_map.size_local
    phase = _phases(k, pmap.lengths)
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


def reduce_matrix(A: PETSc.Mat, P: PETSc.Mat) -> PETSc.Mat:
    """``A_r = P^H A P`` (PETSc ``PtAP`` for a real ``P``; ``PtAP`` does not conjugate a complex one)."""
    if is_real(P):
        return A.PtAP(P)
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
    """Reduced vector of a full vector for a periodic ``P``: each master gets the average of its copies,
    ``(P^T P)^{-1} P^T u`` (``P^T P`` is diagonal with the multiplicities)."""
    ones, multiplicity = P.createVecLeft(), P.createVecRight()
    ones.set(1.0)
    P.multTranspose(ones, multiplicity)
    u_r = P.createVecRight()
    P.multTranspose(u, u_r)
    u_r.pointwiseDivide(u_r, multiplicity)
    return u_r


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
