"""The crystal edge of the periodic-source envelope: a Robin condition ``f + δ_j ∂_n f = 0`` (theory.md §9.1).

A band-edge Bloch wave meets the crystal edge with zero group velocity; its envelope vanishes, to leading order,
at an *effective* edge that is displaced from the geometric one by a complex length ``δ_j`` (per edge normal
``e_j``): ``Re δ`` shifts the standing wave, ``Im δ`` is the radiation through the edge (a leaky edge, the
``Q ∝ N³`` of band-edge cavity modes). To first order the condition on the geometric edge is
``f + δ_j ∂_n f = 0``.

* :func:`edge_offsets` — ``δ_j`` from the band-edge resonance of a *ribbon* of ``N`` cells along ``e_j`` with the
  background and PMLs at both ends and the Bloch condition of ``k₀`` across (reduced, for a mirror-symmetric
  cell, to a Neumann or Dirichlet side by the parity of ``U₀``): its complex ``Ω₁²`` gives
  ``N + 2δ = π √(T_jj/(Ω₁² − Ω₀²))``; two sizes remove the ``O(1/N)`` drift of the band's non-parabolicity.
* :func:`solve_edge_envelope` — the envelope of the uniform source density on the crystal with that condition
  (``δ_j = 0``: ``f = 0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
from mpi4py import MPI

from fem_homog.cells.crystal_mesh import CrystalMesh
from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry
from fem_homog.core.errors import SolverError, require
from fem_homog.core.logging import log
from fem_homog.fem.evaluation import point_values
from fem_homog.fem.petsc import direct_solver
from fem_homog.forms import pml as pml_forms
from fem_homog.output.results import jsonable
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.helmholtz import load_vector
from fem_homog.photonics.hfh import HFHResult
from fem_homog.photonics.slots import slot_values

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import ufl
from petsc4py import PETSc

RIBBON_SIZES = (8, 16)
"""Cells of the two ribbons whose resonances give ``δ`` (extrapolated linearly in ``1/N``)."""
ELEMENTS_PER_CELL = 16
"""Elements per cell side of the ribbon's structured mesh (rod sides must fall on its lines)."""


@dataclass
class EdgeOffsets:
    """The complex offsets ``δ_j`` of the effective edge normal to each axis ``j`` (outward, in cells), how they
    were obtained (``"ribbon"``, ``"given"``, or ``"dirichlet"`` for ``f = 0``), and for ``"ribbon"`` the sizes
    and the offset of each size before the extrapolation."""

    delta: list[complex]
    method: str
    sizes: list[int] | None = None
    per_size: list[list[complex]] | None = None

    def to_dict(self) -> dict:
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


def given_offsets(value: complex | Sequence[complex], dim: int = 2) -> EdgeOffsets:
    """Offsets given by the user: one number for every axis, or one per axis; all zero means ``f = 0``."""
    values = [complex(v) for v in np.broadcast_to(np.asarray(value, dtype=complex), (dim,))]
    require(all(np.isfinite(v) for v in values), f"must be finite, got {values}", argument="edge_offset")
    return EdgeOffsets(values, "dirichlet" if not any(values) else "given")


# ----------------------------------------------------------------------------------------------------------
# The envelope with the Robin edge
# ----------------------------------------------------------------------------------------------------------

def solve_edge_envelope(box: CrystalMesh, T: np.ndarray, detuning: complex, density: complex,
                        offsets: Sequence[complex], *, degree: int = 2) -> dolfinx.fem.Function:
    """The envelope of the uniform density ``a`` on the box (PML frame included, all physical):
    ``−∇·(T∇f) − (Ω² − Ω₀²) f = a`` with ``f + δ_j ∂_n f = 0`` on the outer faces normal to axis ``j``
    (``f = 0`` where ``δ_j = 0``, ``∂_n f = 0`` where ``δ_j = ∞``). Weak form (theory.md §9.1):
    ``∫ T∇f·∇v − (Ω² − Ω₀²)∫ f v + Σ_j (T_jj/δ_j) ∫_{Γ_j} f v = ∫ a v``, ``T`` diagonal in the box axes."""
    T = np.asarray(T, dtype=complex)
    d = box.dim
    require(T.shape == (d, d) and len(offsets) == d, f"need a {d}x{d} T and {d} offsets")
    off_diagonal = abs(T[0, 1] + T[1, 0]) / 2 if d == 2 else 0.0
    require(off_diagonal <= 1e-3 * np.abs(T).max() or all(o == 0 or not np.isfinite(o) for o in offsets),
            f"the Robin edge needs T diagonal in the crystal axes, got T = {np.round(T, 4).tolist()}",
            argument="edge_offset")
    mesh = box.mesh
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    lo, hi = box.lower - box.pml_width, box.upper + box.pml_width
    tol = 1e-8 * max(1.0, float(np.abs(hi - lo).max()))
    facets, markers = _faces(mesh, lo, hi, tol)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=dolfinx.mesh.meshtags(mesh, d - 1, facets, markers))
    f, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    symmetric = 0.5 * (T + T.T)
    form = pml_forms.helmholtz(V, ufl.as_matrix(symmetric.tolist()), 1.0, detuning, [1.0] * d,
                               quadrature_degree=2 * degree)
    dirichlet = []
    for j, delta in enumerate(offsets):
        if delta == 0:
            dirichlet.append(facets[markers == j + 1])
        elif np.isfinite(delta):
            form = form + complex(symmetric[j, j] / delta) * ufl.inner(f, v) * ds(j + 1)
    mesh.topology.create_connectivity(d - 1, d)
    bcs = [dolfinx.fem.dirichletbc(np.zeros((), dtype=PETSc.ScalarType),
                                   dolfinx.fem.locate_dofs_topological(V, d - 1, np.concatenate(dirichlet)), V)
           ] if dirichlet else []
    A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form), bcs=bcs)
    A.assemble()
    b = load_vector(V, lambda W: pml_forms.load(W, density))
    dolfinx.fem.petsc.set_bc(b, bcs)
    u = dolfinx.fem.Function(V, name="f")
    with direct_solver(A, prefix="envelope_", problem="edge envelope") as solver:
        solver.solve_into(b, u.x.petsc_vec)
    u.x.scatter_forward()
    A.destroy()
    b.destroy()
    return u


def _faces(mesh: dolfinx.mesh.Mesh, lo: np.ndarray, hi: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """The exterior facets on the faces ``x_j = lo_j`` or ``hi_j``, marked ``j + 1`` (sorted)."""
    d = mesh.topology.dim
    found = [dolfinx.mesh.locate_entities(mesh, d - 1, lambda x, j=j: np.isclose(x[j], lo[j], atol=tol)
                                          | np.isclose(x[j], hi[j], atol=tol)) for j in range(d)]
    facets = np.concatenate(found).astype(np.int32)
    markers = np.concatenate([np.full(len(f), j + 1, dtype=np.int32) for j, f in enumerate(found)])
    order = np.argsort(facets)
    return facets[order], markers[order]


# ----------------------------------------------------------------------------------------------------------
# The offsets from ribbon resonances
# ----------------------------------------------------------------------------------------------------------

def ribbon_supported(geometry: CellGeometry | None, k0: Sequence[float]) -> str | None:
    """Why the ribbon estimate cannot treat this cell (None if it can): it needs the unit square cell with one
    centred, axis-aligned square rod whose sides fall on the ribbon mesh's lines (the default crystal), and a
    zone point with components 0 or π (a side that is periodic or antiperiodic)."""
    if geometry is None or geometry.kind != "inclusions" or geometry.lattice != "square" or geometry.dim != 2:
        return "the cell is not a 2D square-lattice cell of inclusions"
    if not np.allclose(geometry.size, 1.0) or len(geometry.inclusions) != 1:
        return "the cell is not the unit cell with one rod"
    rod = geometry.inclusions[0]
    grid = (0.5 - rod.side / 2) * ELEMENTS_PER_CELL
    if rod.shape != "square" or rod.angle % 90.0 or not np.allclose(rod.centre, 0.5) or abs(grid - round(grid)) > 1e-9:
        return "the rod is not a centred, axis-aligned square on the ribbon mesh"
    if not np.all(np.isclose(np.abs(k0), 0.0) | np.isclose(np.abs(k0), math.pi)):
        return "k0 is not a zone point with components 0 or π"
    return None


def edge_offsets(problem: BlochProblem, hfh: HFHResult, geometry: CellGeometry, *,
                 sizes: Sequence[int] = RIBBON_SIZES, margin: int = 1, pml_width: int = 2) -> EdgeOffsets:
    """``δ_j`` per axis from the band-edge resonance of ribbons of ``sizes`` cells along ``e_j`` (theory.md §9.1):
    ``δ(N) = (π √(T_jj/(Ω₁² − Ω₀²)) − N)/2`` (root with positive real part), extrapolated linearly in ``1/N``
    from the two sizes. The ribbon carries the media of ``problem`` at the complex resonance frequency
    (dispersive ε, μ_r), ``margin`` cells of background and PMLs of ``pml_width`` cells at its ends.

    Raises
    ------
    InputError
        If :func:`ribbon_supported` refuses the cell.
    SolverError
        If a resonance iteration does not converge or lands on another mode.
    """
    reason = ribbon_supported(geometry, hfh.k0)
    require(reason is None, f"{{argument}} = 'auto' cannot be estimated: {reason}; give a number",
            argument="edge_offset")
    require(len(sizes) == 2 and sizes[0] != sizes[1], f"need two different ribbon sizes, got {list(sizes)}")
    parity = _parities(hfh.U0[0])
    omega0_2, per_size = hfh.omega0**2, []
    for j in range(2):
        row = []
        for n in sizes:
            w2 = _ribbon_resonance(problem, hfh, geometry, j, n, parity, margin, pml_width)
            length = math.pi * np.sqrt(complex(hfh.T[j, j] / (w2 - omega0_2)))
            length = length if length.real > 0 else -length
            row.append(complex((length - n) / 2))
        per_size.append(row)
    inverse = 1.0 / np.asarray(sizes, dtype=float)
    delta = [complex(r[0] - (r[1] - r[0]) * inverse[0] / (inverse[1] - inverse[0])) for r in per_size]
    log("  edge offsets δ (ribbons " + ", ".join(map(str, sizes)) + "): " + ", ".join(
        f"{'xy'[j]}: {delta[j]:.3f}" for j in range(2)))
    return EdgeOffsets(delta, "ribbon", list(sizes), per_size)


def _parities(U0: dolfinx.fem.Function) -> tuple[int, int]:
    """``±1``: the parity of ``U₀`` under the mirror ``y_j → 1 − y_j`` of the unit cell, per axis.

    Raises
    ------
    SolverError
        If ``U₀`` is neither even nor odd (a degenerate pair mixed by the eigensolver).
    """
    p = np.array([[0.1, 0.3], [0.2, 0.15], [0.35, 0.1], [0.05, 0.45], [0.4, 0.2]])
    u = point_values(U0, p)
    scale = np.abs(u).max()
    result = []
    for j in range(2):
        q = p.copy()
        q[:, j] = 1.0 - q[:, j]
        w = point_values(U0, q)
        even, odd = np.allclose(w, u, atol=1e-3 * scale), np.allclose(w, -u, atol=1e-3 * scale)
        if not (even or odd):
            raise SolverError(f"U0 is neither even nor odd under the mirror of axis {j}: the ribbon's side "
                              "condition is undefined")
        result.append(1 if even else -1)
    return tuple(result)


def _ribbon_resonance(problem: BlochProblem, hfh: HFHResult, geometry: CellGeometry, axis: int, n: int,
                      parity: tuple[int, int], margin: int, pml_width: int) -> complex:
    """The complex ``Ω²`` of the ribbon's first band-edge resonance near ``Ω₀² + T_jj (π/N)²``: fixed-shift
    inverse iteration, then Newton on the unconjugated Rayleigh functional ``xᵀA(Ω²)x = 0``."""
    parts, identity, mass, _space = _ribbon_matrices(problem, geometry, axis, n, parity, margin, pml_width, hfh)
    comm = identity.getComm()

    def operator(w2: complex) -> PETSc.Mat:
        A = identity.copy()
        for (K, M), (mu, rho) in zip(parts, _slots(problem, w2)):
            A.axpy(mu, K)
            A.axpy(-w2 * rho, M)
        return A

    guess = complex(hfh.omega0**2 + hfh.T[axis, axis] * (math.pi / n) ** 2)
    x, y = mass.createVecRight(), mass.createVecRight()
    random = PETSc.Random().create(comm)
    random.setSeed(1)
    x.setRandom(random)
    random.destroy()
    w2, converged = guess, False
    for step in range(40):
        A = operator(w2)
        with direct_solver(A, prefix="edge_", problem="ribbon resonance") as solver:
            for _ in range(8 if step == 0 else 1):
                mass.mult(x, y)
                solver.solve_into(y, x)
                x.scale(1.0 / x.norm())
        h = 1e-6 * abs(w2)
        A.mult(x, y)
        value = x.tDot(y)
        dA, below = operator(w2 + h), operator(w2 - h)
        dA.axpy(-1.0, below)
        dA.mult(x, y)
        correction = value / (x.tDot(y) / (2 * h))
        w2 -= correction
        for matrix in (A, dA, below):
            matrix.destroy()
        if abs(correction) < 1e-10 * abs(w2):
            converged = True
            break
    for matrix in (identity, mass, *[m for pair in parts for m in pair]):
        matrix.destroy()
    if not converged:
        raise SolverError(f"the ribbon resonance (axis {axis}, {n} cells) did not converge")
    spacing = abs(hfh.T[axis, axis]) * (math.pi / n) ** 2
    if abs(w2 - guess) > 0.5 * spacing:
        raise SolverError(f"the ribbon resonance (axis {axis}, {n} cells) converged to Ω² = {w2:.5g}, another "
                          f"mode than the band-edge one near {guess:.5g}")
    return w2


def _slots(problem: BlochProblem, w2: complex) -> list[tuple[complex, complex]]:
    """``(μ_s, ρ_s)`` of the matrix and inclusion phases at the complex ``Ω = √(Ω²)``."""
    omega = np.sqrt(complex(w2))
    media = {p.tag: p for p in problem.phases}
    return [slot_values(complex(media[tag].eps(omega)), complex(media[tag].mu_r(omega)), problem.polarization)
            for tag in (MATRIX, INCLUSION if INCLUSION in media else MATRIX)]


def _ribbon_matrices(problem: BlochProblem, geometry: CellGeometry, axis: int, n: int, parity: tuple[int, int],
                     margin: int, pml_width: int, hfh: HFHResult):
    """Per phase (matrix, rods) the stiffness and mass of the ribbon with the PML stretch along ``axis``, the
    unit diagonal on the Dirichlet rows, the mass matrix and the space, on a structured mesh of the ribbon
    ``[−margin − pml, n + margin + pml]`` along ``axis`` and one cell across. Across, a periodic side
    (``k₀_j = 0``) is Neumann for an even ``U₀`` and Dirichlet for an odd one; an antiperiodic side (``π``) the
    reverse."""
    across = 1 - axis
    frame = margin + pml_width
    lo, hi = np.zeros(2), np.ones(2)
    lo[axis], hi[axis] = -frame, n + frame
    counts = [ELEMENTS_PER_CELL] * 2
    counts[axis] = ELEMENTS_PER_CELL * (n + 2 * frame)
    mesh = dolfinx.mesh.create_rectangle(MPI.COMM_SELF, [lo, hi], counts, dolfinx.mesh.CellType.triangle)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    rods = _rod_indicator(mesh, geometry, axis, n)
    x = ufl.SpatialCoordinate(mesh)
    depth = ufl.max_value(ufl.max_value(-x[axis], x[axis] - n) - margin, 0.0)
    background = {phase.tag: phase for phase in problem.phases}[MATRIX]
    omega0 = abs(hfh.omega0)
    index2 = complex(background.eps(omega0) * background.mu_r(omega0)).real
    k_long = math.sqrt(max(abs(index2 * omega0**2 - hfh.k0[across] ** 2), 0.25))
    strength = pml_forms.pml_strength(k_long, pml_width, 1e-6)
    s = [1.0, 1.0]
    s[axis] = 1.0 + 1j * strength * (depth / pml_width) ** 2
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.dx(metadata={"quadrature_degree": 6})
    dirichlet_across = (parity[across] == 1) == bool(np.isclose(abs(hfh.k0[across]), math.pi))

    def on_dirichlet(X: np.ndarray) -> np.ndarray:
        ends = np.isclose(X[axis], lo[axis]) | np.isclose(X[axis], hi[axis])
        return ends | (dirichlet_across & (np.isclose(X[across], 0.0) | np.isclose(X[across], 1.0)))

    facets = dolfinx.mesh.locate_entities_boundary(mesh, 1, on_dirichlet)
    bc = dolfinx.fem.dirichletbc(np.zeros((), dtype=PETSc.ScalarType),
                                 dolfinx.fem.locate_dofs_topological(V, 1, facets), V)

    def matrix(form: ufl.Form, diagonal: float = 0.0) -> PETSc.Mat:
        A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form), bcs=[bc], diag=diagonal)
        A.assemble()
        return A

    parts = []
    for chi in (1 - rods, rods):
        K = matrix(chi * ufl.inner(pml_forms.stretched_flux(1.0, ufl.grad(u), s), ufl.grad(v)) * dx)
        M = matrix(chi * s[0] * s[1] * ufl.inner(u, v) * dx)
        parts.append((K, M))
    identity = matrix(dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0)) * ufl.inner(u, v) * dx, diagonal=1.0)
    mass = matrix(ufl.inner(u, v) * dx)
    return parts, identity, mass, V  # the matrices live on the communicator of V's mesh: keep it alive


def _rod_indicator(mesh: dolfinx.mesh.Mesh, geometry: CellGeometry, axis: int, n: int) -> dolfinx.fem.Function:
    """DG0 indicator of the ribbon's rods (the ``n`` cells ``0 ≤ x_axis ≤ n``), exact on the structured mesh
    (:func:`ribbon_supported`): a triangle is a rod's when its midpoint is."""
    W = dolfinx.fem.functionspace(mesh, ("DG", 0))
    half = geometry.inclusions[0].side / 2
    mid = W.tabulate_dof_coordinates()[:, :2]
    local = mid - np.floor(mid)
    inside = np.all(np.abs(local - 0.5) < half, axis=1) & (mid[:, axis] > 0) & (mid[:, axis] < n)
    chi = dolfinx.fem.Function(W)
    chi.x.array[:] = inside.astype(float)
    return chi
