"""The periodically repeated source in an N×N Bloch supercell: the HFH field against the full wave (theory.md §9.1).

The supercell of ``N × N`` cells carries the Bloch condition of ``k₀`` (``u(x + N e_j) = e^{i k₀·N e_j} u(x)``);
line sources ``e^{−ik₀·n} δ(x − x_s − n)`` sit in the cells ``n`` of a block of ``n₁ × n₂`` cells. A supercell
mesh tiled from one cell mesh is invariant under lattice translations, so its finite-element space splits exactly
into the ``N²`` quasi-periodic cell spaces of ``k₀ + q``, ``q ∈ (2π/N) ℤ²`` (Floquet–Bloch): the supercell field is
``u = Σ_q α_q e^{iq·x} w_q`` with ``w_q`` on the cell space of ``k₀``,

    (Σ_s μ_s K_s(q) − β_s M_s) w_q = φ(x_s),    K_s(q) = K_s + q_j G_s^j + |q|² M_s   (shifted stiffness, §8.8),

and ``α_q = N^{−2} e^{−iq·x_s} c_q``, ``c_q = Σ_{n ∈ block} e^{−iq·n}`` (zone edges: ``e^{−2ik₀·n} = 1``). The HFH
field ``f U₀`` splits the same way with ``w_q^HFH = a U₀ / (q·Tq − (Ω² − Ω₀²))``, ``a = U₀(x_s)/D``: the
envelope equation with the source ``a Σ_block δ(x − x_s − n)`` solved on the torus by Fourier series (``q`` in the
first zone of the ``q``-grid). Parseval over the supercell gives the relative L² error from cell quantities,

    ‖u_HFH − u‖² / ‖u‖² = Σ_q |c_q|² ‖w_q^HFH − w_q‖²_Y / Σ_q |c_q|² ‖w_q‖²_Y ,

so the study costs ``N²`` factorizations of the cell matrix and is free of envelope-mesh and PML errors.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from fem_homog.cells.lattice import is_zone_edge
from fem_homog.core.errors import require
from fem_homog.fem import periodic
from fem_homog.fem.evaluation import bloch_values
from fem_homog.fem.petsc import direct_solver
from fem_homog.output.results import jsonable
from fem_homog.photonics.bloch import BlochProblem, linear_combination
from fem_homog.photonics.helmholtz import point_loads
from fem_homog.photonics.hfh import HFHResult, ZoneOperators, hdot

import dolfinx.fem
from petsc4py import PETSc


@dataclass
class SupercellErrors:
    """The relative L² error of the HFH field in the supercell, the factor ``c`` that best fits
    ``c u_HFH ≈ u`` (1 when the amplitude is right) and the full wave's norm ``‖u‖`` over the supercell, per
    drive ``Ω`` (``omegas``), with its detuning ``Ω² − Ω₀²``, the supercell ``size`` N and the source ``block``."""

    omegas: list[float]
    detuning: list[complex]
    error_l2: list[float]
    amplitude_factor: list[complex]
    norm_l2: list[float]
    size: int
    block: tuple[int, int]

    def to_dict(self) -> dict:
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


def block_weights(q: np.ndarray, block: Sequence[int]) -> np.ndarray:
    """``|c_q|² = Π_j |Σ_{n=0}^{n_j−1} e^{−i q_j n}|²`` of a block of ``n₁ × n₂`` sources (rows of ``q``)."""
    weights = np.ones(len(q))
    for j, n in enumerate(block):
        weights *= np.abs(np.exp(-1j * np.outer(q[:, j], np.arange(n))).sum(axis=1)) ** 2
    return weights


def wave_vectors(size: int, dim: int = 2) -> np.ndarray:
    """The ``size^dim`` shifts ``q = 2π m/N``, ``m`` in the first zone (``−N/2 < m ≤ N/2``)."""
    m = np.arange(size) - (size - 1) // 2
    grid = np.meshgrid(*[2 * np.pi * m / size] * dim, indexing="ij")
    return np.stack([g.ravel() for g in grid], axis=1)


class ShiftedOperators:
    """The cell matrices ``A(q) = Σ_s μ_s K_s(q) − β_s M_s`` at the drive ``Ω`` on the quasi-periodic space of
    ``k₀``, from four matrices: ``A(0)``, ``Σ μ_s G_s^j`` and ``Σ μ_s M_s``."""

    def __init__(self, problem: BlochProblem, ops: ZoneOperators, omega: float):
        mu = [s.mu(omega) for s in problem.slots]
        d = len(ops.k0)
        self.base = ops.operator(omega)
        self.mu_mass = ops.mu_mass(omega)
        self.gradient = []
        for j in range(d):
            K_j, M_j, P_j = problem.quasi_periodic_operators(ops.k0, shift=np.eye(d)[j])
            G = [linear_combination([1.0, -1.0, -1.0], [K, K0, M]) for K, K0, M in zip(K_j, ops.K, ops.M)]
            self.gradient.append(linear_combination(mu, G))
            for A in [*K_j, *M_j, *G, P_j]:
                A.destroy()

    def at(self, q: np.ndarray) -> PETSc.Mat:
        return linear_combination([1.0, *q, float(q @ q)], [self.base, *self.gradient, self.mu_mass])

    def destroy(self) -> None:
        for A in [self.base, self.mu_mass, *self.gradient]:
            A.destroy()


def supercell_errors(problem: BlochProblem, hfh: HFHResult, omegas: Sequence[float], *, size: int,
                     block: Sequence[int], position: Sequence[float]) -> SupercellErrors:
    """The relative L² error of ``f U₀`` against the full wave of the periodically repeated source in the
    ``size × size`` Bloch supercell (module docstring), one per real drive ``Ω`` in ``omegas``.

    ``hfh`` is a simple-eigenvalue model at a zone edge (``T``, ``D``, ``U₀``) of ``problem``'s cell, which must
    be the unit square; ``position`` is ``x_s`` (its cell coordinate is used); ``block`` the source cells.
    """
    require(hfh.T is not None and is_zone_edge(hfh.k0, problem.pmap.lattice),
            "the supercell study needs a simple eigenvalue at a zone edge (a tensor T)")
    require(size >= max(block), f"the supercell ({size} cells) must hold the source block {list(block)}",
            argument="size")
    q = wave_vectors(size, len(hfh.k0))
    weights = block_weights(q, block)
    offset = np.asarray(position, dtype=float) - np.floor(position)
    U0 = hfh.U0[0]
    a = complex(bloch_values(U0, offset[None, :], hfh.k0)[0]) / complex(hfh.D[0, 0])
    T = 0.5 * (hfh.T + hfh.T.T)
    errors, factors, norms, detunings = [], [], [], []
    with ZoneOperators(problem, hfh.k0) as ops:
        load, mode = _cell_load(problem.V, ops.P, offset), periodic.restrict(U0.x.petsc_vec, ops.P)
        mass = ops.unit_mass()
        for omega in omegas:
            detuning = omega**2 - hfh.omega0**2
            shifted = ShiftedOperators(problem, ops, omega)
            sums = np.zeros(4, dtype=complex)  # ‖e‖², ‖u‖², (u, u_HFH), ‖u_HFH‖² (weighted sums over q)
            for q_m, weight in zip(q, weights):
                w = _solve(shifted.at(q_m), load)
                model = mode.copy()
                model.scale(a / (q_m @ T @ q_m - detuning))
                sums[2:] += weight * np.array([hdot(model, mass, w), hdot(model, mass, model)])
                model.axpy(-1.0, w)
                sums[:2] += weight * np.array([hdot(model, mass, model), hdot(w, mass, w)])
                w.destroy()
                model.destroy()
            shifted.destroy()
            errors.append(float(np.sqrt(sums[0].real / sums[1].real)))
            factors.append(complex(sums[2] / sums[3].real))
            norms.append(float(np.sqrt(sums[1].real)) / size)
            detunings.append(complex(detuning))
        for v in [load, mode, mass]:
            v.destroy()
    return SupercellErrors(list(map(float, omegas)), detunings, errors, factors, norms, size, tuple(block))


def _cell_load(V: dolfinx.fem.FunctionSpace, P: PETSc.Mat, position: np.ndarray) -> PETSc.Vec:
    """``P^H φ(x_s)``: the reduced load of a unit line source at ``x_s`` in the cell."""
    b = dolfinx.fem.Function(V)
    b.x.array[:] = point_loads(V, position[None, :], np.ones(1))
    return periodic.reduce_vector(b.x.petsc_vec, P)


def _solve(A: PETSc.Mat, b: PETSc.Vec) -> PETSc.Vec:
    with direct_solver(A, prefix="supercell_", problem="supercell cell system") as solver:
        x, _ = solver.solve(b)
    A.destroy()
    return x
