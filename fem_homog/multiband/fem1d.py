"""dolfinx pieces for 1D layered problems: interval meshes with nodes on every layer interface, piecewise
constant coefficients, assembly to scipy, and the fine-scale time-harmonic slab with exact radiation
conditions (an independent check of the transfer-matrix answer, theory.md §7).

Serial by design (``MPI.COMM_SELF``): 1D problems are small and are solved with scipy's sparse LU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import ufl
from mpi4py import MPI

import basix.ufl
import dolfinx.fem
import dolfinx.mesh

from fem_homog.photonics import laminate1d
from fem_homog.core.errors import require


def line_nodes(breaks: Sequence[float], h: float) -> np.ndarray:
    """Sorted nodes of ``[breaks[0], breaks[-1]]``: every break, and uniform spacing ≤ ``h`` between breaks."""
    require(h > 0, f"mesh size must be positive, got {h}")
    pieces = [np.linspace(a, b, max(1, int(np.ceil((b - a) / h - 1e-9))) + 1) for a, b in zip(breaks[:-1], breaks[1:])]
    return np.unique(np.round(np.concatenate(pieces), 12))


def line_mesh(breaks: Sequence[float], h: float) -> dolfinx.mesh.Mesh:
    """An interval mesh of ``[breaks[0], breaks[-1]]`` with a node on every break and elements of size ≤ ``h``."""
    x = line_nodes(breaks, h)
    cells = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1).astype(np.int64)
    element = basix.ufl.element("Lagrange", "interval", 1, shape=(1,))
    return dolfinx.mesh.create_mesh(MPI.COMM_SELF, cells, element, x.reshape(-1, 1))


def piecewise(mesh: dolfinx.mesh.Mesh, breaks: Sequence[float], values: Sequence[float],
              axis: int = 0) -> dolfinx.fem.Function:
    """DG0 function equal to ``values[i]`` where the cell midpoint's coordinate ``axis`` lies in
    ``(breaks[i], breaks[i+1])``."""
    V0 = dolfinx.fem.functionspace(mesh, ("DG", 0))
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    mid = mesh.geometry.x[mesh.geometry.dofmaps[0][:n], axis].mean(axis=1)
    index = np.clip(np.searchsorted(breaks, mid) - 1, 0, len(values) - 1)
    f = dolfinx.fem.Function(V0)
    f.x.array[:n] = np.asarray(values, dtype=float)[index]
    return f


def to_scipy(form: ufl.Form) -> scipy.sparse.csr_matrix:
    """Assemble a sesquilinear form (complex build) to a scipy CSR matrix; with real coefficients and real
    basis functions it equals the unconjugated bilinear form."""
    return dolfinx.fem.assemble_matrix(dolfinx.fem.form(form, dtype=np.complex128)).to_scipy()


def stack(spec: Sequence[Sequence[float]], cells: int, x0: float = 0.0) -> tuple[list[float], list[float], list[float]]:
    """Breaks, moduli and densities of ``cells`` periods ``[[E, ρ, h], ...]`` starting at ``x0``."""
    breaks, E, rho, x = [x0], [], [], x0
    for _ in range(cells):
        for e, r, h in spec:
            x += h
            breaks.append(x)
            E.append(e)
            rho.append(r)
    return breaks, E, rho


@dataclass(frozen=True)
class SlabField:
    """The fine-scale field ``u(x)`` on the slab (dof coordinates sorted) and its scattering amplitudes."""

    x: np.ndarray
    u: np.ndarray
    scattering: laminate1d.Scattering


def harmonic_slab(spec: Sequence[Sequence[float]], cells: int, E_h: float, rho_h: float, omega: float,
                  h: float = 0.02, degree: int = 3) -> SlabField:
    """Fine-scale FEM of a slab of ``cells`` periods between two half-spaces ``(E_h, ρ_h)``.

    Weak form of ``−(E u')' = ω² ρ u`` on ``[0, L]`` with the exact 1D radiation conditions
    ``E u' = iZ_h(2 − u)`` at ``x = 0`` (unit incident wave) and ``E u' = iZ_h u`` at ``x = L``
    (``Z_h = ω sqrt(E_h ρ_h)``): ``∫ E u'v' − ω²ρ uv − iZ_h (u v)(0) − iZ_h (u v)(L) = −2iZ_h v(0)``;
    ``R = u(0) − 1``, ``t = u(L)`` (the field at the exit face, as in ``laminate1d.slab``), ``T_E = |t|²``.
    """
    breaks, E, rho = stack(spec, cells)
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    Ef, rf = piecewise(mesh, breaks, E), piecewise(mesh, breaks, rho)
    A = to_scipy(ufl.inner(Ef * u.dx(0), v.dx(0)) * ufl.dx - omega ** 2 * ufl.inner(rf * u, v) * ufl.dx).tolil()
    Z = omega * np.sqrt(E_h * rho_h)
    ends = [dolfinx.fem.locate_dofs_geometrical(V, lambda x, p=p: np.isclose(x[0], p))[0]
            for p in (breaks[0], breaks[-1])]
    for d in ends:
        A[d, d] -= 1j * Z
    b = np.zeros(A.shape[0], dtype=complex)
    b[ends[0]] = -2j * Z
    uh = scipy.sparse.linalg.spsolve(A.tocsc(), b)
    R, t = uh[ends[0]] - 1.0, uh[ends[1]]
    x = V.tabulate_dof_coordinates()[:, 0]
    order = np.argsort(x)
    return SlabField(x[order], uh[order], laminate1d.Scattering(R=complex(R), t=complex(t), T_E=float(abs(t) ** 2)))
