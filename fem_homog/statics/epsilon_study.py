"""ε-convergence of periodic homogenization and its boundary layer (theory.md §2.5).

The fine-scale problem ``−∇·(A(x/ε)∇u^ε) = f`` is solved on the unit square (or cube) with ``ε = 1/N``, either
on the torus (periodic, ``f = sin 2πx₁``, zero-mean solutions) or with ``u = 0`` on the boundary (``f = 1``).
Its mesh is the cell mesh tiled ``N × N`` times (:func:`tiled_mesh`), so the microstructure is resolved exactly
and the cell correctors ``χ^k`` of :func:`fem_homog.statics.correctors.conductivity`, computed on that same cell mesh,
are interpolated into the fine space without error (:func:`periodic_interpolant`). The homogenized solution
``u₀`` solves the same macroscopic problem with the constant tensor ``A_hom`` on the same mesh, and the
first-order reconstruction is ``u₁ = u₀ + ε χ^k(x/ε) ∂_k u₀``. Theory: ``‖u^ε − u₀‖_{L²} = O(ε)``,
``‖∇(u^ε − u₀)‖ = O(1)``, ``‖∇(u^ε − u₁)‖ = O(ε)`` on the torus but ``O(√ε)`` with Dirichlet data, where
``u₁ ≠ 0`` on the boundary leaves a layer of width ``ε``. :func:`convergence_study` runs the whole study
(every ``N``, both boundary problems, fitted rates); :func:`plot_errors` and :func:`error_fields` show it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from mpi4py import MPI
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from fem_homog.cells.meshing import CellMesh
from fem_homog.core.errors import SolverError, require
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.fem import periodic
from fem_homog.fem.coefficients import integrate, phase_function
from fem_homog.fem.petsc import definite_solver, singular_solver
from fem_homog.forms import cell_problems as cp
from fem_homog.output.results import jsonable, peak_memory_mb
from fem_homog.statics.correctors import CellSolution, conductivity

import basix.ufl
import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import ufl
from petsc4py import PETSc

BOUNDARIES = ("torus", "dirichlet")
ERRORS = ("L2_u0", "H1_u0", "L2_u1", "H1_u1")
_MERGE_TOL = 1e-9  # relative to the fine cell size: tiled copies of a periodic face coincide to round-off


def tiled_mesh(cell: CellMesh, n: int,
               comm: MPI.Comm = MPI.COMM_WORLD) -> tuple[dolfinx.mesh.Mesh, dolfinx.mesh.MeshTags]:
    """The unit box tiled by ``n^d`` copies of a unit cell scaled by ``ε = 1/n``, with the cell's phase tags.

    The cell mesh must be serial (``COMM_SELF``), straight-sided and have matching opposite faces, so the
    copies meet conformingly; coinciding nodes are merged. The tiling is built on rank 0 of ``comm`` and
    distributed by dolfinx.
    """
    require(cell.mesh.comm.size == 1, "the cell mesh to tile must live on one process (MPI.COMM_SELF)")
    require(cell.order == 1, "tiling needs a straight-sided cell mesh (geometry order 1)")
    require(cell.geometry.lattice == "square" and bool(np.allclose(cell.geometry.size, 1.0)),
            "tiling needs the unit square/cube cell (unit lengths, square lattice)")
    require(n >= 1, f"the number of cells per side must be at least 1, got {n}")
    d = cell.mesh.geometry.dim
    x, cells = cell.mesh.geometry.x[:, :d], cell.mesh.geometry.dofmaps[0].astype(np.int64)
    tag = np.zeros(len(cells), dtype=np.int32)
    tag[cell.cell_tags.indices] = cell.cell_tags.values
    points, topology, tags = np.zeros((0, d)), np.zeros((0, cells.shape[1]), dtype=np.int64), tag
    if comm.rank == 0:
        copies = list(itertools.product(range(n), repeat=d))
        points = np.concatenate([(x + np.array(c)) / n for c in copies])
        topology = np.concatenate([cells + i * len(x) for i in range(len(copies))])
        tags = np.tile(tag, len(copies))
        representative, points = _merge(points, _MERGE_TOL / n)
        topology = representative[topology]
    element = basix.ufl.element("Lagrange", cell.mesh.basix_cell(), 1, shape=(d,))
    mesh = dolfinx.mesh.create_mesh(comm, topology, element, points)
    tags = comm.bcast(tags if comm.rank == 0 else None, root=0)
    n_owned = mesh.topology.index_map(d).size_local
    local = np.arange(n_owned, dtype=np.int32)
    return mesh, dolfinx.mesh.meshtags(mesh, d, local, tags[mesh.topology.original_cell_index[:n_owned]])


def _merge(points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge points closer than ``tol``: the new index of every point and the merged points."""
    pairs = cKDTree(points).query_pairs(tol, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, len(points))
    np.minimum.at(first, label, np.arange(len(points)))
    return label, points[first]


def periodic_interpolant(chi: dolfinx.fem.Function, V: dolfinx.fem.FunctionSpace, n: int) -> dolfinx.fem.Function:
    """``χ(n x)`` in the space ``V`` of the tiled mesh, exactly: every node of ``V`` is a node of the cell
    space scaled by ``1/n`` and shifted by a lattice vector (``chi`` periodic, on a serial cell mesh)."""
    d = V.mesh.geometry.dim
    cell_nodes = chi.function_space.tabulate_dof_coordinates()[:, :d]
    y = V.tabulate_dof_coordinates()[:, :d] * n
    y -= np.floor(y)
    dist, nearest = cKDTree(cell_nodes).query(y)
    require(bool(np.all(dist < 1e-8)), "the fine mesh is not a tiling of the cell mesh (a node has no cell node)")
    out = dolfinx.fem.Function(V, name=chi.name)
    out.x.array[:] = chi.x.array[nearest]
    return out


def _source(mesh: dolfinx.mesh.Mesh, boundary: str) -> ufl.core.expr.Expr:
    """``f = sin 2πx₁`` on the torus (zero mean, so the periodic problem is solvable), ``f = 1`` otherwise."""
    x = ufl.SpatialCoordinate(mesh)
    return ufl.sin(2 * ufl.pi * x[0]) if boundary == "torus" else ufl.as_ufl(1.0)


def solve_macro(V: dolfinx.fem.FunctionSpace, A: ufl.core.expr.Expr, boundary: str, *,
                rtol: float = 1e-12) -> tuple[dolfinx.fem.Function, int]:
    """Solve ``−∇·(A∇u) = f`` on the unit box: periodic with zero mean (``"torus"``) or ``u = 0`` on the
    boundary (``"dirichlet"``), CG + GAMG; return ``u`` and the iteration count."""
    require(boundary in BOUNDARIES, f"unknown boundary '{boundary}' (known: {', '.join(BOUNDARIES)})")
    v = ufl.TestFunction(V)
    a = cp.conductivity_bilinear(V, A)
    L = ufl.inner(_source(V.mesh, boundary), v) * ufl.dx
    if boundary == "dirichlet":
        return _solve_dirichlet(V, a, L, rtol)
    return _solve_periodic(V, a, L, rtol)


def _solve_dirichlet(V: dolfinx.fem.FunctionSpace, a: ufl.Form, L: ufl.Form,
                     rtol: float) -> tuple[dolfinx.fem.Function, int]:
    """``a(u, v) = L(v)`` with ``u = 0`` on the whole boundary."""
    mesh = V.mesh
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, fdim + 1)
    dofs = dolfinx.fem.locate_dofs_topological(V, fdim, dolfinx.mesh.exterior_facet_indices(mesh.topology))
    bc = dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dofs, V)
    a_form = dolfinx.fem.form(a)
    K = dolfinx.fem.petsc.assemble_matrix(a_form, bcs=[bc])
    K.assemble()
    b = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(L))
    dolfinx.fem.petsc.apply_lifting(b, [a_form], bcs=[[bc]])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(b, [bc])
    u = dolfinx.fem.Function(V)
    with definite_solver(K, rtol=rtol, prefix="epsilon_", problem="Dirichlet macro problem") as solver:
        its = solver.solve_into(b, u.x.petsc_vec)
    u.x.scatter_forward()
    for obj in (K, b):
        obj.destroy()
    return u, its


def _solve_periodic(V: dolfinx.fem.FunctionSpace, a: ufl.Form, L: ufl.Form,
                    rtol: float) -> tuple[dolfinx.fem.Function, int]:
    """``a(u, v) = L(v)`` on the periodic subspace (constant null space), ``u`` with zero mean."""
    K = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(a))
    K.assemble()
    pmap = periodic.periodic_map(V)
    P = periodic.prolongation(pmap)
    K_r = periodic.reduce_matrix(K, P)
    solver = singular_solver(K_r, periodic.constant_vectors(pmap, P), rtol=rtol, prefix="epsilon_")
    b_r = periodic.assemble_reduced_vector(dolfinx.fem.form(L), P)
    u_r, its = solver.solve(b_r)
    u = dolfinx.fem.Function(V)
    periodic.extend(u_r, P, u)
    comm = V.mesh.comm
    area = integrate(dolfinx.fem.Constant(V.mesh, 1.0 + 0j) * ufl.dx, comm)
    u.x.array[:] -= integrate(u * ufl.dx, comm) / area  # the zero-mean solution
    for obj in (K, P, K_r, b_r, u_r):
        obj.destroy()
    solver.destroy()
    return u, its


def reconstruction(u0: dolfinx.fem.Function, chis: list[dolfinx.fem.Function], n: int) -> ufl.core.expr.Expr:
    """``u₁ = u₀ + ε χ^k(x/ε) ∂_k u₀`` with ``ε = 1/n`` (``chis`` already evaluated at ``x/ε``)."""
    return u0 + (1.0 / n) * sum(chi * u0.dx(k) for k, chi in enumerate(chis))


def error_norms(u: dolfinx.fem.Function, u0: dolfinx.fem.Function, u1: ufl.core.expr.Expr) -> dict[str, float]:
    """Relative errors ``‖u − u₀‖/‖u₀‖`` in L² and in the H¹ seminorm, and the same for ``u₁``."""
    comm = u.function_space.mesh.comm

    def norm(e, grad: bool) -> float:
        g = ufl.grad(e) if grad else e
        return float(np.sqrt(integrate(ufl.inner(g, g) * ufl.dx, comm).real))

    scale = {False: norm(u0, False), True: norm(u0, True)}
    return {f"{'H1' if grad else 'L2'}_{name}": norm(u - ref, grad) / scale[grad]
            for name, ref in (("u0", u0), ("u1", u1)) for grad in (False, True)}


@dataclass
class EpsilonPoint:
    """The fine solution at one ``ε = 1/n`` and its errors (keys of :data:`ERRORS`)."""

    n: int
    errors: dict[str, float]
    dofs: int
    iterations: int
    u: dolfinx.fem.Function
    u0: dolfinx.fem.Function
    u1: ufl.core.expr.Expr

    @property
    def epsilon(self) -> float:
        return 1.0 / self.n


def epsilon_point(cell: CellMesh, chis: list[dolfinx.fem.Function], phases: dict[int, float],
                  A_hom: np.ndarray, n: int, boundary: str, *, degree: int = 2,
                  comm: MPI.Comm = MPI.COMM_WORLD) -> EpsilonPoint:
    """Solve the fine and the homogenized problem for ``ε = 1/n`` and measure the errors.

    Parameters
    ----------
    cell
        Serial, straight-sided unit cell (tiled ``n^d`` times).
    chis
        Its correctors (Lagrange degree ``degree``), from :func:`fem_homog.statics.correctors.conductivity`.
    phases
        Conductivity per cell tag (scalars).
    A_hom
        The effective tensor of the same cell mesh.
    """
    mesh, tags = tiled_mesh(cell, n, comm)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    A = phase_function(mesh, tags, phases)
    u, its = solve_macro(V, A, boundary)
    u0, _ = solve_macro(V, ufl.as_matrix(A_hom.tolist()), boundary)
    u1 = reconstruction(u0, [periodic_interpolant(chi, V, n) for chi in chis], n)
    return EpsilonPoint(n=n, errors=error_norms(u, u0, u1), dofs=V.dofmap.index_map.size_global,
                        iterations=its, u=u, u0=u0, u1=u1)


def _log_errors(points: list[EpsilonPoint], key: str) -> np.ndarray:
    """``log`` of the ``key`` errors; an error that is zero or not finite has no slope (e.g. identical phases,
    where ``u = u₀``), so it raises :class:`SolverError` rather than writing NaN."""
    errors = np.array([p.errors[key] for p in points])
    if not np.all(np.isfinite(errors) & (errors > 0)):
        raise SolverError(f"the {key} errors {errors.tolist()} are not all positive and finite: no slope to fit")
    return np.log(errors)


def fitted_slopes(points: list[EpsilonPoint]) -> dict[str, float]:
    """Least-squares slopes of ``log error`` against ``log ε`` for every error kind."""
    log_eps = np.log([p.epsilon for p in points])
    return {key: float(np.polyfit(log_eps, _log_errors(points, key), 1)[0]) for key in ERRORS}


def local_slopes(points: list[EpsilonPoint]) -> dict[str, list[float]]:
    """Slopes between consecutive ``ε`` for every error kind (theory.md §2.5: for the Dirichlet ``H1_u1``
    they decrease towards ½ as the boundary layer takes over)."""
    log_eps = np.log([p.epsilon for p in points])
    return {key: (np.diff(_log_errors(points, key)) / np.diff(log_eps)).tolist() for key in ERRORS}


def error_fields(point: EpsilonPoint, degree: int = 2) -> list[dolfinx.fem.Function]:
    """The pointwise error ``u^ε − u₁`` (discontinuous, degree ``degree``) and ``log₁₀|∇(u^ε − u₁)|``
    (degree ``degree − 1``): the boundary layer is the strip of width ~ε where the gradient error stays O(1)
    while it is O(ε) inside."""
    mesh = point.u.function_space.mesh
    error = point.u - point.u1
    grad = ufl.sqrt(ufl.inner(ufl.grad(error), ufl.grad(error))) + 1e-12
    fields = []
    for name, expr, k in (("u - u1", error, degree), ("log10 |grad(u - u1)|", ufl.ln(grad) / np.log(10.0),
                                                      degree - 1)):
        W = dolfinx.fem.functionspace(mesh, ("DG", k))
        f = dolfinx.fem.Function(W, name=name)
        f.interpolate(dolfinx.fem.Expression(expr, W.element.interpolation_points))
        fields.append(f)
    return fields


# ----------------------------------------------------------------------------------------------------------
# the study: every ε for each boundary problem, and the fitted rates
# ----------------------------------------------------------------------------------------------------------

EXPECTED_SLOPES = {"torus": {"L2_u0": 1.0, "H1_u0": 0.0, "H1_u1": 1.0},
                   "dirichlet": {"L2_u0": 1.0, "H1_u0": 0.0, "H1_u1": 0.5}}
"""Slopes of log(error) against log(ε) predicted by theory.md §2.5."""
LABELS = {"L2_u0": "L² ‖u − u₀‖", "H1_u0": "H¹ ‖∇(u − u₀)‖", "L2_u1": "L² ‖u − u₁‖", "H1_u1": "H¹ ‖∇(u − u₁)‖"}


def check_study(*, N: Sequence[int], boundaries: Sequence[str], degree: int) -> None:
    """Raise :class:`~fem_homog.core.errors.InputError` (about ``N``, ``boundaries`` or ``degree``) unless the
    study can run: at least two distinct cell counts, known boundary problems, Lagrange degree 1–3."""
    require(isinstance(N, (list, tuple)) and len(N) >= 2 and all(isinstance(n, int) and n >= 1 for n in N),
            f"must list at least two positive integers (cells per side), got {N}", argument="N")
    require(len(set(N)) == len(N), f"must not repeat a value, got {N}", argument="N")
    for boundary in boundaries:
        require(boundary in BOUNDARIES, f"unknown {{argument}} '{boundary}' (known: {', '.join(BOUNDARIES)})",
                argument="boundaries")
    require(degree in (1, 2, 3), f"must be 1, 2 or 3, got {degree}", argument="degree")


@dataclass
class BoundaryStudy:
    """One boundary problem at every ``ε = 1/N`` (increasing ``N``) and the fitted slopes of its errors."""

    boundary: str
    points: list[EpsilonPoint]
    slopes: dict[str, float]

    @property
    def local_slopes(self) -> dict[str, list[float]]:
        """Slopes between consecutive ``N`` (:func:`local_slopes`)."""
        return local_slopes(self.points)

    def to_dict(self) -> dict:
        """JSON-ready: ``N``, ``epsilon``, ``errors`` per kind, ``slopes`` (fitted), ``local_slopes`` (between
        consecutive ``N``) and the ``expected_slopes`` of theory, ``dofs`` and ``iterations`` per ``N``."""
        return {"N": [p.n for p in self.points], "epsilon": [p.epsilon for p in self.points],
                "errors": {k: [p.errors[k] for p in self.points] for k in ERRORS}, "slopes": self.slopes,
                "local_slopes": self.local_slopes,
                "expected_slopes": EXPECTED_SLOPES[self.boundary], "dofs": [p.dofs for p in self.points],
                "iterations": [p.iterations for p in self.points]}


@dataclass
class EpsilonStudy:
    """The cell's ``A_hom`` and the :class:`BoundaryStudy` of each boundary problem, with the run's ranks,
    peak memory and ``timings`` (the caller's: stages timed after the study are reported too)."""

    A_hom: np.ndarray
    studies: dict[str, BoundaryStudy]
    ranks: int
    memory_mb: dict[str, float]
    timings: Timings

    @property
    def shown(self) -> EpsilonPoint:
        """The point whose boundary layer is worth a picture: the Dirichlet square (else the torus) at the
        largest ``N``."""
        return (self.studies.get("dirichlet") or self.studies["torus"]).points[-1]

    def to_dict(self) -> dict:
        """JSON-ready: the epsilon_convergence driver's ``results.json``."""
        return jsonable({"A_hom": self.A_hom, **{b: s.to_dict() for b, s in self.studies.items()},
                         "ranks": self.ranks, "peak_memory_mb": self.memory_mb, "timings": self.timings.seconds})


def boundary_study(cell: CellMesh, solution: CellSolution, phases: dict[int, float], boundary: str, *,
                   N: Sequence[int], degree: int = 2, comm: MPI.Comm = MPI.COMM_WORLD) -> BoundaryStudy:
    """:func:`epsilon_point` for every ``n`` in ``N`` (increasing) with the cell ``solution``'s correctors and
    ``A_hom``, and the fitted slopes."""
    points = []
    for n in sorted(N):
        point = epsilon_point(cell, solution.correctors, phases, solution.tensor, n, boundary, degree=degree,
                              comm=comm)
        log(f"  {boundary} N = {n:3d}: {point.dofs} dofs, " +
            ", ".join(f"{k} {v:.3e}" for k, v in point.errors.items()), comm)
        points.append(point)
    slopes = fitted_slopes(points)
    log(f"  {boundary} slopes: " + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items()) +
        f" (theory {EXPECTED_SLOPES[boundary]})", comm)
    return BoundaryStudy(boundary=boundary, points=points, slopes=slopes)


def convergence_study(cell: CellMesh, phases: dict[int, float], *, N: Sequence[int], boundaries: Sequence[str],
                      degree: int = 2, timings: Timings | None = None,
                      comm: MPI.Comm = MPI.COMM_WORLD) -> EpsilonStudy:
    """The ε-convergence study of theory.md §2.5 on the tilings of ``cell``.

    The cell problems are solved once on ``cell`` (serial, straight-sided, unit; MUMPS), so every rank of
    ``comm`` can evaluate ``χ(x/ε)``; then each of ``boundaries`` is solved at every ``ε = 1/n``, ``n`` in ``N``
    (:func:`boundary_study`). ``phases`` maps cell tags to scalar conductivities. Stages ``cell`` and one per
    boundary problem are added to ``timings``.
    """
    check_study(N=N, boundaries=boundaries, degree=degree)
    timings = timings if timings is not None else Timings()
    with timings.stage("cell"):
        A = phase_function(cell.mesh, cell.cell_tags, phases)
        solution = conductivity(cell, A, degree=degree, method="mumps")
    log(f"  A_hom =\n{np.array2string(solution.tensor, precision=8)}", comm)
    studies = {}
    for boundary in boundaries:
        with timings.stage(boundary):
            studies[boundary] = boundary_study(cell, solution, phases, boundary, N=N, degree=degree, comm=comm)
    return EpsilonStudy(A_hom=solution.tensor, studies=studies, ranks=comm.size, memory_mb=peak_memory_mb(comm),
                        timings=timings)


def plot_errors(study: EpsilonStudy, path: str | Path) -> None:
    """Log-log errors against ε, one panel per boundary problem, fitted slopes in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    studies = study.studies
    fig, axes = plt.subplots(1, len(studies), figsize=(5.5 * len(studies), 4.5), squeeze=False)
    for ax, (boundary, block) in zip(axes[0], studies.items()):
        eps = np.array([p.epsilon for p in block.points])
        for key, marker in zip(ERRORS, "osD^"):
            ax.loglog(eps, [p.errors[key] for p in block.points], marker=marker,
                      label=f"{LABELS[key]}  slope {block.slopes[key]:.2f}")
        ax.set_title(f"{boundary}: theory H¹(u − u₁) slope {EXPECTED_SLOPES[boundary]['H1_u1']:g}")
        ax.set_xlabel("ε = 1/N")
        ax.set_ylabel("relative error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
