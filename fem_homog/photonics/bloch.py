"""Bloch eigenproblems on a periodic cell: constant media (SLEPc EPS) and dispersive media (SLEPc PEP).

At a fixed wave vector ``k`` the shifted form of theory.md §5 gives, per phase ``s``, the unit-coefficient
matrices ``K_s(k)`` and ``M_s`` (reduced to the periodic space with the real prolongation ``P``, built once and
reused for every ``k``). The problem is

    T(Ω) = Σ_s μ_s(Ω) K_s − Ω² ρ_s(Ω) M_s,          T(Ω) x = 0,

with the slot coefficients of theory.md §1 (TM: ``μ = 1/μ_r``, ``ρ = ε``; TE: ``μ = 1/ε``, ``ρ = μ_r``).

* Constant media: the Hermitian generalized eigenproblem ``A x = Ω² B x`` (EPS, shift-and-invert, MUMPS).
* Dispersive media (theory.md §6, general recipe): every slot coefficient is a ratio of polynomials in Ω;
  multiplying ``T`` by the product ``Q`` of the distinct denominators gives ``Q T = Σ_j Ω^j A_j``, solved as a
  polynomial eigenproblem (PEP, TOAR, shift-and-invert). Its extra roots are filtered and counted: zeros of
  ``Q`` (multiplier roots), ``Ω ≈ 0`` (static modes), ``Re Ω ≤ 0`` (the mirror image ``−conj(Ω)`` of each
  physical root, and the accumulation cluster of Drude media on the imaginary axis between 0 and ``−iΓ``),
  and pairs whose residual on the original rational problem is too large.
* Lossy Drude media with constant gradient coefficients (TM with ε(Ω), TE with μ_r(Ω)): the same eigenvalues
  from a quadratic auxiliary-field linearization (:mod:`fem_homog.photonics.pep_auxiliary`) that plants no multiplier
  cluster at ``−iΓ`` and converges several times faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.polynomial import Polynomial

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
from petsc4py import PETSc

from fem_homog.forms import bloch as bloch_forms
from fem_homog.photonics import pep_auxiliary
from fem_homog.fem import periodic, petsc
from fem_homog.fem.coefficients import phase_function
from fem_homog.core.errors import SolverError, require
from fem_homog.cells.lattice import check_k_in_zone
from fem_homog.cells.meshing import CellMesh
from fem_homog.photonics.materials import Phase
from fem_homog.photonics.slots import check_polarization, slot_pair

PASSIVE_REGION = (1e-6, 1e12, -1e12, 1e-8)  # Re Ω > 0 ≥ Im Ω (re_min, re_max, im_min, im_max)
STATIC_TOL = 1e-4  # |Ω| below which a dispersive eigenvalue is a static mode (they spread around 0 numerically)



@dataclass(frozen=True)
class SlotPolynomials:
    """A phase's slot coefficients as fractions: ``μ_s = mu_num/mu_den``, ``Ω²ρ_s = beta_num/beta_den``."""

    mu_num: Polynomial
    mu_den: Polynomial
    beta_num: Polynomial
    beta_den: Polynomial

    def mu(self, omega: complex) -> complex:
        """``μ_s(Ω)``."""
        return self.mu_num(omega) / self.mu_den(omega)

    def beta(self, omega: complex) -> complex:
        """``β_s(Ω) = Ω² ρ_s(Ω)``."""
        return self.beta_num(omega) / self.beta_den(omega)

    def mu_dot(self, omega: complex) -> complex:
        """``μ̇_s = ∂μ_s/∂(Ω²)`` (theory.md §1 dot notation)."""
        return _d_domega2(self.mu_num, self.mu_den, omega)

    def beta_dot(self, omega: complex) -> complex:
        """``β̇_s = ∂(Ω²ρ_s)/∂(Ω²) = ρ_s + Ω² ρ̇_s``."""
        return _d_domega2(self.beta_num, self.beta_den, omega)


def linear_combination(coefficients: Sequence[complex], matrices: Sequence[PETSc.Mat]) -> PETSc.Mat:
    """``Σ c_i A_i`` for matrices that share one sparsity pattern (forms over all cells of one space)."""
    out = matrices[0].duplicate(copy=True)
    out.scale(coefficients[0])
    for c, A in zip(coefficients[1:], matrices[1:]):
        out.axpy(c, A, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
    return out


def _d_domega2(num: Polynomial, den: Polynomial, omega: complex) -> complex:
    """``∂(num/den)/∂(Ω²) = (num/den)'(Ω) / (2Ω)``; at ``Ω = 0`` the coefficient of Ω² of the Taylor series,
    which exists only for a fraction that is finite and even to first order there (a static limit)."""
    if abs(omega) > 1e-12:
        return ((num.deriv() * den - num * den.deriv())(omega) / den(omega) ** 2) / (2 * omega)
    n, d = (np.pad(p.coef.astype(complex), (0, 3))[:3] for p in (num, den))
    require(abs(d[0]) > 0, "a coefficient is infinite at zero frequency: this medium has no static limit")
    c0 = n[0] / d[0]
    c1 = (n[1] - c0 * d[1]) / d[0]
    require(abs(c1) <= 1e-12 * max(abs(c0), 1.0),
            "a coefficient is not even in Ω at zero frequency (lossy): no static limit")
    return (n[2] - c0 * d[2] - c1 * d[1]) / d[0]


def _strip_common_root_at_zero(num: Polynomial, den: Polynomial) -> tuple[Polynomial, Polynomial]:
    """Cancel common factors Ω (e.g. Ω² ε for a Drude ε, whose denominator is Ω(Ω + iΓ))."""
    while len(num.coef) > 1 and len(den.coef) > 1 and num.coef[0] == 0 and den.coef[0] == 0:
        num, den = Polynomial(num.coef[1:]), Polynomial(den.coef[1:])
    return num, den


def slot_polynomials(phase: Phase, polarization: str) -> SlotPolynomials:
    """The slot fractions of a phase (theory.md §1 table and §6)."""
    inverted, rho = slot_pair(phase.eps, phase.mu_r, polarization)
    inv_n, inv_d = inverted.as_fraction()
    rho_n, rho_d = rho.as_fraction()
    mass_n, mass_d = _strip_common_root_at_zero(Polynomial([0.0, 0.0, 1.0]) * rho_n, rho_d)
    return SlotPolynomials(inv_d, inv_n, mass_n, mass_d)


def _monic(p: Polynomial) -> Polynomial:
    return Polynomial(p.coef / p.coef[-1])


def multiplier(slots: Sequence[SlotPolynomials]) -> Polynomial:
    """``Q``: the product of the distinct (monic) denominators of all slot coefficients."""
    distinct: list[Polynomial] = []
    for s in slots:
        for den in (s.mu_den, s.beta_den):
            m = _monic(den)
            if m.degree() > 0 and not any(len(m.coef) == len(d.coef) and np.allclose(m.coef, d.coef)
                                          for d in distinct):
                distinct.append(m)
    Q = Polynomial([1.0 + 0j])
    for d in distinct:
        Q = Q * d
    return Q


def _exact_quotient(num: Polynomial, den: Polynomial) -> np.ndarray:
    quotient, remainder = divmod(num, den)
    scale = max(np.abs(num.coef).max(), 1.0)
    if np.abs(remainder.coef).max() > 1e-9 * scale:
        raise RuntimeError("internal error: the multiplier does not clear a denominator")
    return quotient.coef


@dataclass
class Eigenpair:
    """A Bloch eigenfrequency ``Ω`` (``ω a / c``) with its reduced eigenvector and residual."""

    omega: complex
    vector: PETSc.Vec
    residual: float


@dataclass
class BlochSolution:
    """Physical eigenpairs at one ``k`` (increasing ``Re Ω``) and the counts of what was filtered out."""

    k: np.ndarray
    pairs: list[Eigenpair]
    filtered: dict[str, int]

    @property
    def omegas(self) -> np.ndarray:
        return np.array([p.omega for p in self.pairs])


class BlochProblem:
    """The Bloch eigenproblem of a periodic cell with given phases, reusable across ``k``.

    Parameters
    ----------
    cell
        The periodic cell mesh (matching opposite faces) with its phase tags and geometry, whose lattice
        vectors define the periodicity and the zone (square, rectangular, hexagonal).
    phases
        One :class:`Phase` per tag present in the mesh.
    polarization
        ``"TM"`` (``u = E_z``) or ``"TE"`` (``u = H_z``); in 1D and 3D the same scalar equation.
    degree
        Lagrange degree.
    """

    def __init__(self, cell: CellMesh, phases: Sequence[Phase], *, polarization: str = "TM", degree: int = 2):
        check_polarization(polarization)
        mesh, cell_tags = cell.mesh, cell.cell_tags
        self.mesh, self.phases, self.polarization = mesh, list(phases), polarization
        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
        gdim = mesh.geometry.dim
        self.k = dolfinx.fem.Constant(mesh, np.zeros(gdim, dtype=PETSc.ScalarType))
        self._stiffness, self._mass, self.indicators = [], [], []
        for phase in self.phases:
            chi = phase_function(mesh, cell_tags, {p.tag: float(p.tag == phase.tag) for p in self.phases})
            self.indicators.append(chi)
            self._stiffness.append(dolfinx.fem.form(bloch_forms.bloch_stiffness(self.V, self.k, chi)))
            self._mass.append(dolfinx.fem.form(bloch_forms.bloch_mass(self.V, chi)))
        self.pmap = periodic.periodic_map(self.V, cell.geometry.lattice_vectors)
        self.P = periodic.prolongation(self.pmap)
        self.slots = [slot_polynomials(p, polarization) for p in self.phases]
        self.dispersive = any(not (p.eps.is_constant and p.mu_r.is_constant) for p in self.phases)
        self.Q = multiplier(self.slots)
        inverted, self._rho_models = zip(*(slot_pair(p.eps, p.mu_r, polarization) for p in self.phases))
        self.auxiliary = self.dispersive and pep_auxiliary.applies(list(inverted), list(self._rho_models))
        self._M_r = [self.reduce(form) for form in self._mass]
        self._unit_mass = linear_combination([1.0] * len(self._M_r), self._M_r)

    # -- operators ---------------------------------------------------------------------------------------
    def reduce(self, form: dolfinx.fem.Form, P: PETSc.Mat | None = None) -> PETSc.Mat:
        """Assemble ``form`` and reduce it to the constrained space: ``P^H A P`` (default ``P``: periodic)."""
        A = dolfinx.fem.petsc.assemble_matrix(form)
        A.assemble()
        A_r = periodic.reduce_matrix(A, self.P if P is None else P)
        A.destroy()
        return A_r

    def stiffness(self, k: Sequence[float]) -> list[PETSc.Mat]:
        """Reduced ``K_s(k)`` per phase (shifted form on the periodic space)."""
        check_k_in_zone(k, self.pmap.lattice)
        self.k.value[:] = np.asarray(k, dtype=float)
        return [self.reduce(form) for form in self._stiffness]

    def quasi_periodic_operators(self, k: Sequence[float], shift: Sequence[float] | None = None
                                 ) -> tuple[list[PETSc.Mat], list[PETSc.Mat], PETSc.Mat]:
        """``K_s``, ``M_s`` on the quasi-periodic space ``u(y + n) = e^{ik·n} u(y)`` and its prolongation
        ``P_k`` (theory.md §5.1). Unshifted by default; with ``shift = κ`` the stiffness is that of
        ``e^{iκ·y} u`` (the Bloch problem at ``k + κ`` in the space of ``k``, the discretization HFH expands).
        At zone edges ``P_k`` is real (weights ±1) and the unshifted operators are real symmetric, so
        ``T(Ω)`` is complex *symmetric* (theory.md §8.1)."""
        check_k_in_zone(k, self.pmap.lattice)
        P_k = periodic.prolongation(self.pmap, k=k)
        self.k.value[:] = 0.0 if shift is None else np.asarray(shift, dtype=float)
        K = [self.reduce(form, P_k) for form in self._stiffness]
        M = [self.reduce(form, P_k) for form in self._mass]
        return K, M, P_k

    def polynomial_coefficients(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per phase, the coefficients (in increasing powers of Ω) of ``Q μ_s`` and ``Q Ω² ρ_s``."""
        return [(_exact_quotient(self.Q * s.mu_num, s.mu_den), _exact_quotient(self.Q * s.beta_num, s.beta_den))
                for s in self.slots]

    def residual(self, omega: complex, x: PETSc.Vec, K: Sequence[PETSc.Mat],
                 M: Sequence[PETSc.Mat] | None = None) -> float:
        """Relative residual on the rational (unmultiplied) problem:
        ``‖T(Ω)x‖ / (Σ_s (|μ_s| ‖K_s‖ + |Ω²ρ_s| ‖M_s‖) ‖x‖)``."""
        y, tmp = x.duplicate(), x.duplicate()
        y.set(0.0)
        scale = 0.0
        for s, Ks, Ms in zip(self.slots, K, M or self._M_r):
            mu, beta = s.mu(omega), s.beta(omega)
            Ks.mult(x, tmp)
            y.axpy(mu, tmp)
            Ms.mult(x, tmp)
            y.axpy(-beta, tmp)
            scale += abs(mu) * Ks.norm() + abs(beta) * Ms.norm()
        return y.norm() / (scale * x.norm())

    def unit_mass(self) -> PETSc.Mat:
        """``Σ_s M_s``: the L² Gram matrix of the reduced space (for overlaps of eigenvectors)."""
        return self._unit_mass

    # -- solvers -----------------------------------------------------------------------------------------
    def solve(self, k: Sequence[float], *, nev: int = 6, target: float = 0.0, tol: float = 1e-10,
              residual_tol: float = 1e-6) -> BlochSolution:
        """Eigenfrequencies ``Ω`` nearest ``target`` (non-dimensional ``ω a / c``) at wave vector ``k``."""
        K = self.stiffness(k)
        solution = self.eigenpairs(k, K, self._M_r, nev=nev, target=target, tol=tol, residual_tol=residual_tol)
        for A in K:
            A.destroy()
        return solution

    def eigenpairs(self, k: Sequence[float], K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat], *, nev: int = 6,
                   target: float = 0.0, tol: float = 1e-10, residual_tol: float = 1e-6) -> BlochSolution:
        """Physical eigenpairs of ``Σ_s μ_s(Ω) K_s − Ω² ρ_s(Ω) M_s`` for given reduced operators (shifted
        periodic ones from :meth:`stiffness`, or quasi-periodic ones): EPS for constant media, PEP otherwise."""
        solver = self._solve_pep if self.dispersive else self._solve_eps
        pairs, filtered = self._filter(solver(K, M, nev, target, tol), K, M, residual_tol)
        return BlochSolution(k=np.asarray(k, dtype=float), pairs=pairs, filtered=filtered)

    def solve_quasi_periodic(self, k: Sequence[float], *, nev: int = 6, target: float = 0.0,
                             tol: float = 1e-10) -> BlochSolution:
        """Cross-check of :meth:`solve`: the unshifted operator on the quasi-periodic space (theory.md §5.1).
        Its eigenvectors are the full Bloch waves ``u``, not their periodic parts."""
        K, M, P_k = self.quasi_periodic_operators(k)
        solution = self.eigenpairs(k, K, M, nev=nev, target=target, tol=tol)
        for A in [*K, *M, P_k]:
            A.destroy()
        return solution

    def _solve_eps(self, K, M, nev, target, tol) -> list[tuple[complex, PETSc.Vec]]:
        A = linear_combination([s.mu_num.coef[0] / s.mu_den.coef[0] for s in self.slots], K)
        B = linear_combination([s.beta_num.coef[2] / s.beta_den.coef[0] for s in self.slots], M)
        # slightly below Ω_t² keeps the Γ-point zero mode off the shift
        with petsc.generalized_eigensolver(A, B, nev=nev, shift=target**2 - 1e-3, tol=tol) as eps:
            eps.solve()
            out = []
            for i in range(eps.getConverged()):
                x = A.createVecRight()
                lam = eps.getEigenpair(i, x)
                out.append((complex(np.sqrt(max(lam.real, 0.0))), x))  # Hermitian-definite: λ = Ω² ≥ 0
        A.destroy()
        B.destroy()
        return out

    def pep_operators(self, K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat] | None = None) -> list[PETSc.Mat]:
        """``A_j = Σ_s [Ω^j](Q μ_s) K_s − [Ω^j](Q Ω² ρ_s) M_s`` (theory.md §6), zero matrices trimmed."""
        coefs = self.polynomial_coefficients()
        n = max(max(len(a), len(b)) for a, b in coefs)
        mats = []
        for j in range(n):
            c = [a[j] if j < len(a) else 0.0 for a, _ in coefs] + [-b[j] if j < len(b) else 0.0 for _, b in coefs]
            mats.append(None if np.allclose(c, 0.0) else linear_combination(c, [*K, *(M or self._M_r)]))
        while mats and mats[-1] is None:
            mats.pop()
        return mats

    def _pep_operators_for_solve(self, K, M) -> tuple[list[PETSc.Mat], int | None]:
        """The auxiliary-field quadratic (constant μ-slots) or the multiplied polynomial (general recipe), and
        the local length of the physical part of an eigenvector (None: all of it)."""
        if self.auxiliary:
            return pep_auxiliary.quadratic_operators(K, M, [s.mu(1.0) for s in self.slots], self._rho_models)
        mats = self.pep_operators(K, M)
        zero = next(A for A in mats if A is not None).duplicate()
        zero.zeroEntries()
        return [A if A is not None else zero for A in mats], None

    def _solve_pep(self, K, M, nev, target, tol) -> list[tuple[complex, PETSc.Vec]]:
        ops, n_local = self._pep_operators_for_solve(K, M)
        # Only Re Ω > 0, Im Ω ≤ 0 (passive media) counts towards nev: the multiplier roots at −iΓ and the
        # mirror images −conj(Ω) would otherwise crowd out the physical frequencies near the target. Each pair
        # gets a Newton refinement (HFH needs accurate vectors).
        with petsc.polynomial_eigensolver(ops, nev=nev, target=target, tol=tol,
                                          region=PASSIVE_REGION, refine=True) as pep:
            pep.solve()
            if pep.getConvergedReason() < 0:
                raise SolverError(f"the polynomial eigenproblem did not converge (SLEPc reason "
                                  f"{pep.getConvergedReason()}, {pep.getConverged()} of {nev} pairs)")
            out = []
            for i in range(pep.getConverged()):
                y = ops[0].createVecRight()
                omega = pep.getEigenpair(i, y)
                if n_local is None:
                    out.append((complex(omega), y))
                    continue
                x = K[0].createVecRight()  # the physical block comes first on every rank
                x.array[:] = y.array_r[:n_local]
                out.append((complex(omega), x))
                y.destroy()
        for A in ops:
            A.destroy()
        return out

    def _filter(self, raw, K, M, residual_tol) -> tuple[list[Eigenpair], dict[str, int]]:
        counts = {"nonpositive_real": 0, "static": 0, "multiplier": 0, "residual": 0}
        q_scale = max(np.abs(self.Q.coef).max(), 1.0)
        pairs = []
        for omega, x in raw:
            if self.dispersive and abs(omega) < STATIC_TOL:  # for constant media Ω = 0 at Γ is the first band
                counts["static"] += 1
            elif omega.real <= 1e-9 and self.dispersive:  # mirror images, overdamped clusters on the imaginary axis
                counts["nonpositive_real"] += 1
            elif self.Q.degree() > 0 and abs(self.Q(omega)) < 1e-8 * q_scale * max(1, abs(omega)) ** self.Q.degree():
                counts["multiplier"] += 1
            else:
                res = self.residual(omega, x, K, M)
                if res > residual_tol:
                    counts["residual"] += 1
                else:
                    pairs.append(Eigenpair(omega=omega, vector=x, residual=res))
        pairs.sort(key=lambda p: p.omega.real)
        return pairs, counts

    def field(self, pair: Eigenpair) -> dolfinx.fem.Function:
        """The periodic part ``p`` of the Bloch wave ``u = e^{ik·y} p`` as a dolfinx function."""
        p = dolfinx.fem.Function(self.V)
        periodic.extend(pair.vector, self.P, p)
        return p
