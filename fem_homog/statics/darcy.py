"""Stokes→Darcy homogenization: periodic Stokes cell problems and the permeability tensor (theory.md §4).

The cell is meshed with both phases by :func:`fem_homog.cells.meshing.mesh_cell` (every shape it knows, curved order-2
geometry, parallel refinement); the ``MATRIX`` phase is fluid, the inclusions are solid. Taylor–Hood
``P2^d/P1`` spaces live on the whole cell and the fluid is carved out of them by the prolongations: the
periodic prolongation of each field (:mod:`fem_homog.fem.periodic`) loses the columns of the nodes it must not
carry — for the velocity every node of a solid cell (so the reduced velocity is periodic, zero in the solid
and on its boundary: no slip), for the pressure every node outside the closure of the fluid. The forms are
integrated over the fluid cells only. Restricting by columns rather than by a fluid submesh keeps the cell
periodic as a whole (the periodic map needs every exterior node to have an image; a fluid submesh has walls),
treats fluid facing solid across the periodic boundary as a wall, and shows the obstacles (zero velocity) in
the output fields; the price is the storage of the solid's unused dofs.

The block-diagonal prolongation ``diag(P_u, P_p)`` reduces the saddle-point system block by block into a PETSc
``MATNEST``

    [ P_uᵀ A P_u   P_uᵀ Bᴴ P_p ]
    [ P_pᵀ B P_u        0      ]

whose kernel, the constant pressure, is attached as a null space. Two solvers:

``"mumps"``
    the nest converted to AIJ, sparse LU with null-pivot detection; robust, memory-bound in 3D.
``"fieldsplit"``
    MINRES with the block-diagonal preconditioner ``diag(A, M_p)``: GAMG on the velocity block, Jacobi on the
    pressure mass matrix (spectrally equivalent to the Schur complement for unit viscosity), so the iteration
    count hardly grows with the mesh.

Before solving, the fluid's topology is checked (:func:`percolation`): it must be one connected region that
crosses the cell in at least one direction; directions it cannot cross (a laminate's layer normal) give
``K e = 0`` exactly and are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import CellMesh
from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.parallel import on_root
from fem_homog.core.timing import Timings
from fem_homog.fem import periodic, petsc
from fem_homog.fem.coefficients import integrate, integrate_components
from fem_homog.forms import stokes
from fem_homog.output.results import jsonable, peak_memory_mb

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.la
import ufl
from petsc4py import PETSc

METHODS = ("mumps", "fieldsplit")


def _owned_cells(cell: CellMesh, tag: int) -> np.ndarray:
    """Local indices of the owned cells of one phase."""
    owned = cell.mesh.topology.index_map(cell.mesh.topology.dim).size_local
    cells = cell.cell_tags.find(tag)
    return cells[cells < owned]


# ----------------------------------------------------------------------------------------------------------
# topology: does the fluid percolate, and in which directions?
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Percolation:
    """Connectivity of the periodic fluid region.

    ``windings`` holds independent integer vectors ``n`` of closed fluid paths that wrap around the torus
    ``n_j`` times along the lattice vector ``a_j`` (rows of ``lattice``), i.e. that end displaced by
    ``Σ n_j a_j``. A macroscopic pressure gradient ``e`` drives flow iff ``e`` is not orthogonal to all these
    displacements: otherwise the cell pressure ``π = e·y`` is single-valued on the fluid, balances the forcing
    and ``K e = 0``.
    """

    components: int
    windings: np.ndarray
    lattice: np.ndarray

    @property
    def blocked(self) -> np.ndarray:
        """Orthonormal rows spanning the (Cartesian) directions with no flow: the null space of ``K``."""
        dim = self.lattice.shape[0]
        if not len(self.windings):
            return np.eye(dim)
        _, s, vt = np.linalg.svd(self.windings @ self.lattice)
        rank = int(np.count_nonzero(s > 1e-8 * s.max()))
        return vt[rank:]


def percolation(cell: CellMesh) -> Percolation:
    """Connected components and winding lattice of the fluid (``MATRIX``) cells of a periodic cell.

    Cells are graph nodes, joined when they share a facet (a periodic pair of boundary facets counts as
    shared; touching at a vertex or an edge only does not). Walking from cell ``a`` into cell ``b`` through a
    facet whose first vertex (lowest reduced number) has lattice shifts ``n_a`` in ``a`` and ``n_b`` in ``b``
    moves the unwrapped copy by ``n_a − n_b`` periods. Offsets are propagated along a breadth-first tree;
    every other facet closes a loop whose winding is the mismatch of offsets. The vertices are matched by the
    periodic map of ``P1`` on the whole cell, so a fluid facet facing solid across the periodic boundary is a
    wall. Runs on rank 0 on the gathered facet list (``d + 1`` rows per fluid cell); a failure there raises on
    every rank (:func:`~fem_homog.core.parallel.on_root`).
    """
    comm, lattice = cell.mesh.comm, cell.geometry.lattice_vectors
    pmap = periodic.periodic_map(dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 1)), lattice)
    keys, cells, shifts = _cell_facets(pmap, _owned_cells(cell, MATRIX))
    gathered = comm.gather((keys, cells, shifts), root=0)
    components, windings = on_root(comm, lambda: _windings(*(np.concatenate(part) for part in zip(*gathered))))
    return Percolation(components=components, windings=windings, lattice=lattice)


def _cell_facets(pmap: periodic.PeriodicMap,
                 cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per given owned cell and local facet: sorted reduced vertex numbers, global cell number, and the
    lattice shift of the facet's first vertex."""
    V = pmap.V
    tdim = V.mesh.topology.dim
    index_map = V.dofmap.index_map
    n_owned = index_map.size_local
    node_data = dolfinx.la.vector(index_map, 1 + tdim, dtype=np.float64)  # ghosts need them too
    values = node_data.array.reshape(-1, 1 + tdim)
    values[:n_owned, 0] = pmap.reduced_node
    values[:n_owned, 1:] = pmap.shift
    node_data.scatter_forward()
    node, shift = values[:, 0].astype(np.int64), values[:, 1:].astype(np.int64)

    vertices = V.dofmap.list[cells]  # P1 dofs are the cell's vertices
    global_cell = V.mesh.topology.index_map(tdim).local_range[0] + cells.astype(np.int64)
    keys, shifts = [], []
    for f in range(tdim + 1):  # the facet opposite local vertex f
        facet = np.delete(vertices, f, axis=1)
        order = np.argsort(node[facet], axis=1)
        keys.append(np.take_along_axis(node[facet], order, axis=1))
        shifts.append(shift[facet[np.arange(len(cells)), order[:, 0]]])
    return np.concatenate(keys), np.tile(global_cell, tdim + 1), np.concatenate(shifts)


def _windings(keys: np.ndarray, cells: np.ndarray, shifts: np.ndarray) -> tuple[int, np.ndarray]:
    """Number of connected components and the independent windings (rows) of the cell graph."""
    cells = np.unique(cells, return_inverse=True)[1]  # number the fluid cells 0, 1, ...
    n_cells = int(cells.max()) + 1
    order = np.lexsort(keys.T[::-1])
    keys, cells, shifts = keys[order], cells[order], shifts[order]
    pair = np.flatnonzero(np.all(keys[1:] == keys[:-1], axis=1))
    a, b, step = cells[pair], cells[pair + 1], shifts[pair] - shifts[pair + 1]   # offset(b) = offset(a) + step
    # the graph keeps one facet per pair of cells (its number + 1, signed by direction); the others are loops
    edge = np.unique(np.sort(np.stack([a, b], axis=1), axis=1), axis=0, return_index=True)[1]
    ea, eb, ids = a[edge], b[edge], edge + 1
    graph = coo_matrix((np.concatenate([ids, -ids]), (np.concatenate([ea, eb]), np.concatenate([eb, ea]))),
                       shape=(n_cells, n_cells)).tocsr()
    components = connected_components(graph, directed=False)[0]
    if components != 1:
        return components, np.zeros((0, shifts.shape[1]), dtype=np.int64)
    tree, parent = breadth_first_order(graph, 0, directed=True, return_predecessors=True)
    child = tree[1:]
    signed = np.asarray(graph[parent[child], child]).ravel().astype(np.int64)
    offset = np.zeros_like(shifts, shape=(n_cells, shifts.shape[1]))
    offset[child] = np.sign(signed)[:, None] * step[np.abs(signed) - 1]  # relative to the parent
    pointer = parent.copy()
    pointer[tree[0]] = tree[0]
    while np.any(pointer != tree[0]):  # pointer jumping: accumulate offsets up to the root
        offset += offset[pointer]
        pointer = pointer[pointer]
    loops = offset[a] + step - offset[b]
    loops = loops[np.any(loops != 0, axis=1)]
    return 1, _independent_rows(loops)


def _independent_rows(vectors: np.ndarray) -> np.ndarray:
    """A maximal linearly independent subset of integer row vectors (greedy, in order)."""
    basis: list[np.ndarray] = []
    for v in np.unique(vectors, axis=0):
        if np.linalg.matrix_rank(np.array(basis + [v], dtype=float)) > len(basis):
            basis.append(v)
        if len(basis) == vectors.shape[1]:
            break
    return np.array(basis, dtype=np.int64).reshape(-1, vectors.shape[1])


def require_percolation(perc: Percolation) -> None:
    """Raise :class:`InputError` unless the fluid is one region that crosses the cell in some direction."""
    require(perc.components == 1,
            f"the fluid is split into {perc.components} disconnected regions: solid obstacles touch and close "
            "off part of the pore space (a permeability cell needs one connected fluid region)")
    require(len(perc.windings) > 0,
            "the fluid does not percolate: no fluid path crosses the cell in any direction "
            "(the solid obstacles touch and block the flow)")


# ----------------------------------------------------------------------------------------------------------
# the constrained saddle-point system
# ----------------------------------------------------------------------------------------------------------

def _touched(pmap: periodic.PeriodicMap, P: PETSc.Mat, cells: np.ndarray) -> np.ndarray:
    """For each owned column node of ``P``: whether any of its periodic copies is a node of ``cells``."""
    V, bs = pmap.V, pmap.block_size
    mark = dolfinx.la.vector(V.dofmap.index_map, bs, dtype=PETSc.ScalarType)
    mark.array.reshape(-1, bs)[V.dofmap.list[cells].ravel()] = 1.0
    mark.scatter_reverse(dolfinx.la.InsertMode.add)  # nodes of a cell owned elsewhere reach their owner
    full, reduced = P.createVecLeft(), P.createVecRight()
    full.setArray(mark.array[:full.getLocalSize()])
    P.multTranspose(full, reduced)
    touched = reduced.getArray()[::bs].real > 0
    full.destroy()
    reduced.destroy()
    return touched


def _keep_columns(P: PETSc.Mat, keep: np.ndarray, bs: int) -> PETSc.Mat:
    """``P`` restricted to the owned column nodes flagged in ``keep`` (all their ``bs`` components)."""
    comm = P.getComm()
    first_node = P.getOwnershipRangeColumn()[0] // bs
    columns = PETSc.IS().createBlock(bs, (first_node + np.flatnonzero(keep)).astype(PETSc.IntType), comm=comm)
    rows = PETSc.IS().createStride(P.getLocalSize()[0], first=P.getOwnershipRange()[0], step=1, comm=comm)
    kept = P.createSubMatrix(rows, columns)
    for obj in (rows, columns):
        obj.destroy()
    return kept


def fluid_prolongation(V: dolfinx.fem.FunctionSpace, cell: CellMesh, *,
                       no_slip: bool) -> tuple[PETSc.Mat, periodic.PeriodicMap]:
    """The periodic prolongation of ``V`` restricted to the fluid, and the periodic map it was built from.

    With ``no_slip`` (velocity) a reduced node is dropped if any copy is a node of a solid cell: ``P w_r``
    is periodic and vanishes on the solid and its boundary. Without (pressure) a reduced node is kept only if a
    copy is a node of a fluid cell.
    """
    pmap = periodic.periodic_map(V, cell.geometry.lattice_vectors)
    P = periodic.prolongation(pmap)
    if no_slip:
        keep = ~_touched(pmap, P, _owned_cells(cell, INCLUSION))
    else:
        keep = _touched(pmap, P, _owned_cells(cell, MATRIX))
    restricted = _keep_columns(P, keep, pmap.block_size)
    P.destroy()
    return restricted, pmap


def _reduce_rectangular(A: PETSc.Mat, P_row: PETSc.Mat, P_col: PETSc.Mat) -> PETSc.Mat:
    """``P_rowᵀ A P_col`` for real (periodic) prolongations of two different spaces."""
    AP = A.matMult(P_col)
    reduced = P_row.transposeMatMult(AP)
    AP.destroy()
    return reduced


def _without_zeros(A: PETSc.Mat, bs: int) -> PETSc.Mat:
    """A copy of ``A`` without its stored zeros, with block size ``bs``; ``A`` is destroyed.

    The velocity block of a blocked space is stored with full ``d × d`` couplings, but ``∇w : ∇v`` couples
    each component only to itself: two thirds of a 3D block are exact zeros, and dropping them makes every
    product and every multigrid smoothing step three times cheaper.
    """
    indptr, indices, values = A.getValuesCSR()
    keep = values != 0
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    compact = PETSc.Mat().createAIJ(size=A.getSizes(), bsize=bs, comm=A.getComm(),
                                    csr=(kept_before[indptr].astype(PETSc.IntType), indices[keep], values[keep]))
    A.destroy()
    return compact


def _assembled(form: ufl.Form) -> PETSc.Mat:
    A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form))
    A.assemble()
    return A


@dataclass
class StokesSystem:
    """The reduced Stokes cell system on the periodic, no-slip Taylor–Hood space.

    ``matrix`` is the ``MATNEST`` saddle-point operator, ``preconditioner`` the nest ``diag(A, M_p)``,
    ``P_u``, ``P_p`` the prolongations of the two fields and ``velocity_constants`` the reduced constant
    velocities (one per component, the near-kernel of the velocity block for multigrid).
    """

    V: dolfinx.fem.FunctionSpace
    Q: dolfinx.fem.FunctionSpace
    P_u: PETSc.Mat
    P_p: PETSc.Mat
    matrix: PETSc.Mat
    preconditioner: PETSc.Mat
    velocity_constants: list[PETSc.Vec]

    @property
    def split(self) -> tuple[PETSc.IS, PETSc.IS]:
        """Index sets of the velocity and pressure blocks in plain vectors of the nest layout."""
        rows = self.matrix.getNestISs()[0]
        return rows[0], rows[1]

    @property
    def reduced_dofs(self) -> int:
        return self.matrix.getSize()[0]

    def join(self, u: PETSc.Vec | None, p: PETSc.Vec | None) -> PETSc.Vec:
        """A plain vector of the nest layout from its velocity and pressure blocks (``None``: zero)."""
        x = PETSc.Vec().createMPI((self.matrix.getLocalSize()[0], self.matrix.getSize()[0]),
                                  comm=self.matrix.getComm())
        x.set(0.0)
        for block, iset in zip((u, p), self.split):
            if block is not None:
                sub = x.getSubVector(iset)
                block.copy(sub)
                x.restoreSubVector(iset, sub)
        return x

    def pressure_constant(self) -> PETSc.Vec:
        """The unit vector of the kernel: zero velocity, constant pressure (periodic weights are 1)."""
        ones = self.P_p.createVecRight()
        ones.set(1.0)
        x = self.join(None, ones)
        x.normalize()
        ones.destroy()
        return x

    def destroy(self) -> None:
        for obj in (self.P_u, self.P_p, self.matrix, self.preconditioner, *self.velocity_constants):
            obj.destroy()


def fluid_measure(cell: CellMesh) -> ufl.Measure:
    """``dx`` over the fluid (``MATRIX``) cells."""
    return ufl.Measure("dx", domain=cell.mesh, subdomain_data=cell.cell_tags)(MATRIX)


def stokes_system(cell: CellMesh, *, degree: int = 2, timings: Timings | None = None) -> StokesSystem:
    """Assemble and reduce the Taylor–Hood ``P_degree^d / P_{degree-1}`` Stokes system on the fluid of a cell
    (theory.md §4)."""
    timings = timings or Timings()
    mesh, d = cell.mesh, cell.mesh.geometry.dim
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree, (d,)))
    Q = dolfinx.fem.functionspace(mesh, ("Lagrange", degree - 1))
    dx = fluid_measure(cell)
    with timings.stage("assemble"):
        A, B, M = (_assembled(f) for f in (stokes.viscous(V, dx), stokes.divergence(V, Q, dx),
                                           stokes.pressure_mass(Q, dx)))
    with timings.stage("prolongation"):
        P_u, pmap_u = fluid_prolongation(V, cell, no_slip=True)
        P_p, _ = fluid_prolongation(Q, cell, no_slip=False)
        A_r = _without_zeros(periodic.reduce_matrix(A, P_u), d)
        B_r, M_r = _reduce_rectangular(B, P_p, P_u), periodic.reduce_matrix(M, P_p)
        Bt_r = B_r.hermitianTranspose(PETSc.Mat())
        matrix = PETSc.Mat().createNest([[A_r, Bt_r], [B_r, None]], comm=mesh.comm)
        preconditioner = PETSc.Mat().createNest([[A_r, None], [None, M_r]], comm=mesh.comm)
    for obj in (A, B, M, A_r, B_r, Bt_r, M_r):
        obj.destroy()
    return StokesSystem(V=V, Q=Q, P_u=P_u, P_p=P_p, matrix=matrix, preconditioner=preconditioner,
                        velocity_constants=periodic.constant_vectors(pmap_u, P_u))


# ----------------------------------------------------------------------------------------------------------
# solvers
# ----------------------------------------------------------------------------------------------------------

def stokes_solver(system: StokesSystem, *, method: str = "mumps", rtol: float = 1e-10,
                  prefix: str = "darcy_") -> petsc.LinearSolver:
    """Set up the solver of the reduced Stokes system.

    Parameters
    ----------
    system
        The reduced system.
    method
        ``"mumps"`` (LU of the nest converted to AIJ, null pivots detected) or ``"fieldsplit"`` (MINRES,
        additive fieldsplit: GAMG on the velocity block, Jacobi on the pressure mass matrix).
    rtol
        Relative residual tolerance of MINRES (ignored by ``"mumps"``).
    prefix
        PETSc options prefix: ``-darcy_ksp_...``, ``-darcy_fieldsplit_u_pc_...`` override the defaults.
    """
    require(method in METHODS, f"unknown {{argument}} '{method}' (known: {', '.join(METHODS)})", argument="method")
    comm = system.matrix.getComm()
    nullspace = PETSc.NullSpace().create(vectors=[system.pressure_constant()], comm=comm)
    problem = "Stokes cell problem"
    if method == "mumps":
        aij = system.matrix.convert("aij", PETSc.Mat())  # a copy: no `out` converts in place
        solver = petsc.singular_direct_solver(aij, nullspace=nullspace, prefix=prefix, problem=problem)
        aij.destroy()  # the KSP keeps its reference
        return solver
    A = system.preconditioner.getNestSubMatrix(0, 0)
    A.setNearNullSpace(PETSc.NullSpace().create(vectors=_orthonormal(system.velocity_constants), comm=comm))
    return petsc.saddle_point_solver(system.matrix, preconditioner=system.preconditioner,
                                     splits=(("u", system.split[0]), ("p", system.split[1])),
                                     nullspace=nullspace, rtol=rtol, prefix=prefix, problem=problem)


def _orthonormal(vectors: list[PETSc.Vec]) -> list[PETSc.Vec]:
    """Copies of mutually orthogonal vectors (constants per component), normalised."""
    out = [v.copy() for v in vectors]
    for v in out:
        v.normalize()
    return out


# ----------------------------------------------------------------------------------------------------------
# permeability
# ----------------------------------------------------------------------------------------------------------

@dataclass
class Permeability:
    """Stokes cell solutions and the permeability they give (theory.md §4).

    ``tensor`` is ``K`` in the mean-velocity form ``K_ij = ⟨w^j_i⟩`` and ``tensor_dissipation`` in the
    dissipation form ``K_ij = ⟨∇w^i : ∇w^j⟩``, both averaged over the whole cell (superficial velocity).
    ``dofs`` counts the Taylor–Hood space on the whole two-phase mesh, ``reduced_dofs`` the unknowns solved
    for (periodic, fluid only, no slip).
    ``divergence`` is ``max_k ‖∇·w^k‖ / max_k ‖∇w^k‖`` (zero for an exactly divergence-free velocity).
    ``solid_fraction`` is measured on the mesh, ``nominal_solid_fraction`` exact for the geometry; ``timings`` is
    the caller's, so stages timed after the solve are reported too.
    """

    tensor: np.ndarray
    tensor_dissipation: np.ndarray
    velocities: list[dolfinx.fem.Function]
    pressures: list[dolfinx.fem.Function]
    solid_fraction: float
    nominal_solid_fraction: float
    blocked_directions: np.ndarray
    divergence: float
    iterations: list[int]
    dofs: int
    reduced_dofs: int
    mesh_cells: int
    ranks: int
    memory_mb: dict[str, float]
    timings: Timings

    @property
    def form_difference(self) -> float:
        """``max |K − K_dissipation|`` relative to ``max |K|``."""
        return float(np.abs(self.tensor - self.tensor_dissipation).max() / np.abs(self.tensor).max())

    @property
    def asymmetry(self) -> float:
        """``max |K − Kᵀ|`` relative to ``max |K|``."""
        return float(np.abs(self.tensor - self.tensor.T).max() / np.abs(self.tensor).max())

    def to_dict(self) -> dict:
        """JSON-ready: ``K`` in both forms and their checks, the eigenvalues of ``sym(K)``, the directions that
        flow or are blocked, fractions, sizes and the run (the permeability driver's ``results.json``)."""
        eigenvalues = np.linalg.eigvalsh(0.5 * (self.tensor + self.tensor.T))
        return jsonable({
            "K": self.tensor, "K_dissipation": self.tensor_dissipation, "form_difference": self.form_difference,
            "asymmetry": self.asymmetry, "eigenvalues": eigenvalues,
            "positive_definite": bool(eigenvalues.min() > 0 and not len(self.blocked_directions)),
            "blocked_directions": self.blocked_directions,
            "flowing_directions": len(eigenvalues) - len(self.blocked_directions), "divergence": self.divergence,
            "solid_fraction": self.solid_fraction, "nominal_solid_fraction": self.nominal_solid_fraction,
            "dofs": self.dofs, "reduced_dofs": self.reduced_dofs, "iterations": self.iterations,
            "ranks": self.ranks, "mesh_cells": self.mesh_cells, "peak_memory_mb": self.memory_mb,
            "timings": self.timings.seconds})


def permeability(cell: CellMesh, *, degree: int = 2, method: str = "mumps", rtol: float = 1e-10,
                 timings: Timings | None = None) -> Permeability:
    """Solve the ``d`` Stokes cell problems on the fluid (``MATRIX``) part of ``cell`` and return ``K``.

    Parameters
    ----------
    cell
        A periodic two-phase cell; the inclusions are solid obstacles.
    degree
        Velocity degree of the Taylor–Hood pair (pressure ``degree − 1``), at least 2.
    method, rtol
        Linear solver (:func:`stokes_solver`).

    Raises
    ------
    InputError
        If the fluid is disconnected or does not cross the cell in any direction.
    """
    require(degree >= 2, f"must be at least 2 (the Taylor-Hood velocity degree), got {degree}", argument="degree")
    timings = timings or Timings()
    with timings.stage("topology"):
        perc = percolation(cell)
        require_percolation(perc)
    system = stokes_system(cell, degree=degree, timings=timings)
    with timings.stage("setup"):
        solver = stokes_solver(system, method=method, rtol=rtol)
    d, dx = cell.mesh.geometry.dim, fluid_measure(cell)
    velocities, pressures, iterations = [], [], []
    for k in range(d):
        with timings.stage("assemble"):
            b_u = periodic.assemble_reduced_vector(dolfinx.fem.form(stokes.forcing(system.V, k, dx)), system.P_u)
            b = system.join(b_u, None)
        with timings.stage("solve"):
            x, its = solver.solve(b)
            w, p = _extend(system, x, k)
        velocities.append(w)
        pressures.append(p)
        iterations.append(its)
        log(f"  Stokes cell problem {k + 1}/{d} solved ({method}, {its} iterations)", cell.mesh.comm)
        for obj in (b_u, b, x):
            obj.destroy()
    with timings.stage("postprocess"):  # the velocity vanishes in the solid: integrate over the whole cell
        volume = cell.geometry.volume
        K = integrate_components(stokes.mean_velocity_matrix(velocities), cell.mesh) / volume
        K_diss = integrate_components(stokes.dissipation_matrix(velocities), cell.mesh) / volume
        divergence = _divergence_ratio(velocities)
        one = dolfinx.fem.Constant(cell.mesh, PETSc.ScalarType(1.0))
        solid_fraction = 1.0 - integrate(one * dx, cell.mesh.comm).real / volume
    reduced = system.reduced_dofs
    dofs = system.V.dofmap.index_map.size_global * d + system.Q.dofmap.index_map.size_global
    solver.destroy()
    system.destroy()
    comm = cell.mesh.comm
    return Permeability(tensor=K.real, tensor_dissipation=K_diss.real, velocities=velocities,
                        pressures=pressures, solid_fraction=solid_fraction,
                        nominal_solid_fraction=cell.geometry.nominal_inclusion_fraction(),
                        blocked_directions=perc.blocked, divergence=divergence, iterations=iterations,
                        dofs=dofs, reduced_dofs=reduced,
                        mesh_cells=cell.mesh.topology.index_map(cell.mesh.topology.dim).size_global,
                        ranks=comm.size, memory_mb=peak_memory_mb(comm), timings=timings)


def _extend(system: StokesSystem, x: PETSc.Vec,
            k: int) -> tuple[dolfinx.fem.Function, dolfinx.fem.Function]:
    """The full velocity and pressure functions of a reduced solution."""
    w = dolfinx.fem.Function(system.V, name=f"w_{k + 1}")
    p = dolfinx.fem.Function(system.Q, name=f"pi_{k + 1}")
    for field_, iset, P in ((w, system.split[0], system.P_u), (p, system.split[1], system.P_p)):
        sub = x.getSubVector(iset)
        periodic.extend(sub, P, field_)
        x.restoreSubVector(iset, sub)
    return w, p


def _divergence_ratio(velocities: list[dolfinx.fem.Function]) -> float:
    """``max_k ‖∇·w^k‖ / max_k ‖∇w^k‖`` (L² norms; Taylor–Hood velocities are only weakly solenoidal)."""
    comm = velocities[0].function_space.mesh.comm
    div = [integrate(ufl.inner(ufl.div(w), ufl.div(w)) * ufl.dx, comm).real for w in velocities]
    grad = [integrate(ufl.inner(ufl.grad(w), ufl.grad(w)) * ufl.dx, comm).real for w in velocities]
    return float(np.sqrt(max(div) / max(grad)))
