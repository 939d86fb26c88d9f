"""dolfinx pieces for 1D layered problems: interval meshes with nodes on every layer interface, piecewise
constant coefficients, assembly to scipy, and the fine-scale time-harmonic slab with exact radiation
conditions (an independent check of the transfer-matrix answer, theory.md §7) with the comparison of its field
against the model's.

Serial by design (``MPI.COMM_SELF``): 1D problems are small and are solved with scipy's sparse LU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from mpi4py import MPI

from fem_homog.core.errors import require
from fem_homog.forms import real_space
from fem_homog.multiband import plots, scattering
from fem_homog.multiband.homogenize import Homogenized
from fem_homog.photonics import laminate1d

import basix.ufl
import dolfinx.fem
import dolfinx.mesh
import ufl


def line_nodes(breaks: Sequence[float], h: float) -> np.ndarray:
    """Sorted nodes of ``[breaks[0], breaks[-1]]``: every break, and uniform spacing ≤ ``h`` between breaks."""
    require(h > 0, f"must be positive, got {h}", argument="h")
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


def assemble_real(form: ufl.Form) -> scipy.sparse.csr_matrix:
    """The real part of :func:`to_scipy` without stored zeros (the parts of a matrix restricted to one region
    store the zero blocks of the others)."""
    A = to_scipy(form).real.tocsr()
    A.eliminate_zeros()
    return A


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
    x, uh, ends = _harmonic_stack(spec, cells, omega * np.sqrt(E_h * rho_h), omega, h, degree, absorber=None)
    R, t = uh[ends[0]] - 1.0, uh[ends[1]]
    order = np.argsort(x)
    return SlabField(x[order], uh[order], laminate1d.Scattering(R=complex(R), t=complex(t), T_E=float(abs(t) ** 2)))


def harmonic_half_space(spec: Sequence[Sequence[float]], E_h: float, rho_h: float, omega: float, *,
                        cells: int = 60, absorber: int = 40, loss: float = 1.0, h: float = 0.05,
                        degree: int = 3) -> laminate1d.Scattering:
    """Fine-scale FEM of the half-space ``(E_h, ρ_h)`` against the semi-infinite laminate (the single boundary),
    independent of the transfer matrix: ``cells`` periods, the last ``absorber`` of them an adiabatic absorber
    ``ρ → ρ (1 + i loss s²)`` (``s`` from 0 to 1 across it), ``u = 0`` at the end, the radiation condition of
    :func:`harmonic_slab` at ``x = 0``. ``R = u(0) − 1``; what is not reflected enters the laminate and is
    absorbed, ``T_E = 1 − |R|²``. The absorber's own reflection falls as it lengthens (adiabatic)."""
    require(0 < absorber < cells, f"the absorber must be a part of the stack, got {absorber} of {cells} cells")
    x, uh, ends = _harmonic_stack(spec, cells, omega * np.sqrt(E_h * rho_h), omega, h, degree,
                                  absorber=(cells - absorber, cells, loss))
    R = complex(uh[ends[0]] - 1.0)
    return laminate1d.Scattering(R=R, t=complex(1.0 + R), T_E=float(1.0 - abs(R) ** 2))


def _harmonic_stack(spec, cells, Z, omega, h, degree, *, absorber):
    """Solve the stack with the incident-wave condition at ``x = 0`` and, at the end, the radiation condition
    (``absorber`` None) or ``u = 0`` behind an absorber ``(start, end, loss)`` in units of the period."""
    breaks, E, rho = stack(spec, cells)
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    Ef, rf = piecewise(mesh, breaks, E), piecewise(mesh, breaks, rho)
    if absorber is not None:
        start, end, loss = absorber
        s = ufl.max_value(ufl.SpatialCoordinate(mesh)[0] - start, 0.0) / (end - start)
        rf = rf * (1.0 + 1j * loss * s**2)
    A = to_scipy(real_space.stiffness(V, Ef) - omega ** 2 * real_space.mass(V, rf)).tolil()
    ends = [dolfinx.fem.locate_dofs_geometrical(V, lambda x, p=p: np.isclose(x[0], p))[0]
            for p in (breaks[0], breaks[-1])]
    A[ends[0], ends[0]] -= 1j * Z
    b = np.zeros(A.shape[0], dtype=complex)
    b[ends[0]] = -2j * Z
    if absorber is None:
        A[ends[1], ends[1]] -= 1j * Z
    else:
        A[ends[1], :] = 0.0
        A[ends[1], ends[1]] = 1.0
    uh = scipy.sparse.linalg.spsolve(A.tocsc(), b)
    return V.tabulate_dof_coordinates()[:, 0], uh, ends


@dataclass(frozen=True)
class FieldComparison:
    """The model's field inside the slab against the fine-scale FEM at ``omega``: max ``|u_model − u_fine|``
    and the relative L2 difference (over the FEM dofs)."""

    omega: float
    max_abs_difference: float
    relative_l2_difference: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def compare_slab_field(homogeneous: Homogenized, metamaterial: Homogenized, media: scattering.Media, cells: int,
                       omega: float, *, out: Path | None = None) -> FieldComparison:
    """Field of a slab of ``cells`` periods at ``omega``: the model against a P3 FEM of the laminate (exact
    exteriors); ``out``: write ``field.png`` there."""
    E_h, rho_h = media.E_h, media.rho_h
    model = scattering.solve([homogeneous.model, metamaterial.model, homogeneous.model], [0.0, float(cells)], omega)
    fine = harmonic_slab(scattering.terminated(media.layers, media.termination), cells, E_h, rho_h, omega)
    if out is not None:
        q, pad = omega * np.sqrt(rho_h / E_h), np.linspace(0.0, 3.0, 120)
        x_fine = np.concatenate([pad - 3.0, fine.x, cells + pad])
        u_fine = np.concatenate([np.exp(1j * q * (pad - 3.0)) + fine.scattering.R * np.exp(-1j * q * (pad - 3.0)),
                                 fine.u, fine.scattering.t * np.exp(1j * q * pad)])
        x_model = np.linspace(-3.0, cells + 3.0, 40 * (cells + 6))
        plots.plot_field(x_model, model.field(x_model), x_fine, u_fine, omega, (0.0, float(cells)),
                         out / "field.png")
    inside = (fine.x > 0) & (fine.x < cells)
    diff = np.abs(model.field(fine.x[inside]) - fine.u[inside])
    return FieldComparison(omega=omega, max_abs_difference=float(diff.max()),
                           relative_l2_difference=float(np.linalg.norm(diff) / np.linalg.norm(fine.u[inside])))
