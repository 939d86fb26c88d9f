"""Periodic correctors and effective tensors: conductivity ``A_hom`` and elasticity ``C_hom``.

The cell problems of theory.md §2.1 (scalar) and §2.3 (elasticity) are assembled on the full Lagrange
space, reduced to the periodic space with the prolongation ``P`` of :mod:`fem_homog.fem.periodic`, solved once per
load case with one preconditioner set-up, and extended back. Effective tensors are computed with both the
flux form and the energy form (§2.2); for a Galerkin solution they agree to solver precision, so their
difference is reported as a check of the solve and the constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_homog.cells.meshing import CellMesh
from fem_homog.core.timing import Timings
from fem_homog.fem import periodic
from fem_homog.fem.coefficients import integrate_components
from fem_homog.fem.petsc import singular_solver
from fem_homog.forms import cell_problems as cp
from fem_homog.output.results import jsonable

import dolfinx.fem
import dolfinx.fem.petsc
import ufl
from petsc4py import PETSc


@dataclass
class CellSolution:
    """Correctors of one cell problem and the effective tensor they give.

    ``tensor`` is the flux-form tensor (``A_hom`` or Voigt ``C_hom``, its ``name``), ``tensor_energy`` the
    energy-form one.
    """

    name: str
    tensor: np.ndarray
    tensor_energy: np.ndarray
    correctors: list[dolfinx.fem.Function]
    iterations: list[int]
    dofs: int
    reduced_dofs: int
    timings: Timings

    @property
    def flux_energy_difference(self) -> float:
        """``max |flux - energy|`` relative to ``max |tensor|``."""
        return float(np.abs(self.tensor - self.tensor_energy).max() / np.abs(self.tensor).max())

    def to_dict(self) -> dict:
        """JSON-ready numbers: the tensor under its ``name`` and ``<name>_energy``, their relative difference,
        the dofs (full and periodic) and the iterations per load case."""
        return jsonable({self.name: self.tensor, f"{self.name}_energy": self.tensor_energy,
                         "flux_energy_difference": self.flux_energy_difference, "dofs": self.dofs,
                         "reduced_dofs": self.reduced_dofs, "iterations": self.iterations})


def _solve_load_cases(V: dolfinx.fem.FunctionSpace, bilinear: ufl.Form, loads: list[ufl.Form], *,
                      lattice: np.ndarray, method: str, rtol: float,
                      timings: Timings) -> tuple[list[dolfinx.fem.Function], list[int], int]:
    """Solve ``a(u_J, v) = L_J(v)`` on the periodic subspace for every load ``L_J``, one set-up for all."""
    with timings.stage("assemble"):
        K = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(bilinear))
        K.assemble()
        load_forms = [dolfinx.fem.form(L) for L in loads]
    with timings.stage("prolongation"):
        pmap = periodic.periodic_map(V, lattice)
        P = periodic.prolongation(pmap)
        K_r = periodic.reduce_matrix(K, P)
    with timings.stage("setup"):
        rotations = [periodic.restrict(r, P) for r in _rotation_modes(V)]
        solver = singular_solver(K_r, periodic.constant_vectors(pmap, P), near_kernel=rotations,
                                 method=method, rtol=rtol)
    fields, iterations = [], []
    for L in load_forms:
        with timings.stage("assemble"):
            b_r = periodic.assemble_reduced_vector(L, P)
        with timings.stage("solve"):
            u_r, its = solver.solve(b_r)
            u = dolfinx.fem.Function(V)
            periodic.extend(u_r, P, u)
        fields.append(u)
        iterations.append(its)
    with timings.stage("solve"):
        _subtract_means(fields)
    reduced = pmap.num_reduced_global * pmap.block_size
    solver.destroy()
    for obj in (K, K_r, P):
        obj.destroy()
    return fields, iterations, reduced


def _rotation_modes(V: dolfinx.fem.FunctionSpace) -> list[PETSc.Vec]:
    """Infinitesimal rigid rotations of a vector space (none for a scalar space), as full PETSc vectors.

    They are not periodic, so not in the kernel of the periodic problem, but they are locally: GAMG
    aggregates better with them in its near-null space (fewer iterations for elasticity).
    """
    bs, gdim = V.dofmap.index_map_bs, V.mesh.geometry.dim
    if bs == 1:
        return []
    x = V.tabulate_dof_coordinates()[:, :gdim] - 0.5
    planes = [(0, 1)] if gdim == 2 else [(0, 1), (1, 2), (0, 2)]
    modes = []
    for a, b in planes:
        u = dolfinx.fem.Function(V)
        values = u.x.array.reshape(-1, bs)
        values[:, a], values[:, b] = -x[:, b], x[:, a]
        modes.append(u.x.petsc_vec.copy())
    return modes


def _subtract_means(fields: list[dolfinx.fem.Function]) -> None:
    """Make each component of each field have zero cell average (the normalisation of theory.md §2.1).

    One assembly of ``w_i = ∫ φ_i`` serves all fields: the mean of component ``c`` is ``Σ w_i u_i / |Y|`` over
    the dofs ``i`` of that component.
    """
    V = fields[0].function_space
    comm, bs = V.mesh.comm, V.dofmap.index_map_bs
    v = ufl.TestFunction(V)
    v_sum = sum(v[c] for c in range(bs)) if bs > 1 else v
    w = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(ufl.conj(v_sum) * ufl.dx))
    w.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    weights = w.getArray().reshape(-1, bs)
    volume = comm.allreduce(weights[:, 0].sum().real)
    n_owned = V.dofmap.index_map.size_local
    for u in fields:
        values = u.x.array.reshape(-1, bs)
        means = comm.allreduce((weights * values[:n_owned]).sum(axis=0)) / volume
        values[:] -= means
    w.destroy()


def conductivity(cell: CellMesh, A: ufl.core.expr.Expr, *, degree: int = 2, method: str = "cg-gamg",
                 rtol: float = 1e-10, timings: Timings | None = None) -> CellSolution:
    """Scalar correctors ``χ^k`` and ``A_hom`` (theory.md §2.1–§2.2).

    Parameters
    ----------
    cell
        The periodic cell mesh.
    A
        Conductivity/permittivity coefficient: a scalar or ``d × d`` tensor expression (e.g. a DG0 phase
        function from :func:`fem_homog.fem.coefficients.phase_function`).
    degree
        Lagrange degree of the correctors.
    method, rtol
        Linear solver (:func:`fem_homog.fem.petsc.singular_solver`).
    """
    timings = timings or Timings()
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", degree))
    d = cell.mesh.geometry.dim
    chi, its, reduced = _solve_load_cases(
        V, cp.conductivity_bilinear(V, A), [cp.conductivity_load(V, A, k) for k in range(d)],
        lattice=cell.geometry.lattice_vectors, method=method, rtol=rtol, timings=timings)
    with timings.stage("postprocess"):
        volume = cell.geometry.volume
        flux = integrate_components(cp.conductivity_flux_matrix(A, chi), cell.mesh) / volume
        energy = integrate_components(cp.conductivity_energy_matrix(A, chi), cell.mesh) / volume
    for k, c in enumerate(chi):
        c.name = f"chi_{k + 1}"
    return CellSolution(name="A_hom", tensor=flux.real, tensor_energy=energy.real, correctors=chi, iterations=its,
                        dofs=V.dofmap.index_map.size_global, reduced_dofs=reduced, timings=timings)


def elasticity(cell: CellMesh, lmbda: ufl.core.expr.Expr, mu: ufl.core.expr.Expr, *, degree: int = 2,
               method: str = "cg-gamg", rtol: float = 1e-10, timings: Timings | None = None) -> CellSolution:
    """Elastic correctors ``w^J`` and Voigt ``C_hom`` with engineering shear (theory.md §2.3).

    2D cells are in plane strain (3 load cases, order 11, 22, 12); 3D cells have 6 load cases
    (11, 22, 33, 23, 13, 12). ``lmbda`` and ``mu`` are the Lamé coefficients (DG0 phase functions).
    """
    timings = timings or Timings()
    d = cell.mesh.geometry.dim
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", degree, (d,)))
    n = len(cp.voigt_pairs(d))
    w, its, reduced = _solve_load_cases(
        V, cp.elasticity_bilinear(V, lmbda, mu), [cp.elasticity_load(V, lmbda, mu, J) for J in range(n)],
        lattice=cell.geometry.lattice_vectors, method=method, rtol=rtol, timings=timings)
    with timings.stage("postprocess"):
        volume = cell.geometry.volume
        flux = integrate_components(cp.elasticity_flux_matrix(lmbda, mu, w), cell.mesh) / volume
        energy = integrate_components(cp.elasticity_energy_matrix(lmbda, mu, w), cell.mesh) / volume
    names = ["11", "22", "12"] if d == 2 else ["11", "22", "33", "23", "13", "12"]
    for J, field_ in enumerate(w):
        field_.name = f"w_{names[J]}"
    return CellSolution(name="C_hom", tensor=flux.real, tensor_energy=energy.real, correctors=w, iterations=its,
                        dofs=V.dofmap.index_map.size_global * d, reduced_dofs=reduced, timings=timings)
