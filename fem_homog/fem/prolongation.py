"""Periodic and Bloch prolongation ``P`` for any finite element, by its dof functionals (theory.md §11.2).

:mod:`fem_homog.fem.periodic` matches *nodes*, which is right for Lagrange spaces only. Nédélec (H(curl)) dofs
are moments of tangential traces on edges and faces, taken with each entity's reference orientation: a slave
dof is a linear combination of the dofs of its master entity (±1 for degree-1 edges, 2 × 2 blocks for degree-2
edges and faces), not a copy. This module builds ``P`` entity by entity, for any element whose dofs on an entity
are moments against a full polynomial space on it (Lagrange, N1curl, RT):

* every mesh entity that carries dofs (vertices, edges, faces) is located by its midpoint; boundary entities
  (those in the closure of an exterior facet: topological, so any cell shape works, parallelepipeds included)
  are grouped into classes of lattice translates as the nodes of §5.1 (k-d tree, connected components), the
  master of a class being the entity with the smallest global dof number;
* a slave entity ``e_s = e_m + t`` (``t = Σ n_j a_j``) satisfies ``l_s(f) = Σ_m B_sm l_m(f(· + t))`` for the
  functionals ``l`` of its dofs and every field ``f``. ``B`` is found from a few linear fields
  ``F(x) = A x + b``: their interpolants give the slave values ``l_s(F)`` and the master values
  ``l_m(F(· + t)) = l_m(F) + Σ_j n_j l_m(A a_j)``; linear traces are integrated exactly by the interpolation
  quadrature, so ``B`` is exact to round-off, and the least-squares residual is checked;
* weights of a Bloch-periodic space are ``B e^{i k·t}``; interior dofs map to themselves.

In parallel the owned boundary entities (midpoint, global dofs, field values: boundary data only) are gathered
on every rank, which builds the same classes; rows and columns are in dolfinx's global numbering, as for §5.1,
so the reduction helpers of :mod:`fem_homog.fem.periodic` apply unchanged. Meshes whose opposite faces do not
match edge for edge although their vertices do (seen with dolfinx's Plaza refinement in parallel, which
:func:`fem_homog.cells.meshing.mesh_cell` no longer uses in 3D) are refused with a
:class:`~fem_homog.core.errors.SolverError` on every rank, never used silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from mpi4py import MPI

from fem_homog.core.errors import SolverError, require, require_collective
from fem_homog.fem.periodic import MATCH_TOL, box_lattice, gathered_classes, lattice_phases

import dolfinx.fem
import dolfinx.la
import dolfinx.mesh
from petsc4py import PETSc

NUM_FIELDS = 4  # random linear fields F(x) = A x + b probing each entity block (blocks have at most 3 dofs)
BLOCK_RTOL = 1e-9  # relative least-squares residual above which an entity block is not a translation image


@dataclass(frozen=True)
class EntityPeriodicMap:
    """Slave→master relations of the dofs of a space on a periodic cell.

    Attributes
    ----------
    V, lattice
        The space (unblocked: Lagrange, N1curl, ...) and the lattice vectors (rows) of the cell.
    reduced_dof
        For each owned dof that is a master, its global reduced number; ``-1`` for slaves.
    slave_rows, slave_cols, slave_weights, slave_shift
        One entry per (slave dof, master dof) pair: local row, global reduced column, periodic weight ``B_sm``
        and the integers ``n`` of the translation ``e_s = e_m + Σ n_j a_j``.
    num_reduced_local, reduced_offset, num_reduced_global
        Sizes of the reduced space (this rank, its first global number, total).
    """

    V: dolfinx.fem.FunctionSpace
    lattice: np.ndarray
    reduced_dof: np.ndarray
    slave_rows: np.ndarray
    slave_cols: np.ndarray
    slave_weights: np.ndarray
    slave_shift: np.ndarray
    num_reduced_local: int
    reduced_offset: int
    num_reduced_global: int

    @property
    def comm(self) -> MPI.Comm:
        return self.V.mesh.comm


@dataclass
class _Entities:
    """The owned entities of one dimension that carry dofs: midpoints, their dofs (local, sorted) and whether
    they lie on the cell boundary."""

    dim: int
    midpoints: np.ndarray
    dofs: np.ndarray
    on_boundary: np.ndarray


def _owned_entities(V: dolfinx.fem.FunctionSpace) -> list[_Entities]:
    """Per entity dimension with dofs, the owned entities, their midpoints, their (owned) dofs and whether they
    lie on an exterior facet (topologically: any cell shape, no geometric test)."""
    mesh, layout = V.mesh, V.dofmap.dof_layout
    tdim, gdim = mesh.topology.dim, mesh.geometry.dim
    cell_dofs = V.dofmap.list
    n_owned_dofs = V.dofmap.index_map.size_local
    mesh.topology.create_connectivity(tdim - 1, tdim)
    exterior_facets = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    out = []
    for d in range(tdim + 1):
        per_entity = len(layout.entity_dofs(d, 0))
        if per_entity == 0:
            continue
        mesh.topology.create_connectivity(tdim, d)
        mesh.topology.create_connectivity(d, tdim)
        c2e = mesh.topology.connectivity(tdim, d)
        entity_map = mesh.topology.index_map(d)
        n_local_entities = entity_map.size_local
        entity_dofs = np.full((entity_map.size_local + entity_map.num_ghosts, per_entity), -1, dtype=np.int32)
        cell_entities = c2e.array.reshape(len(cell_dofs), -1)
        for j in range(cell_entities.shape[1]):
            entity_dofs[cell_entities[:, j]] = cell_dofs[:, layout.entity_dofs(d, j)]
        owned = np.arange(n_local_entities, dtype=np.int32)
        dofs = np.sort(entity_dofs[owned], axis=1)
        require_collective(mesh.comm, None if np.all((dofs >= 0) & (dofs < n_owned_dofs)) else
                           "the dofs of an owned mesh entity are not all owned (unsupported dof distribution)")
        midpoints = dolfinx.mesh.compute_midpoints(mesh, d, owned)[:, :gdim] if len(owned) else np.empty((0, gdim))
        out.append(_Entities(dim=d, midpoints=midpoints, dofs=dofs, on_boundary=_on_boundary(mesh, d, exterior_facets)))
    return out


def _on_boundary(mesh: dolfinx.mesh.Mesh, d: int, exterior_facets: np.ndarray) -> np.ndarray:
    """For each owned entity of dimension ``d``, whether it lies in the closure of an exterior facet (marks made
    on any rank reach the owner; cells are never boundary entities)."""
    tdim, entity_map = mesh.topology.dim, mesh.topology.index_map(d)
    mark = dolfinx.la.vector(entity_map, 1, dtype=np.float64)
    if d < tdim:
        mesh.topology.create_connectivity(tdim - 1, d)
        mark.array[dolfinx.mesh.compute_incident_entities(mesh.topology, exterior_facets, tdim - 1, d)] = 1.0
    mark.scatter_reverse(dolfinx.la.InsertMode.add)
    return mark.array[:entity_map.size_local] > 0


def _probe_values(V: dolfinx.fem.FunctionSpace, lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dof values of ``NUM_FIELDS`` random linear fields ``F = A x + b`` (owned dofs × fields) and of the
    constant fields ``A a_j`` (owned dofs × fields × lattice vectors). Same seed on every rank."""
    gdim = V.mesh.geometry.dim
    shape = tuple(V.value_shape)
    ncomp = int(np.prod(shape)) if len(shape) else 1
    rng = np.random.default_rng(20261205)
    n_owned = V.dofmap.index_map.size_local
    values = np.empty((n_owned, NUM_FIELDS), dtype=complex)
    shifts = np.empty((n_owned, NUM_FIELDS, len(lattice)), dtype=complex)
    f = dolfinx.fem.Function(V)
    for i in range(NUM_FIELDS):
        A, b = rng.standard_normal((ncomp, gdim)), rng.standard_normal(ncomp)
        f.interpolate(lambda x, A=A, b=b: (A @ x[:gdim] + b[:, None]).reshape(*shape, -1) if shape
                      else (A @ x[:gdim] + b[:, None])[0])
        values[:, i] = f.x.array[:n_owned]
        for j, a in enumerate(lattice):
            c = A @ a
            f.interpolate(lambda x, c=c: np.tile(c[:, None], (1, x.shape[1])).reshape(*shape, -1) if shape
                          else np.full(x.shape[1], c[0]))
            shifts[:, i, j] = f.x.array[:n_owned]
    return values, shifts


def _gather(comm: MPI.Comm, local: np.ndarray) -> np.ndarray:
    parts = comm.allgather(local)
    return np.concatenate(parts) if parts else local


@dataclass
class _Classes:
    """The boundary entities of one dimension on this rank within the gathered classes of all ranks."""

    dofs: np.ndarray  # this rank's boundary entities × their dofs (local numbers)
    x: np.ndarray  # gathered midpoints
    master: np.ndarray  # gathered index of each gathered entity's master
    mine: np.ndarray  # gathered indices of this rank's entities

    @property
    def slave(self) -> np.ndarray:
        return self.master[self.mine] != self.mine


def _entity_classes(ent: _Entities, global_dof: np.ndarray, lattice: np.ndarray, comm: MPI.Comm,
                    tol: float) -> tuple[_Classes, str | None]:
    """Classes of periodic images among the boundary entities of all ranks; master: smallest global dof."""
    boundary = np.flatnonzero(ent.on_boundary)
    dofs = ent.dofs[boundary]
    x = _gather(comm, ent.midpoints[boundary]).reshape(-1, ent.midpoints.shape[1])
    first = _gather(comm, global_dof[dofs[:, 0]])
    found = gathered_classes(x, first, len(boundary), lattice, comm, tol, what=f"entity (dimension {ent.dim})")
    return _Classes(dofs=dofs, x=x, master=found.master, mine=found.mine), found.problem


def _slave_entries(cls: _Classes, reduced_dof: np.ndarray, values: np.ndarray, shifts: np.ndarray,
                   lattice: np.ndarray, comm: MPI.Comm) -> tuple[np.ndarray, ...]:
    """Rows, reduced columns, weights and translations ``n`` of this rank's slave entities' blocks."""
    n_gathered, per = len(cls.x), cls.dofs.shape[1]
    reduced = _gather(comm, reduced_dof[cls.dofs]).reshape(n_gathered, per)
    vals = _gather(comm, values[cls.dofs]).reshape(n_gathered, per, NUM_FIELDS)
    shift_vals = _gather(comm, shifts[cls.dofs]).reshape(n_gathered, per, NUM_FIELDS, len(lattice))
    local = np.flatnonzero(cls.slave)
    gathered = cls.mine[local]
    m = cls.master[gathered]
    n = np.rint(np.linalg.solve(lattice.T, (cls.x[gathered] - cls.x[m]).T).T).astype(np.int64).reshape(-1, len(lattice))
    blocks = _entity_blocks(vals[gathered], vals[m] + np.einsum("edfj,ej->edf", shift_vals[m], n), comm)
    return (np.repeat(cls.dofs[local], per, axis=1).ravel(), np.tile(reduced[m], (1, per)).ravel(),
            blocks.ravel(), np.repeat(n, per * per, axis=0))


def periodic_entity_map(V: dolfinx.fem.FunctionSpace, lattice: np.ndarray | None = None) -> EntityPeriodicMap:
    """Group the boundary entities of ``V`` into classes of periodic images and compute each slave's block.

    Parameters
    ----------
    V
        An unblocked space (scalar Lagrange, N1curl, ...) on a periodic cell mesh (matching opposite faces).
    lattice
        Lattice vectors (rows); default: the box spanned by the mesh nodes.

    Raises
    ------
    InputError
        If a boundary entity has no periodic image (the mesh is not periodic) or the space is blocked.
    SolverError
        If a slave block is not determined by its master's dofs (residual above ``BLOCK_RTOL``).
    """
    comm, gdim = V.mesh.comm, V.mesh.geometry.dim
    require(V.dofmap.index_map_bs == 1, "the entity prolongation needs an unblocked space (bs = 1)")
    require(V.mesh.topology.dim >= 2, "the entity prolongation needs a 2D or 3D mesh (1D: fem.periodic)")
    n_owned = V.dofmap.index_map.size_local
    if lattice is None:
        lattice = box_lattice(V.mesh.geometry.x[:V.mesh.geometry.index_map().size_local, :gdim], comm, gdim)
    lattice = np.asarray(lattice, dtype=float)
    tol = MATCH_TOL * np.abs(lattice).max()
    global_dof = V.dofmap.index_map.local_to_global(np.arange(n_owned, dtype=np.int32)).astype(np.int64)

    classes, problems = [], []
    for ent in _owned_entities(V):
        cls, problem = _entity_classes(ent, global_dof, lattice, comm, tol)
        classes.append(cls)
        problems.append(problem)
    require_collective(comm, next((p for p in problems if p), None))
    is_slave = np.zeros(n_owned, dtype=bool)
    for cls in classes:
        is_slave[cls.dofs[cls.slave].ravel()] = True
    num_reduced_local = int(np.count_nonzero(~is_slave))
    reduced_offset = comm.exscan(num_reduced_local) or 0
    reduced_dof = np.full(n_owned, -1, dtype=np.int64)
    reduced_dof[~is_slave] = reduced_offset + np.arange(num_reduced_local)

    values, shifts = _probe_values(V, lattice)
    entries = [_slave_entries(cls, reduced_dof, values, shifts, lattice, comm) for cls in classes]
    rows, cols, weights, shift = (np.concatenate(parts) for parts in zip(*entries)) if entries else (
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, len(lattice)), np.int64))
    return EntityPeriodicMap(V=V, lattice=lattice, reduced_dof=reduced_dof, slave_rows=rows, slave_cols=cols,
                             slave_weights=weights, slave_shift=shift, num_reduced_local=num_reduced_local,
                             reduced_offset=reduced_offset, num_reduced_global=comm.allreduce(num_reduced_local))


def reduced_dof_positions(emap: EntityPeriodicMap) -> np.ndarray:
    """The position of each of this rank's reduced dofs (the midpoint of the master entity carrying it), in the
    local order of the reduced space: where the Bloch phase ``exp(i k·x)`` of a quasi-periodic field is referred
    to when its periodic part is wanted (:meth:`~fem_homog.photonics.maxwell.MaxwellBlochProblem.solve`)."""
    n_owned, gdim = emap.V.dofmap.index_map.size_local, emap.V.mesh.geometry.dim
    x = np.zeros((n_owned, gdim))
    for ent in _owned_entities(emap.V):
        x[ent.dofs] = ent.midpoints[:, None, :]
    return x[emap.reduced_dof >= 0]


def _entity_blocks(slave: np.ndarray, master: np.ndarray, comm: MPI.Comm) -> np.ndarray:
    """Per entity, ``B`` with ``slave = B master`` (entities × dofs × fields, least squares), real; raises on
    every rank if a fit is not exact on any."""
    blocks = slave @ np.linalg.pinv(master) if len(slave) else np.zeros((0, slave.shape[1], slave.shape[1]))
    misfit = np.abs(blocks @ master - slave).max(initial=0.0)
    scale = max(np.abs(slave).max(initial=0.0), 1.0)
    bad = misfit > BLOCK_RTOL * scale or np.abs(blocks.imag).max(initial=0.0) > BLOCK_RTOL
    if comm.allreduce(bad, op=MPI.LOR):
        raise SolverError(f"periodic prolongation: a slave entity's dofs are not a combination of its master's "
                          f"(misfit {comm.allreduce(misfit, op=MPI.MAX):.2e}); the element's dofs are not "
                          "translation-invariant moments, or the mesh's opposite faces do not match")
    return blocks.real


def prolongation(emap: EntityPeriodicMap, k: Sequence[float] | None = None) -> PETSc.Mat:
    """The prolongation ``P`` (all dofs × reduced dofs): slave blocks times ``exp(i k·Σ n_j a_j)``.

    Real when every Bloch phase is ±1 (Γ, zone edges) or ``k`` is None.
    """
    n_owned = emap.V.dofmap.index_map.size_local
    phase = lattice_phases(k, emap.lattice)
    factor = np.prod(phase[None, :] ** emap.slave_shift, axis=1) if len(emap.slave_shift) else np.ones(0)
    master = np.flatnonzero(emap.reduced_dof >= 0)
    rows = np.concatenate([master, emap.slave_rows]).astype(np.int64)
    cols = np.concatenate([emap.reduced_dof[master], emap.slave_cols])
    vals = np.concatenate([np.ones(len(master), dtype=complex), emap.slave_weights * factor])
    if k is None or np.all(phase.imag == 0):
        vals = vals.real
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(n_owned + 1, dtype=PETSc.IntType)
    np.cumsum(np.bincount(rows, minlength=n_owned), out=indptr[1:])
    global_size = emap.V.dofmap.index_map.size_global
    return PETSc.Mat().createAIJ(
        size=((n_owned, global_size), (emap.num_reduced_local, emap.num_reduced_global)),
        csr=(indptr, cols.astype(PETSc.IntType), vals.astype(PETSc.ScalarType)), comm=emap.comm)
