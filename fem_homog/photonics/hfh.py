"""High-frequency homogenization at a zone point, for dispersive media (theory.md §8).

Around an exact Bloch pair ``(k0, Ω0)`` the field is ``u ≈ f(X) U0(y)`` and the envelope obeys an effective
equation whose coefficients this module computes:

* **simple** eigenvalue at a zone edge (§8.2): ``Ω² ≈ Ω0² + T_ij κ_i κ_j``, ``κ = k − k0``, with
  ``T_ij = [δ_ij <μ U0²> + <μ (U0 ∂_i U_1j − U_1j ∂_i U0)>] / D`` from the correctors ``U_1j`` (bordered system);
* **repeated** eigenvalue (§8.3): the antisymmetric ``W^(j)`` and symmetric ``D`` give linear (Dirac-like)
  branches ``Ω² − Ω0² = eig(−i κ_j D⁻¹ W^(j))``; when every ``W^(j)`` vanishes (modes of equal parity) the
  second-order degenerate model ``Ω² − Ω0² = eig(D⁻¹ t(κ))`` with the ``m × m`` matrix of correctors' tensors;
* **nearby** eigenvalues (§8.4): the coupled model with the ``T^reg`` refinement;
* **interior** point of a lossless crystal (§8.5): the gradient of ``Ω²`` and the group velocity;
* **low-frequency** limit (§8.6): ``Ω0 = 0``, ``U0 = 1``, ``T = A_hom / <ρ(0)>``.

The case is decided by the *little group* of ``k0`` (the cell's point group operations that fix ``k0`` modulo
the reciprocal lattice, with time reversal; :mod:`fem_homog.cells.symmetry`): where it fixes no direction every
simple band is stationary (Γ, X, M of any cell, the triangular lattice's K when the cell has its three-fold axis)
and the simple/repeated/nearby models apply; elsewhere the point is interior (theory.md §8.3 "little group").

Everything is done with the *unshifted* operators on the quasi-periodic space of ``k0``. At zone edges (real ±1
weights) every pairing of the theory is an unconjugated product ``x^T A y`` of reduced vectors, with
``D = x^T (Σ β̇_s M_s − μ̇_s K_s) x`` the dispersive normalisation (§8.1); at other points (complex weights, a
Hermitian operator, lossless crystals only) the pairings are ``x^H A y``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from fem_homog.cells.lattice import is_zone_edge
from fem_homog.cells.symmetry import is_stationary, mesh_is_invariant, point_group
from fem_homog.core.errors import InputError, require
from fem_homog.core.logging import log
from fem_homog.core.units import to_reduced
from fem_homog.fem import periodic
from fem_homog.fem.bordered import solve_bordered
from fem_homog.forms import hfh as hfh_forms
from fem_homog.photonics.bands import collect_modes
from fem_homog.photonics.bloch import STATIC_TOL, BlochProblem, BlochSolution, Eigenpair, linear_combination

import dolfinx.fem
from petsc4py import PETSc

CASES = ("simple", "repeated", "nearby", "interior", "low_frequency")
NORMALISATION_TOL = 1e-6
"""``D`` counts as singular when an eigenvalue is below this fraction of its absolute scale
``<|β̇||U0|²> + <|μ̇||∇U0|²>`` (theory.md §8.1)."""
SOLVABILITY_TOL = 1e-4
"""Largest solvability multiplier accepted: above it the corrector problems are incompatible (theory.md §8.2)."""


def tdot(x: PETSc.Vec, A: PETSc.Mat | None, y: PETSc.Vec) -> complex:
    """The unconjugated pairing ``x^T A y`` (``x^T y`` when ``A`` is None)."""
    if A is None:
        return complex(x.tDot(y))
    Ay = A.createVecLeft()
    A.mult(y, Ay)
    value = complex(x.tDot(Ay))
    Ay.destroy()
    return value


def hdot(x: PETSc.Vec, A: PETSc.Mat, y: PETSc.Vec) -> complex:
    """The sesquilinear pairing ``x^H A y``."""
    Ay = A.createVecLeft()
    A.mult(y, Ay)
    value = complex(Ay.dot(x))  # PETSc VecDot(a, b) = b^H a
    Ay.destroy()
    return value


class ZoneOperators:
    """The per-phase unshifted operators of a zone point: ``K_s``, ``M_s``, ``E_s^j`` and ``P_k0``.

    Parameters
    ----------
    problem
        The cell's Bloch problem (space, phases, slot coefficients).
    k0
        The zone point (units 1/a).
    """

    def __init__(self, problem: BlochProblem, k0: Sequence[float]):
        self.problem, self.k0 = problem, np.asarray(k0, dtype=float)
        self.K, self.M, self.P = problem.quasi_periodic_operators(self.k0)
        self.hermitian = not is_zone_edge(self.k0, problem.pmap.lattice)
        d = problem.mesh.geometry.dim
        self.E = [[problem.reduce(dolfinx.fem.form(hfh_forms.flux_pairing(problem.V, j, chi)), self.P)
                   for chi in problem.indicators] for j in range(d)]

    def pair(self, x: PETSc.Vec, A: PETSc.Mat, y: PETSc.Vec) -> complex:
        """The pairing of the theory: ``x^T A y`` at zone edges (complex symmetric operators), ``x^H A y``
        elsewhere (Hermitian operators of a lossless crystal; theory.md §8.1)."""
        return hdot(x, A, y) if self.hermitian else tdot(x, A, y)

    def _slots(self, name: str, omega: complex) -> list[complex]:
        return [getattr(s, name)(omega) for s in self.problem.slots]

    def operator(self, omega: complex) -> PETSc.Mat:
        """``A(Ω) = Σ_s μ_s K_s − β_s M_s`` (the corrector operator at ``Ω``)."""
        return linear_combination([*self._slots("mu", omega), *[-b for b in self._slots("beta", omega)]],
                                  [*self.K, *self.M])

    def mu_mass(self, omega: complex) -> PETSc.Mat:
        """``Σ_s μ_s M_s``: the pairing ``<μ U V>``."""
        return linear_combination(self._slots("mu", omega), self.M)

    def normalisation(self, omega: complex) -> PETSc.Mat:
        """``Σ_s β̇_s M_s − μ̇_s K_s``: the pairing ``D(U, V)`` of theory.md §8.1. At ``Ω0 = 0`` the only mode
        is ``U0 = 1`` (``∇U0 = 0``), so the ``μ̇`` term is dropped there (it need not exist)."""
        if omega == 0:
            return linear_combination(self._slots("beta_dot", omega), self.M)
        return linear_combination([*self._slots("beta_dot", omega), *[-m for m in self._slots("mu_dot", omega)]],
                                  [*self.M, *self.K])

    def energy_scale(self, omega: complex) -> PETSc.Mat:
        """``Σ_s |β̇_s| M_s + |μ̇_s| K_s``: ``x^H S x = <|β̇||U|²> + <|μ̇||∇U|²>``, the absolute scale of ``D``
        (the ``μ̇`` term dropped at ``Ω0 = 0`` as in :meth:`normalisation`)."""
        beta = [abs(b) for b in self._slots("beta_dot", omega)]
        if omega == 0:
            return linear_combination(beta, self.M)
        return linear_combination([*beta, *[abs(m) for m in self._slots("mu_dot", omega)]], [*self.M, *self.K])

    def flux(self, omega: complex, j: int) -> PETSc.Mat:
        """``Σ_s μ_s E_s^j``: the pairing ``e_j(U, V) = <μ (U ∂_j V − V ∂_j U)>``."""
        return linear_combination(self._slots("mu", omega), self.E[j])

    def unit_mass(self) -> PETSc.Mat:
        return linear_combination([1.0] * len(self.M), self.M)

    def field(self, x: PETSc.Vec) -> dolfinx.fem.Function:
        """The Bloch wave ``U = P_k0 x`` on the cell."""
        u = dolfinx.fem.Function(self.problem.V)
        periodic.extend(x, self.P, u)
        return u

    def destroy(self) -> None:
        for A in [*self.K, *self.M, *[E for row in self.E for E in row], self.P]:
            A.destroy()

    def __enter__(self) -> ZoneOperators:
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()


@dataclass
class HFHResult:
    """The effective model at one zone point (non-dimensional: cell = 1, ``Ω = ω a / c``).

    Attributes
    ----------
    case
        One of :data:`CASES`.
    k0, omegas
        The point and the frequencies ``Ω_p`` of the modes in the model (one for simple/interior/low-frequency).
    T
        ``d × d`` tensor (simple, low-frequency; per band for nearby: ``T_bands``), None otherwise.
    D, W
        ``m × m`` normalisation and ``d × m × m`` coupling matrices (repeated, nearby).
    T_blocks
        ``m × m × d × d`` second-order tensors ``t^{qp}_ij`` of a repeated eigenvalue whose ``W`` vanish.
    gradient
        ``∂Ω²/∂k_j`` (interior).
    solvability_multiplier
        Largest ``|ℓ| ‖b‖ / ‖f‖`` of the bordered corrector solves (≈ 0 when the theory's compatibility holds;
        above :data:`SOLVABILITY_TOL` the model is refused).
    point_group
        The cell's point group (:func:`~fem_homog.cells.symmetry.point_group`), for the star of ``k0``.
    repeated_tol
        The relative tolerance on ``Ω²`` that decided between repeated and nearby (:func:`repeated_tolerance`).
    """

    case: str
    k0: np.ndarray
    omegas: np.ndarray
    T: np.ndarray | None = None
    T_bands: list[np.ndarray] = field(default_factory=list)
    D: np.ndarray | None = None
    W: np.ndarray | None = None
    T_blocks: np.ndarray | None = None
    gradient: np.ndarray | None = None
    solvability_multiplier: float = 0.0
    point_group: list[np.ndarray] = field(default_factory=list)
    repeated_tol: float = 0.0
    U0: list[dolfinx.fem.Function] = field(default_factory=list)
    U1: list[dolfinx.fem.Function] = field(default_factory=list)

    @property
    def omega0(self) -> complex:
        return complex(np.mean(self.omegas))

    def named_fields(self) -> list[dolfinx.fem.Function]:
        """``U0`` and ``U1`` as functions named ``U0_p`` and ``U1_n`` (for field files)."""
        fields = [*self.U0, *self.U1]
        names = [f"U0_{p}" for p in range(len(self.U0))] + [f"U1_{n}" for n in range(len(self.U1))]
        for f, name in zip(fields, names):
            f.name = name
        return fields

    def predict(self, kappa: np.ndarray) -> np.ndarray:
        """Predicted ``Ω²`` of each branch at ``k0 + κ`` (rows of ``kappa``), sorted by real part."""
        kappa = np.atleast_2d(np.asarray(kappa, dtype=float))
        lam = np.asarray(self.omegas) ** 2
        rows = []
        for kap in kappa:
            if self.case in ("simple", "low_frequency"):
                values = [lam[0] + kap @ self.T @ kap]
            elif self.case == "interior":
                values = [lam[0] + self.gradient @ kap]
            elif self.case == "nearby":
                values = np.linalg.eigvals(np.diag(lam + self._regularised(kap))
                                           + 1j * np.linalg.solve(self.D, np.tensordot(kap, self.W, 1)))
            elif self.T_blocks is not None:
                t = np.einsum("qpij,i,j->qp", self.T_blocks, kap, kap)
                values = lam.mean() + np.linalg.eigvals(np.linalg.solve(self.D, t))
            else:
                values = lam.mean() + np.linalg.eigvals(-1j * np.linalg.solve(self.D, np.tensordot(kap, self.W, 1)))
            rows.append(sorted(values, key=lambda z: z.real))
        return np.array(rows)

    def _regularised(self, kap: np.ndarray) -> np.ndarray:
        """``T^reg_p(κ) = T_p κκ − Σ_{q≠p} C_pq C_qp / (λ_p − λ_q)``, ``C = i D⁻¹ κ_j W^(j)``: each band's simple
        curvature minus the share of it that the coupling already produces (theory.md §8.4; with our real
        antisymmetric ``W`` the share is ``+Σ (κ·w_pq)² / (D_pp D_qq (λ_p − λ_q))``)."""
        lam, m = np.asarray(self.omegas) ** 2, len(self.omegas)
        C = 1j * np.linalg.solve(self.D, np.tensordot(kap, self.W, 1))
        return np.array([kap @ self.T_bands[p] @ kap
                         - sum(C[p, q] * C[q, p] / (lam[p] - lam[q]) for q in range(m) if q != p)
                         for p in range(m)])

    def slopes(self, direction: Sequence[float]) -> np.ndarray:
        """Linear slopes ``dΩ²/d|κ|`` of the branches along a direction (repeated, nearby-coupling, interior)."""
        e = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
        if self.case == "interior":
            return np.array([self.gradient @ e])
        if self.W is None:
            return np.zeros(len(self.omegas))
        w = np.tensordot(e, self.W, 1)
        if self.case == "nearby":
            return np.sort_complex(np.linalg.eigvals(1j * np.linalg.solve(self.D, w)))
        return np.sort_complex(np.linalg.eigvals(-1j * np.linalg.solve(self.D, w)))


# -- the cases --------------------------------------------------------------------------------------------
def _constraint(ops: ZoneOperators, xs: Sequence[PETSc.Vec]) -> tuple[list[PETSc.Vec], list[PETSc.Vec]]:
    """The border of the corrector system: rows ``c_q`` with ``c_q^T y = x_q^H M y`` (the constraints
    ``∫ conj(U_q) U_1 = 0``) and columns ``b_q`` that the left null vectors see (``x_q^T b_q = x_q^H M x_q`` at
    zone edges, ``x_q^H b_q`` elsewhere): ``b_q = c_q = M conj(x_q)`` at edges (``M`` real), ``b_q = M x_q``,
    ``c_q = conj(b_q)`` for the Hermitian operators of other points."""
    M = ops.unit_mass()
    columns, rows = [], []
    for x in xs:
        xc = x.copy()
        if not ops.hermitian:
            xc.conjugate()
        b = M.createVecLeft()
        M.mult(xc, b)
        columns.append(b)
        c = b.copy()
        if ops.hermitian:
            c.conjugate()
        rows.append(c)
        xc.destroy()
    M.destroy()
    return columns, rows


def _correctors(ops: ZoneOperators, omega: complex, xs: Sequence[PETSc.Vec]) -> tuple[list[list[PETSc.Vec]], float]:
    """``U_1j^(p)`` for every mode ``p`` and direction ``j``: ``A(Ω0) y = E_μ^j x_p`` (the weak form of
    theory.md §8.2: ``∫ μ∇U_1·∇v − Ω0²ρ U_1 v = ∫ μ ∂_jU0 v − ∫ μ U0 ∂_jv``), bordered by all the ``x_q``."""
    d = len(ops.E)
    A = ops.operator(omega)
    rhs, floor = [], 0.0
    for x in xs:
        for j in range(d):
            E = ops.flux(omega, j)
            f = E.createVecLeft()
            E.mult(x, f)
            rhs.append(f)
            floor = max(floor, 1e-10 * E.norm() * x.norm())  # a right-hand side at round-off (uniform μ)
            E.destroy()
    B, C = _constraint(ops, xs)
    # iterative (constant media only): GAMG on A(Ω = i) = Σ μ_s K_s + ρ_s M_s, positive definite
    S = ops.operator(1j) if ops.problem.solver == "iterative" else None
    ys, ell = solve_bordered(A, B, rhs, rows=C, preconditioner=S)
    rhs_scale = max(floor, *(f.norm() for f in rhs))
    multiplier = float(np.abs(ell).max() * max(b.norm() for b in B) / rhs_scale) if rhs_scale > 0 else 0.0
    for v in [A, *B, *C, *rhs, *([S] if S is not None else [])]:
        v.destroy()
    return [ys[p * d:(p + 1) * d] for p in range(len(xs))], multiplier


def _second_order_blocks(ops: ZoneOperators, omega: complex, xs, ys) -> np.ndarray:
    """``t^{qp}_ij = δ_ij <μ U^q U^p> + e_i(U^q, U_1j^p)`` (theory.md §8.2, §8.3 at second order),
    symmetrised in ``(i, j)``."""
    d, m = len(ops.E), len(xs)
    Mmu = ops.mu_mass(omega)
    E = [ops.flux(omega, i) for i in range(d)]
    t = np.zeros((m, m, d, d), dtype=complex)
    for q in range(m):
        for p in range(m):
            t[q, p] += np.eye(d) * ops.pair(xs[q], Mmu, xs[p])
            for i in range(d):
                for j in range(d):
                    t[q, p, i, j] += ops.pair(xs[q], E[i], ys[p][j])
    for A in [Mmu, *E]:
        A.destroy()
    return 0.5 * (t + t.transpose(0, 1, 3, 2))


def _pairings(ops: ZoneOperators, omega: complex, xs) -> tuple[np.ndarray, np.ndarray]:
    """``D_qp = D(U^q, U^p)`` and ``W^(j)_qp = e_j(U^q, U^p)`` (theory.md §8.3)."""
    d, m = len(ops.E), len(xs)
    N = ops.normalisation(omega)
    D = np.array([[ops.pair(xs[q], N, xs[p]) for p in range(m)] for q in range(m)])
    W = np.zeros((d, m, m), dtype=complex)
    for j in range(d):
        E = ops.flux(omega, j)
        W[j] = [[ops.pair(xs[q], E, xs[p]) for p in range(m)] for q in range(m)]
        E.destroy()
    N.destroy()
    return D, W


def check_normalisation(D: np.ndarray, scale: np.ndarray) -> None:
    """Refuse a singular ``D``: an eigenvalue below :data:`NORMALISATION_TOL` times the absolute scale
    ``max_p <|β̇||U_p|²> + <|μ̇||∇U_p|²>`` (theory.md §8.1; e.g. the β̇ and μ̇ energies cancel)."""
    size = float(np.max(np.abs(scale)))
    smallest = float(np.abs(np.linalg.eigvals(D)).min())
    require(smallest > NORMALISATION_TOL * size,
            f"the HFH normalisation D is singular at this point: |eig D| = {smallest:.2e} against its scale "
            f"<|β̇||U0|²> + <|μ̇||∇U0|²> = {size:.2e} (a mode with vanishing dispersive energy)")


def check_solvability(multiplier: float, omegas: Sequence[complex], others: Sequence[complex]) -> None:
    """Refuse correctors whose compatibility condition fails (multiplier above :data:`SOLVABILITY_TOL`): the
    modes are then most likely one part of a degenerate group, the rest of which (the nearest of ``others``) was
    left out, e.g. by a too small ``repeated_tol`` on a mesh that splits a symmetry-protected pair."""
    if multiplier <= SOLVABILITY_TOL:
        return
    lam = np.mean(np.asarray(omegas) ** 2)
    partner = min(others, key=lambda w: abs(w ** 2 - lam), default=None)
    hint = "" if partner is None else (
        f"; the likely missing partner is the mode at ω a/2πc = {complex(to_reduced(partner)):.6g} "
        f"(relative splitting {abs(partner ** 2 - lam) / abs(lam):.1e} in Ω²): raise {{argument}} above it or "
        "mesh with the cell's symmetry (mesh.symmetric)")
    raise InputError(f"the HFH corrector problems are incompatible at ω a/2πc = "
                     f"{np.round(to_reduced(np.asarray(omegas)), 6).tolist()} (solvability multiplier "
                     f"{multiplier:.1e} > {SOLVABILITY_TOL:g}){hint}", argument="repeated_tol")


def _normalised(ops: ZoneOperators, x: PETSc.Vec) -> PETSc.Vec:
    """``x / sqrt(x^T M x)`` at zone edges: fixes the arbitrary complex phase of an eigenvector so that
    ``<U0²> = 1`` (real fields for lossless modes; ``T`` does not depend on it); ``x / sqrt(x^H M x)``
    elsewhere (the phase of a complex Bloch wave is free)."""
    M = ops.unit_mass()
    norm = np.sqrt(ops.pair(x, M, x))
    M.destroy()
    y = x.copy()
    if abs(norm) > 0:
        y.scale(1.0 / norm)
    return y


def _energy(ops: ZoneOperators, omega: complex, xs) -> np.ndarray:
    S = ops.energy_scale(omega)
    out = np.array([hdot(x, S, x).real for x in xs])
    S.destroy()
    return out


def simple_or_repeated(ops: ZoneOperators, pairs: Sequence[Eigenpair], *, linear_tol: float = 1e-3,
                       others: Sequence[complex] = ()) -> HFHResult:
    """One mode (simple, §8.2) or a degenerate group (repeated, §8.3) at a stationary point. The group's
    branches are linear when a slope of ``−i D⁻¹ κ_j W^(j)`` exceeds ``linear_tol · 2|Ω0|`` (a W left over from
    an imperfectly symmetric mesh is smaller), quadratic otherwise. ``others``: the frequencies of the modes
    left out, named when the correctors' compatibility fails (:func:`check_solvability`)."""
    omega = complex(np.mean([p.omega for p in pairs]))
    xs = [_normalised(ops, p.vector) for p in pairs]
    D, W = _pairings(ops, omega, xs)
    check_normalisation(D, _energy(ops, omega, xs))
    omegas = np.array([p.omega for p in pairs])
    linear = max(np.abs(np.linalg.eigvals(np.linalg.solve(D, W[j]))).max() for j in range(len(ops.E))) \
        if len(xs) > 1 else 0.0
    if len(xs) > 1 and linear > linear_tol * 2 * abs(omega):
        return HFHResult("repeated", ops.k0, omegas, D=D, W=W, U0=[ops.field(x) for x in xs])
    ys, multiplier = _correctors(ops, omega, xs)
    check_solvability(multiplier, omegas, others)
    t = _second_order_blocks(ops, omega, xs, ys)
    U0, U1 = _fields(ops, xs, ys)
    if len(xs) == 1:
        return HFHResult("simple", ops.k0, omegas, T=t[0, 0] / D[0, 0], D=D, W=W,
                         solvability_multiplier=multiplier, U0=U0, U1=U1)
    return HFHResult("repeated", ops.k0, omegas, D=D, W=W, T_blocks=t, solvability_multiplier=multiplier,
                     U0=U0, U1=U1)


def _fields(ops: ZoneOperators, xs, ys) -> tuple[list, list]:
    return [ops.field(x) for x in xs], [ops.field(y) for row in ys for y in row]


def nearby(ops: ZoneOperators, pairs: Sequence[Eigenpair], others: Sequence[complex] = ()) -> HFHResult:
    """Nearby eigenvalues (§8.4): each mode's own simple tensor ``T_p`` (correctors at its own ``λ_p``), the
    couplings ``W^(j)`` and ``D_pp``; :meth:`HFHResult.predict` solves the refined coupled model."""
    pairs = [Eigenpair(p.omega, _normalised(ops, p.vector), p.residual) for p in pairs]
    singles = [simple_or_repeated(ops, [p], others=[*others, *[q.omega for q in pairs if q is not p]])
               for p in pairs]
    _, W = _pairings(ops, complex(np.mean([p.omega for p in pairs])), [p.vector for p in pairs])
    D = np.diag([s.D[0, 0] for s in singles])
    return HFHResult("nearby", ops.k0, np.array([p.omega for p in pairs]), T_bands=[s.T for s in singles],
                     D=D, W=W, solvability_multiplier=max(s.solvability_multiplier for s in singles),
                     U0=[s.U0[0] for s in singles], U1=[u for s in singles for u in s.U1])


def _require_lossless(ops: ZoneOperators, omega: complex) -> None:
    coefficients = [f(omega) for s in ops.problem.slots for f in (s.mu, s.beta, s.mu_dot, s.beta_dot)]
    require(abs(omega.imag) <= 1e-10 * abs(omega) and np.allclose(np.imag(coefficients), 0.0, atol=1e-12),
            "HFH away from the zone edges needs a lossless crystal (real Ω0 and coefficients); "
            "use a zone edge (G, X, M) for lossy media")


def interior(ops: ZoneOperators, pair: Eigenpair) -> HFHResult:
    """Interior point of a lossless crystal (§8.5): ``∂Ω²/∂k_j = −i x^H E_μ^j x / x^H (β̇M − μ̇K) x``."""
    omega, x = pair.omega, pair.vector
    _require_lossless(ops, omega)
    N = ops.normalisation(omega)
    denominator = hdot(x, N, x).real
    gradient = []
    for j in range(len(ops.E)):
        E = ops.flux(omega, j)
        gradient.append((-1j * hdot(x, E, x)).real / denominator)
        E.destroy()
    N.destroy()
    return HFHResult("interior", ops.k0, np.array([omega]), gradient=np.array(gradient),
                     D=np.array([[denominator]]), U0=[ops.field(x)])


def low_frequency(ops: ZoneOperators) -> HFHResult:
    """``Ω0 = 0``, ``U0 = 1`` (§8.6): the correctors are the static cell problems with ``A = μ(0)`` and
    ``T = A_hom / <ρ(0)>``; media without a static limit (Drude ``ρ``-slot) are refused."""
    require(np.allclose(ops.k0, 0.0), "the low-frequency limit exists only at Γ")
    for s in ops.problem.slots:
        s.beta_dot(0.0)  # refuses coefficients with no static limit
        require(abs(s.mu(0.0)) > 0, "a phase has μ(0) = 0 (e.g. a Drude inclusion in TE: a perfect conductor "
                                    "at zero frequency); its low-frequency cell problem is not supported")
    one = ops.P.createVecRight()
    one.set(1.0)
    result = simple_or_repeated(ops, [Eigenpair(omega=0j, vector=one, residual=0.0)])
    result.case = "low_frequency"
    return result


# -- the entry point ---------------------------------------------------------------------------------------
@dataclass
class Selection:
    """How the mode is chosen: a 1-based band index at ``k0`` (counted from ``search_from``, and from the
    acoustic band at Γ when there is one) or a target frequency; frequencies in Ω units. Modes within
    ``repeated_tol`` (relative, in Ω²; raised to the discretization's splitting estimate on meshes without the
    cell's symmetry, :func:`repeated_tolerance`) form a repeated eigenvalue, within ``cluster_tol`` a nearby
    group.

    Raises
    ------
    InputError
        Both or neither of ``band`` and ``target``, ``band < 1``, or not ``0 < repeated_tol <= cluster_tol``.
    """

    band: int | None = None
    target: float | None = None
    cluster_tol: float = 0.02
    repeated_tol: float = 1e-5
    search_from: float = 0.0

    def __post_init__(self) -> None:
        require((self.band is None) != (self.target is None), "give either band or target")
        require(self.band is None or self.band >= 1, f"must be >= 1, got {self.band}", argument="band")
        require(0 < self.repeated_tol <= self.cluster_tol,
                f"must lie in (0, cluster_tol = {self.cluster_tol}] (relative tolerances on Ω²), "
                f"got {self.repeated_tol}", argument="repeated_tol")


def has_static_limit(problem: BlochProblem) -> bool:
    """Whether ``Ω = 0`` is an eigenfrequency at Γ (finite ``ρ(0)`` in every phase): the acoustic band."""
    try:
        for s in problem.slots:
            s.beta_dot(0.0)
    except InputError:
        return False
    return True


def nearest_pairs(problem: BlochProblem, k: Sequence[float], K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat], *,
                  nev: int, target: float, tol: float = 1e-10) -> BlochSolution:
    """The ``nev`` Bloch pairs nearest the frequency ``target`` (nearest in ``Ω²``, the order of shift-and-invert)
    for the given reduced operators, with either eigensolver of the problem (theory.md §5). The direct solver
    shifts to ``target``. The iterative one has no shift (it computes the lowest bands): it computes the ``nev``
    lowest, then twice as many and so on until they certainly hold the ``nev`` nearest ``target`` (the ``nev``-th
    nearest is no farther from ``target²`` than the highest one computed, so no band above it can be nearer), and
    keeps those ``nev``."""
    if problem.solver == "direct":
        return problem.eigenpairs(k, K, M, nev=nev, target=target, tol=tol)
    size, count, lam0 = K[0].getSize()[0], nev, target ** 2
    while True:
        solution = problem.eigenpairs(k, K, M, nev=count, target=0.0, tol=tol)
        lam = solution.omegas.real ** 2
        order = np.argsort(np.abs(lam - lam0), kind="stable")[:nev]
        if count >= size or (len(lam) and np.abs(lam[order] - lam0).max() <= lam.max() - lam0):
            kept = sorted(order)
            return replace(solution, pairs=[solution.pairs[i] for i in kept])
        count = min(2 * count, size)
        log(f"  iterative eigensolver: the lowest bands do not reach the {nev} nearest ω a/2πc = "
            f"{to_reduced(target):.6g}; solving for the lowest {count}")


def _modes(problem: BlochProblem, ops: ZoneOperators, selection: Selection) -> list[Eigenpair]:
    """Physical eigenpairs at ``k0`` in increasing ``Re Ω``: around the target, or from ``search_from`` up
    to two bands above the chosen one (its cluster)."""
    def solve(nev: int, target: float) -> BlochSolution:
        return nearest_pairs(problem, ops.k0, ops.K, ops.M, nev=nev, target=target)

    if selection.target is not None:
        pairs = solve(6, selection.target).pairs
    else:
        pairs, _ = collect_modes(solve, selection.band + 2, selection.search_from)
    return [p for p in pairs if abs(p.omega) > STATIC_TOL]  # Ω = 0 (acoustic band) is handled exactly


def _cluster(pairs: Sequence[Eigenpair], chosen: Eigenpair, tol: float) -> list[Eigenpair]:
    lam = chosen.omega ** 2
    return [p for p in pairs if abs(p.omega ** 2 - lam) <= tol * abs(lam)]


def hfh_at_point(problem: BlochProblem, k0: Sequence[float], selection: Selection) -> HFHResult:
    """The effective model of the selected mode at ``k0``: finds the mode and its cluster, decides the case
    (:data:`CASES`) from the little group of ``k0`` and the cluster, and computes the tensors (theory.md §8).

    Raises
    ------
    InputError
        ``k0`` outside the zone, band index out of range (argument ``band``), a point off the zone edges in a
        lossy crystal, no static limit, a singular ``D``, incompatible correctors (argument ``repeated_tol``).
    """
    group = point_group(problem.cell.geometry)
    with ZoneOperators(problem, k0) as ops:
        at_gamma = np.allclose(ops.k0, 0.0)
        acoustic = at_gamma and has_static_limit(problem)
        if acoustic and (selection.band == 1 or (selection.target is not None and selection.target == 0.0)):
            result = low_frequency(ops)
            result.point_group = group
            return result
        modes = _modes(problem, ops, selection)
        if selection.target is not None:
            require(modes, f"no Bloch mode found near the target at k = {ops.k0.tolist()}")
            chosen = min(modes, key=lambda p: abs(p.omega - selection.target))
        else:
            index = selection.band - 1 - int(acoustic)
            require(index < len(modes), f"{{argument}} {selection.band} not found at k = {ops.k0.tolist()} "
                                        f"(only {len(modes) + int(acoustic)} bands converged)", argument="band")
            chosen = modes[index]
        if ops.hermitian:
            _require_lossless(ops, chosen.omega)
        tol = repeated_tolerance(problem, ops.k0, modes, chosen, selection, group)
        result = _case(ops, modes, chosen, replace(selection, repeated_tol=tol),
                       stationary=is_stationary(ops.k0, group, problem.pmap.lattice))
        result.point_group, result.repeated_tol = group, tol
        return result


def repeated_tolerance(problem: BlochProblem, k0: np.ndarray, modes: Sequence[Eigenpair], chosen: Eigenpair,
                       selection: Selection, group: Sequence[np.ndarray]) -> float:
    """The tolerance that decides repeated against nearby (theory.md §8.3): ``selection.repeated_tol``, raised to
    the discretization's own estimate of the splitting when the mesh does not carry the cell's symmetry and a mode
    lies within ``cluster_tol``. A pair that the symmetry makes degenerate is then split by at most the two
    eigenvalues' discretization errors, estimated as ``|λ_p − λ_{p+1}|`` against degree ``p + 1`` on the same mesh
    (:func:`splitting_estimate`). On a symmetric mesh the splitting is at round-off and the tolerance is kept."""
    lam = chosen.omega ** 2
    close = [p for p in modes if p is not chosen and abs(p.omega ** 2 - lam) <= selection.cluster_tol * abs(lam)]
    geometry = problem.cell.geometry
    if not close or len(group) == 1 or mesh_is_invariant(problem.cell.mesh, geometry, group):
        return selection.repeated_tol
    partner = min(close, key=lambda p: abs(p.omega ** 2 - lam))
    estimate = splitting_estimate(problem, k0, [chosen.omega, partner.omega])
    log(f"  the mesh does not carry the cell's symmetry: splitting estimate {estimate:.1e} (degree + 1) "
        f"against repeated_tol {selection.repeated_tol:.1e}")
    return min(max(selection.repeated_tol, estimate), selection.cluster_tol)


def splitting_estimate(problem: BlochProblem, k0: np.ndarray, omegas: Sequence[complex]) -> float:
    """``Σ_p |λ_p − λ_p^(+1)| / |λ|``: the sum of the eigenvalues' discretization errors (``λ = Ω²``), each
    estimated by the same Bloch problem at one degree higher on the same mesh (quasi-periodic space of ``k0``)."""
    finer = BlochProblem(problem.cell, problem.phases, polarization=problem.polarization,
                         degree=problem.V.ufl_element().degree + 1, solver=problem.solver)
    K, M, P_k = finer.quasi_periodic_operators(k0)
    target = float(np.mean(np.real(omegas)))
    better = nearest_pairs(finer, k0, K, M, nev=len(omegas) + 4, target=target).omegas ** 2
    for A in [*K, *M, P_k]:
        A.destroy()
    lam = np.asarray(omegas) ** 2
    require(len(better) > 0, "no eigenpair converged in the splitting estimate (degree + 1)")
    errors = [np.min(np.abs(better - value)) for value in lam]
    return float(np.sum(errors) / abs(np.mean(lam)))


def _case(ops: ZoneOperators, modes: Sequence[Eigenpair], chosen: Eigenpair, selection: Selection, *,
          stationary: bool) -> HFHResult:
    """The model of ``chosen`` among ``modes``: a degenerate group is repeated (linear branches where its ``W``
    does not vanish); a single mode is simple at a stationary point (with its close neighbours: nearby) and
    interior elsewhere."""
    repeated = _cluster(modes, chosen, selection.repeated_tol)
    others = [p.omega for p in modes if all(p is not q for q in repeated)]
    if len(repeated) > 1:
        return simple_or_repeated(ops, repeated, others=others)
    if not stationary:
        return interior(ops, chosen)
    group = _cluster(modes, chosen, selection.cluster_tol)
    if len(group) > 1:
        return nearby(ops, group, others=[p.omega for p in modes if all(p is not q for q in group)])
    return simple_or_repeated(ops, [chosen], others=others)
