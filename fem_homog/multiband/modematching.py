"""Exact fine-scale oblique scattering by a laminate whose layers are normal to the interface (theory.md §10.5).

Antiplane waves ``−∇·(E∇u) = ω²ρu``; homogeneous ``(E_h, ρ_h)`` on ``x_1 < 0``, the laminate (periodic in
``x_2``, period 1) on ``x_1 > 0``; the incident plane wave has tangential wavenumber ``k_2``, conserved as the
Bloch number of the whole field in ``x_2``. On each side the field is a sum of modes ``φ_j(x_2) e^{±iβ_j x_1}``
with ``φ_j`` Bloch-periodic solutions of the transverse problem

    β² ∫ E φ ψ + ∫ E φ' ψ' − ω² ∫ ρ φ ψ = 0    (K − ω² M_ρ) φ = −β² M_E φ,

a Hermitian-definite pencil solved with P2 (or P3) elements on one period (nodes on the layer interfaces,
Bloch phase by :func:`fem_homog.fem.periodic.prolongation`): finitely many propagating (``β² > 0``) and all the
evanescent modes the mesh resolves. Continuity of ``u`` (nodal) and of ``E ∂_1 u`` (weakly) at ``x_1 = 0`` gives
the reflected and transmitted amplitudes. With ``M_E``-normalised modes the flux of a propagating mode is
``ω β / 2``, so ``R_E = Σ|r_j|² β_j/β_inc``, ``T_E = Σ|a_j|² β_j/β_inc`` and ``R_E + T_E = 1`` to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse

from fem_homog.core.errors import InputError
from fem_homog.fem.periodic import periodic_map, prolongation
from fem_homog.forms.real_space import mass, stiffness
from fem_homog.multiband.fem1d import line_mesh, piecewise, stack, to_scipy

import dolfinx.fem


@dataclass(frozen=True)
class ModeScattering:
    """Energy reflectance/transmittance and the transmitted propagating modes ``(β_j, T_j)``."""

    R_E: float
    T_E: float
    transmitted: list[tuple[float, float]]
    reflected: list[tuple[float, float]]

    @property
    def energy_balance(self) -> float:
        return self.R_E + self.T_E


def _outgoing(beta2: np.ndarray) -> np.ndarray:
    return np.where(beta2 > 0, np.sqrt(np.abs(beta2)), 1j * np.sqrt(np.abs(beta2)))


class TransverseProblem:
    """The transverse pencils of the homogeneous side and of the laminate on one shared mesh of the period."""

    def __init__(self, spec: Sequence[Sequence[float]], E_h: float, rho_h: float, h: float = 0.05,
                 degree: int = 2):
        breaks, E, rho = stack(spec, 1)
        mesh = line_mesh(breaks, h)
        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
        self.pmap = periodic_map(self.V)
        self.matrices = {}
        for side, (Es, rs) in {"homogeneous": ([E_h] * len(E), [rho_h] * len(E)), "laminate": (E, rho)}.items():
            Ef, rf = piecewise(mesh, breaks, Es), piecewise(mesh, breaks, rs)
            self.matrices[side] = [to_scipy(stiffness(self.V, Ef)), to_scipy(mass(self.V, rf)),
                                   to_scipy(mass(self.V, Ef))]

    def modes(self, side: str, omega: float, k2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(β, Φ, M_E)``: outgoing (+x_1) wavenumbers, ``M_E``-orthonormal modes (columns, reduced dofs)."""
        P = prolongation(self.pmap, [k2])
        indptr, indices, data = P.getValuesCSR()
        Ps = scipy.sparse.csr_matrix((data, indices, indptr), shape=P.getSize())
        P.destroy()
        K, Mr, ME = [(Ps.conj().T @ A @ Ps).toarray() for A in self.matrices[side]]
        beta2, phi = scipy.linalg.eigh(omega ** 2 * Mr - K, ME)
        return _outgoing(beta2), phi, ME

    def solve(self, omega: float, k2: float) -> ModeScattering:
        """Scattering of the homogeneous side's fundamental propagating mode (the incident plane wave)."""
        bh, Ph, MEh = self.modes("homogeneous", omega, k2)
        bm, Pm, MEm = self.modes("laminate", omega, k2)
        inc = int(np.argmax(bh.real))
        if bh[inc].real <= 0:
            raise InputError(f"no propagating incident wave at ω = {omega}, k_2 = {k2}")
        n = len(bh)
        A = np.block([[Pm, -Ph], [MEm @ Pm * (1j * bm), MEh @ Ph * (1j * bh)]])
        b = np.concatenate([Ph[:, inc], 1j * bh[inc] * (MEh @ Ph[:, inc])])
        x = np.linalg.solve(A, b)
        a, r = x[:n], x[n:]
        prop_m, prop_h = bm.imag == 0, bh.imag == 0
        b_inc = bh[inc].real
        transmitted = [(float(bm[j].real), float(abs(a[j]) ** 2 * bm[j].real / b_inc)) for j in np.flatnonzero(prop_m)]
        reflected = [(float(bh[j].real), float(abs(r[j]) ** 2 * bh[j].real / b_inc)) for j in np.flatnonzero(prop_h)]
        return ModeScattering(R_E=sum(t for _, t in reflected), T_E=sum(t for _, t in transmitted),
                              transmitted=transmitted, reflected=reflected)
