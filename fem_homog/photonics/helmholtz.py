"""Time-harmonic scalar waves in a box truncated by PMLs: assembly, sources, MUMPS solve (theory.md §9).

Solves ``−∇·(μ∇u) − Ω²ρ u = f`` (``μ`` scalar or tensor) with the stretched-coordinate forms of
:mod:`fem_homog.forms.pml` and ``u = 0`` on the outer boundary of the layers. Sources: a point (line) source
``f = a δ(x − x_s)``, whose load vector is ``a φ_i(x_s)`` added by the one rank that owns ``x_s``, or a
normalised Gaussian. The same solver serves the full-wave crystal (:mod:`fem_homog.photonics.crystal`) and the HFH
envelope equation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from fem_homog.cells.crystal_mesh import CrystalMesh
from fem_homog.core.errors import require
from fem_homog.core.timing import Timings
from fem_homog.fem.petsc import direct_solver
from fem_homog.forms import pml as pml_forms

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.geometry
import dolfinx.mesh
import ufl
from petsc4py import PETSc


@dataclass(frozen=True)
class PointSource:
    """``f = amplitude · δ(x − position)`` (a line source in 2D)."""

    position: tuple[float, ...]
    amplitude: complex = 1.0


@dataclass(frozen=True)
class GaussianSource:
    """``f = amplitude · exp(−|x − position|²/2w²)/(2πw²)^{d/2}`` (unit integral when amplitude = 1)."""

    position: tuple[float, ...]
    width: float
    amplitude: complex = 1.0


Load = Callable[[dolfinx.fem.FunctionSpace], ufl.Form]
"""A load given as its linear form on the solution space (e.g. the scattered-field load of a plane wave)."""

@dataclass(frozen=True)
class PointSources:
    """``f = Σ_p amplitude_p δ(x − position_p)``: an array of line sources (e.g. one per crystal cell)."""

    positions: np.ndarray
    amplitudes: np.ndarray


Source = PointSource | PointSources | GaussianSource | Load


@dataclass
class WaveSolution:
    """The field ``u`` with its number of dofs and the seconds spent per stage."""

    u: dolfinx.fem.Function
    dofs: int
    timings: dict[str, float] = field(default_factory=dict)
    incident: dolfinx.fem.Function | None = None


def stretch_factors(domain: CrystalMesh, strength: float | Sequence[float],
                    sign: Sequence[float] | None = None) -> list[ufl.core.expr.Expr]:
    """The PML factors ``s_j`` of the domain's layers (``strength = σ₀/Ω`` per axis, or one for all)."""
    x = ufl.SpatialCoordinate(domain.mesh)
    strengths = np.broadcast_to(np.asarray(strength, dtype=float), (domain.dim,)).tolist()
    return pml_forms.stretch(x, domain.lower.tolist(), domain.upper.tolist(), domain.pml_width, strengths, sign)


def solve(domain: CrystalMesh, mu: ufl.core.expr.Expr, rho: ufl.core.expr.Expr, omega2: complex,
          source: Source, *, strength: float | Sequence[float], sign: Sequence[float] | None = None,
          degree: int = 2, name: str = "u", prefix: str = "pml_") -> WaveSolution:
    """Solve ``−∇·(μ∇u) − Ω²ρu = f`` on ``domain`` with PMLs (theory.md §9) by MUMPS.

    Parameters
    ----------
    domain
        Mesh with its physical box and PML width.
    mu, rho
        Slot coefficients (UFL expressions; ``mu`` scalar or ``d × d``).
    omega2
        The factor ``Ω²`` of the mass term (``Ω² − Ω₀²`` for the envelope equation).
    source
        A :class:`PointSource`, a :class:`GaussianSource` or a :data:`Load`.
    strength, sign
        PML strength ``σ₀/Ω`` per axis (:func:`fem_homog.forms.pml.pml_strength`) and stretch direction ``±1`` per axis.
    degree
        Lagrange degree.
    prefix
        PETSc options prefix of the KSP (``-{prefix}ksp_...``).

    Raises
    ------
    SolverError
        If the MUMPS factorisation fails.
    """
    require(degree in (1, 2, 3), f"must be 1, 2 or 3, got {degree}", argument="degree")
    timings = Timings()
    with timings.stage("assemble"):
        V = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", degree))
        s = stretch_factors(domain, strength, sign)
        a = dolfinx.fem.form(pml_forms.helmholtz(V, mu, rho, omega2, s, quadrature_degree=2 * degree + 2))
        bc = _outer_dirichlet(V, domain)
        A = dolfinx.fem.petsc.assemble_matrix(a, bcs=[bc])
        A.assemble()
        b = load_vector(V, source)
        dolfinx.fem.petsc.set_bc(b, [bc])
    with timings.stage("solve"):
        u = dolfinx.fem.Function(V, name=name)
        with direct_solver(A, prefix=prefix, problem="PML system") as solver:
            solver.solve_into(b, u.x.petsc_vec)
        u.x.scatter_forward()
    A.destroy()
    b.destroy()
    return WaveSolution(u=u, dofs=V.dofmap.index_map.size_global, timings=timings.seconds)


def load_vector(V: dolfinx.fem.FunctionSpace, source: Source) -> PETSc.Vec:
    """The assembled load ``∫ f conj(v)`` (ghosts accumulated)."""
    if callable(source):
        b = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(source(V)))
    elif isinstance(source, GaussianSource):
        x = ufl.SpatialCoordinate(V.mesh)
        f = source.amplitude * pml_forms.gaussian(x, source.position, source.width)
        b = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(pml_forms.load(V, f)))
    else:
        b = dolfinx.fem.petsc.create_vector(V)
        b.set(0.0)
        with b.localForm() as local:
            sources = source if isinstance(source, PointSources) else PointSources(
                np.atleast_2d(source.position), np.atleast_1d(source.amplitude))
            local.array[:] = point_loads(V, sources.positions, sources.amplitudes)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    return b


def point_loads(V: dolfinx.fem.FunctionSpace, positions: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
    """Local load array (owned + ghost dofs) of ``Σ_p a_p δ(x − x_p)``: ``a_p φ_i(x_p)`` on the dofs of the one
    cell, on the one rank, that the point ownership search assigns each ``x_p`` to (basis functions are real,
    so ``conj(φ_i) = φ_i``). Collective.

    Raises
    ------
    InputError
        If a point lies outside the mesh.
    """
    mesh = V.mesh
    gdim = mesh.geometry.dim
    index_map = V.dofmap.index_map
    values = np.zeros((index_map.size_local + index_map.num_ghosts) * V.dofmap.index_map_bs, dtype=complex)
    positions = np.asarray(positions, dtype=float).reshape(len(amplitudes), -1)
    points = np.zeros((len(positions) if mesh.comm.rank == 0 else 0, 3))  # dolfinx 0.11 reads 3 columns
    points[:, :gdim] = positions[:len(points), :gdim]
    ownership = dolfinx.geometry.determine_point_ownership(mesh, points, 1e-10)
    owners = mesh.comm.bcast(np.asarray(ownership.src_owner) if mesh.comm.rank == 0 else None, root=0)
    require(bool(np.all(owners >= 0)), f"source position {positions[np.argmin(owners)].tolist()} lies outside the mesh")
    unit = dolfinx.fem.Function(V)  # collective (its vector's scatterer): create it on every rank
    received = np.reshape(ownership.dest_points, (-1, 3))
    for x, cell in zip(received, np.asarray(ownership.dest_cells, dtype=np.int32)):
        amplitude = amplitudes[np.argmin(np.linalg.norm(positions[:, :gdim] - x[:gdim], axis=1))]
        for dof in V.dofmap.cell_dofs(cell):
            unit.x.array[:] = 0.0
            unit.x.array[dof] = 1.0
            values[dof] += amplitude * unit.eval(x[None, :], np.array([cell], dtype=np.int32))[0]
    return values


def _outer_dirichlet(V: dolfinx.fem.FunctionSpace, domain: CrystalMesh) -> dolfinx.fem.DirichletBC:
    """``u = 0`` on the outer boundary of the PML frame, found geometrically (a facet-based boundary search
    would also catch the partition boundaries of meshes without ghost cells)."""
    mesh = V.mesh
    tdim = mesh.topology.dim
    lo, hi = domain.lower - domain.pml_width, domain.upper + domain.pml_width
    tol = 1e-8 * max(1.0, float(np.abs(hi - lo).max()))

    def on_outer_boundary(x: np.ndarray) -> np.ndarray:
        return np.any([np.isclose(x[j], lo[j], atol=tol) | np.isclose(x[j], hi[j], atol=tol)
                       for j in range(domain.dim)], axis=0)

    facets = dolfinx.mesh.locate_entities(mesh, tdim - 1, on_outer_boundary)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    dofs = dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets)
    return dolfinx.fem.dirichletbc(np.zeros((), dtype=PETSc.ScalarType), dofs, V)
