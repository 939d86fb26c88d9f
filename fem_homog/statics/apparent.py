"""Apparent conductivity tensors of a window ``Q_R`` under three boundary conditions (theory.md §3).

* **periodic** (:func:`periodic_window`) — the window is periodized; ``A^P_R`` is the effective tensor of the
  cell problem of §2.1–§2.2 on ``Q_R``, computed by :func:`fem_homog.statics.correctors.conductivity`.
* **dirichlet** (:func:`dirichlet_window`; kinematic, KUBC) — ``u = E·y`` on ``∂Q_R``: with ``u = y_k + w_k``,
  ``w_k ∈ H^1_0``, ``∫ A(e_k + ∇w_k)·∇v = 0``, and ``A^D_R e_k = ⟨A(e_k + ∇w_k)⟩``.
* **neumann** (:func:`neumann_window`; static, SUBC) — ``A∇u·n = Σ·n`` on ``∂Q_R``; by the divergence theorem
  the load is ``∫ Σ·∇v``, and ``u`` is defined up to a constant (the kernel, handled as for periodic cells). For
  each unit flux ``Σ = e_k``, ``G e_k = ⟨∇u_k⟩ = (A^N_R)^{-1} e_k``, so ``A^N_R = G^{-1}``.

On one mesh with matching opposite faces the discrete spaces are nested (``H^1_0`` ⊂ periodic ⊂ ``H^1``), so the
ordering ``A^N_R ⪯ A^P_R ⪯ A^D_R`` of §3 holds for the finite-element tensors too, sample by sample.
"""

from __future__ import annotations

import numpy as np

from fem_homog.cells.rve_mesh import WindowMesh
from fem_homog.core.errors import require
from fem_homog.fem.coefficients import integrate_components
from fem_homog.fem.petsc import definite_solver, singular_solver
from fem_homog.forms import cell_problems as cp
from fem_homog.statics import correctors

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import ufl
from petsc4py import PETSc

BOUNDARIES = ("periodic", "dirichlet", "neumann")


def _solve(V: dolfinx.fem.FunctionSpace, bilinear: ufl.Form, loads: list[ufl.Form], *, kernel: bool,
           bcs: list[dolfinx.fem.DirichletBC], method: str, rtol: float) -> list[dolfinx.fem.Function]:
    """Solve ``a(u_k, v) = L_k(v)`` on the full space (``bcs`` homogeneous) with one solver set-up.

    ``kernel``: the matrix is singular with the constants as kernel (pure Neumann).
    """
    K = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(bilinear), bcs=bcs)
    K.assemble()
    if kernel:
        ones = K.createVecRight()
        ones.set(1.0)
        solver = singular_solver(K, [ones], method=method, rtol=rtol, prefix="rve_", problem="Neumann window problem")
    else:
        solver = definite_solver(K, method=method, rtol=rtol, prefix="rve_", problem="Dirichlet window problem")
    fields = []
    for L in loads:
        b = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(L))
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        dolfinx.fem.petsc.set_bc(b, bcs)
        x, _ = solver.solve(b)
        u = dolfinx.fem.Function(V)
        u.x.petsc_vec.array[:] = x.array
        u.x.scatter_forward()
        fields.append(u)
        b.destroy()
        x.destroy()
    solver.destroy()
    K.destroy()
    return fields


def dirichlet_window(window: WindowMesh, A: ufl.core.expr.Expr, *, degree: int = 1, method: str = "cg-gamg",
              rtol: float = 1e-10) -> np.ndarray:
    """Kinematic apparent tensor ``A^D_R`` (affine ``u = E·y`` on the whole window boundary)."""
    mesh, d = window.mesh, window.geometry.dim
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    mesh.topology.create_connectivity(d - 1, d)
    facets = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    dofs = dolfinx.fem.locate_dofs_topological(V, d - 1, facets)
    bc = dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dofs, V)
    w = _solve(V, cp.conductivity_bilinear(V, A), [cp.conductivity_load(V, A, k) for k in range(d)],
               kernel=False, bcs=[bc], method=method, rtol=rtol)
    return integrate_components(cp.conductivity_flux_matrix(A, w), mesh).real / window.geometry.volume


def neumann_window(window: WindowMesh, A: ufl.core.expr.Expr, *, degree: int = 1, method: str = "cg-gamg",
            rtol: float = 1e-10) -> np.ndarray:
    """Static apparent tensor ``A^N_R`` (uniform flux ``Σ·n`` on the whole window boundary)."""
    mesh, d = window.mesh, window.geometry.dim
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    one = dolfinx.fem.Constant(mesh, PETSc.ScalarType(1.0))
    # -conductivity_load with A = 1 is ∫ e_k · conj(∇v), the load of the unit flux Σ = e_k
    u = _solve(V, cp.conductivity_bilinear(V, A), [-cp.conductivity_load(V, one, k) for k in range(d)],
               kernel=True, bcs=[], method=method, rtol=rtol)
    gradients = ufl.as_matrix([[u[k].dx(i) for k in range(d)] for i in range(d)])
    G = integrate_components(gradients, mesh).real / window.geometry.volume
    return np.linalg.inv(G)


def periodic_window(window: WindowMesh, A: ufl.core.expr.Expr, *, degree: int = 1, method: str = "cg-gamg",
             rtol: float = 1e-10) -> np.ndarray:
    """Periodic apparent tensor ``A^P_R`` (the periodized window as a cell, theory.md §2.1–§2.2)."""
    return correctors.conductivity(window, A, degree=degree, method=method, rtol=rtol).tensor


def apparent_tensors(window: WindowMesh, A: ufl.core.expr.Expr, boundaries: list[str], *, degree: int = 1,
                     method: str = "cg-gamg", rtol: float = 1e-10) -> dict[str, np.ndarray]:
    """The apparent tensors of one window for each requested boundary condition (:data:`BOUNDARIES`)."""
    solvers = {"periodic": periodic_window, "dirichlet": dirichlet_window, "neumann": neumann_window}
    for name in boundaries:
        require(name in solvers, f"unknown {{argument}} '{name}' (known: {', '.join(BOUNDARIES)})",
                argument="boundaries")
    return {name: solvers[name](window, A, degree=degree, method=method, rtol=rtol) for name in boundaries}
