"""Bloch eigenproblems on a periodic cell: constant media (SLEPc EPS) and dispersive media (SLEPc PEP).

At a fixed wave vector ``k`` the shifted form of theory.md §5 gives, per phase ``s``, the unit-coefficient
matrices ``K_s(k)`` and ``M_s`` (reduced to the periodic space with the real prolongation ``P``, built once and
reused for every ``k``). The problem is

    T(Ω) = Σ_s μ_s(Ω) K_s − Ω² ρ_s(Ω) M_s,          T(Ω) x = 0,

with the slot coefficients of theory.md §1 (TM: ``μ = 1/μ_r``, ``ρ = ε``; TE: ``μ = 1/ε``, ``ρ = μ_r``).

* Constant media: the Hermitian generalized eigenproblem ``A x = Ω² B x`` (EPS, shift-and-invert, MUMPS; or,
  with ``solver="iterative"``, the lowest bands by generalized Davidson preconditioned with GAMG, no factorization,
  for large 3D cells).
* Dispersive media (theory.md §6, general recipe): every slot coefficient is a ratio of polynomials in Ω;
  multiplying ``T`` by the product ``Q`` of the distinct denominators gives ``Q T = Σ_j Ω^j A_j``
  (:mod:`fem_homog.photonics.dispersion`), solved as a polynomial eigenproblem (PEP, TOAR, shift-and-invert).
  Its extra roots are filtered and counted by :func:`filter_eigenpairs` (theory.md §6.3).
* Lossy Drude media with constant gradient coefficients (TM with ε(Ω), TE with μ_r(Ω)): the same eigenvalues
  from a quadratic auxiliary-field linearization (:mod:`fem_homog.photonics.pep_auxiliary`) that plants no
  multiplier cluster at ``−iΓ`` and converges several times faster.

The solvers themselves are created in :mod:`fem_homog.fem.petsc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.polynomial import Polynomial

from fem_homog.cells.lattice import check_k_in_zone
from fem_homog.cells.meshing import CellMesh
from fem_homog.core.errors import SolverError, require
from fem_homog.fem import periodic, petsc
from fem_homog.fem.coefficients import phase_function
from fem_homog.forms import bloch as bloch_forms
from fem_homog.photonics import pep_auxiliary
from fem_homog.photonics.dispersion import (
    SlotPolynomials,
    is_multiplier_root,
    multiplier,
    polynomial_coefficients,
    slot_polynomials,
)
from fem_homog.photonics.materials import Phase
from fem_homog.photonics.slots import check_polarization, slot_pair

import dolfinx.fem
import dolfinx.fem.petsc
from petsc4py import PETSc
from slepc4py import SLEPc

PASSIVE_REGION = (1e-6, 1e12, -1e12, 1e-8)  # Re Ω > 0 ≥ Im Ω (re_min, re_max, im_min, im_max)
STATIC_TOL = 1e-4  # |Ω| below which a dispersive eigenvalue is a static mode (they spread around 0 numerically)

RawPairs = list[tuple[complex, PETSc.Vec]]
SOLVERS = ("direct", "iterative")
"""Eigensolvers of constant media (:class:`BlochProblem` ``solver``)."""


def linear_combination(coefficients: Sequence[complex], matrices: Sequence[PETSc.Mat]) -> PETSc.Mat:
    """``Σ c_i A_i`` for matrices that share one sparsity pattern (forms over all cells of one space)."""
    out = matrices[0].duplicate(copy=True)
    out.scale(coefficients[0])
    for c, A in zip(coefficients[1:], matrices[1:]):
        out.axpy(c, A, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
    return out


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
    certified_radius: float = 0.0
    """Every eigenvalue in the passive region closer than this to the solve's target is among ``pairs`` or
    ``filtered`` (the distance of the ``nev``-th nearest converged eigenvalue; 0: no such guarantee)."""

    @property
    def omegas(self) -> np.ndarray:
        return np.array([p.omega for p in self.pairs])


def filter_eigenpairs(raw: RawPairs, *, dispersive: bool, Q: Polynomial,
                      residual: Callable[[complex, PETSc.Vec], float],
                      residual_tol: float) -> tuple[list[Eigenpair], dict[str, int]]:
    """The physical pairs of a solve (increasing ``Re Ω``) and the counts of the others (theory.md §6.3).

    In this order: ``static`` (``|Ω| < STATIC_TOL`` in dispersive media; for constant media ``Ω = 0`` at Γ is the
    first band), ``nonpositive_real`` (mirror images ``−conj(Ω)`` and overdamped clusters on the imaginary axis,
    dispersive media), ``multiplier`` (roots of ``Q``), ``residual`` (relative residual on the rational problem
    above ``residual_tol``).
    """
    counts = {"nonpositive_real": 0, "static": 0, "multiplier": 0, "residual": 0}
    pairs = []
    for omega, x in raw:
        if dispersive and abs(omega) < STATIC_TOL:
            counts["static"] += 1
        elif omega.real <= 1e-9 and dispersive:
            counts["nonpositive_real"] += 1
        elif is_multiplier_root(Q, omega):
            counts["multiplier"] += 1
        else:
            res = residual(omega, x)
            if res > residual_tol:
                counts["residual"] += 1
            else:
                pairs.append(Eigenpair(omega=omega, vector=x, residual=res))
    pairs.sort(key=lambda p: p.omega.real)
    return pairs, counts


EIGENVALUE_RTOL = 1e-8
"""Relative round-off (to the largest ``|λ|`` of a solve) within which a constant-media ``λ = Ω²`` may be
slightly negative (clamped to 0, the Γ zero mode) or carry an imaginary part (dropped); beyond it the
Hermitian-definite problem is broken (an indefinite ``B``, a non-Hermitian ``A``) and the solve is an error."""


def _eps_pairs(A: PETSc.Mat, B: PETSc.Mat, *, nev: int, target: float, tol: float,
               solver: str = "direct") -> RawPairs:
    """``Ω = sqrt(λ)`` and eigenvectors of the Hermitian-definite ``A x = λ B x`` nearest ``λ = target²``
    (``solver = "direct"``: shift-and-invert with MUMPS) or the ``nev`` lowest (``"iterative"``:
    :func:`_iterative_pairs`, ``target`` 0 only).

    Never more than the size of the problem is asked for (a smaller ``nev`` then gives fewer pairs, which the
    caller counts as missing). Raises :class:`SolverError` if the EPS did not converge (negative SLEPc reason),
    converged fewer than the ``nev`` pairs it was asked for, or returned a negative or complex ``λ`` beyond
    round-off (:data:`EIGENVALUE_RTOL`).
    """
    nev = min(nev, A.getSize()[0])
    if solver == "iterative":
        raw = _iterative_pairs(A, B, nev=nev, tol=tol)
    else:
        # slightly below Ω_t² keeps the Γ-point zero mode off the shift
        with petsc.generalized_eigensolver(A, B, nev=nev, shift=target**2 - 1e-3, tol=tol) as eps:
            raw = _converged_pairs(eps, A, nev)
    scale = max([abs(lam) for lam, _ in raw] + [target**2])
    out = []
    for lam, x in raw:
        if lam.real < -EIGENVALUE_RTOL * scale or abs(lam.imag) > EIGENVALUE_RTOL * scale:
            raise SolverError(f"the Hermitian-definite Bloch eigenproblem returned λ = Ω² = {lam:.6g}, negative "
                              f"or complex beyond round-off (scale {scale:.3g}): are the coefficients positive?")
        out.append((complex(np.sqrt(max(lam.real, 0.0))), x))  # λ = Ω² ≥ 0 up to round-off
    return out


def _converged_pairs(eps: SLEPc.EPS, A: PETSc.Mat, nev: int) -> list[tuple[complex, PETSc.Vec]]:
    """``(λ, x)`` of a solved EPS; :class:`SolverError` if it did not converge or found fewer than ``nev``."""
    eps.solve()
    reason, nconv = eps.getConvergedReason(), eps.getConverged()
    if reason < 0:
        raise SolverError(f"the Bloch eigenproblem did not converge (SLEPc reason {reason}, {nconv} of {nev} "
                          f"pairs after {eps.getIterationNumber()} iterations)")
    if nconv < nev:
        raise SolverError(f"the Bloch eigenproblem converged {nconv} of the {nev} pairs asked for "
                          f"(SLEPc reason {reason})")
    raw = []
    for i in range(nconv):
        x = A.createVecRight()
        raw.append((complex(eps.getEigenpair(i, x)), x))
    return raw


KERNEL_RTOL = 1e-12
"""``‖A 1‖ ≤ KERNEL_RTOL ‖A‖ ‖1‖``: the constant is in the kernel of the stiffness (Γ, periodic space)."""


def _constant_kernel(A: PETSc.Mat, B: PETSc.Mat) -> PETSc.Vec | None:
    """The ``B``-normalized constant vector if ``A`` annihilates it (the Γ zero mode), else None."""
    one, image = A.createVecRight(), A.createVecLeft()
    one.set(1.0)
    A.mult(one, image)
    if image.norm() > KERNEL_RTOL * A.norm(PETSc.NormType.INFINITY) * one.norm():
        one.destroy()
        return None
    B.mult(one, image)
    one.scale(1.0 / np.sqrt(abs(one.dot(image))))
    image.destroy()
    return one


def _iterative_pairs(A: PETSc.Mat, B: PETSc.Mat, *, nev: int, tol: float) -> list[tuple[complex, PETSc.Vec]]:
    """``(λ, x)`` of the ``nev`` lowest eigenvalues without a factorization (:func:`petsc.preconditioned_eigensolver`,
    theory.md §5). At Γ the constant (``λ = 0``, where a relative convergence test cannot be met) is deflated and
    returned as the first pair."""
    kernel = _constant_kernel(A, B)
    raw = [] if kernel is None else [(0j, kernel)]
    wanted = nev - len(raw)
    if wanted > 0:
        deflation = [] if kernel is None else [kernel]
        with petsc.preconditioned_eigensolver(A, B, nev=wanted, tol=tol, deflation=deflation) as eps:
            raw += _converged_pairs(eps, A, wanted)
    return raw


def pep_pairs(ops: Sequence[PETSc.Mat], physical: PETSc.Mat, n_local: int | None, *, nev: int, target: float,
              tol: float, refine: bool = True) -> RawPairs:
    """Eigenpairs of ``Σ_j Ω^j A_j`` in the passive region, with their vectors cut to the first ``n_local`` rows
    (the physical block of a linearization; None: all of them) in vectors laid out like ``physical``'s columns.

    Only Re Ω > 0, Im Ω ≤ 0 (passive media) counts towards nev: the multiplier roots at −iΓ and the mirror
    images −conj(Ω) would otherwise crowd out the physical frequencies near the target. With ``refine`` each pair
    gets a Newton refinement (HFH needs accurate vectors; one factorization per pair).
    """
    with petsc.polynomial_eigensolver(ops, nev=nev, target=target, tol=tol, region=PASSIVE_REGION,
                                      refine=refine) as pep:
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
            x = physical.createVecRight()  # the physical block comes first on every rank
            x.array[:] = y.array_r[:n_local]
            out.append((complex(omega), x))
            y.destroy()
    return out


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
    solver
        Eigensolver of constant media: ``"direct"`` (shift-and-invert with MUMPS, the ``nev`` eigenvalues
        nearest ``target``) or ``"iterative"`` (preconditioned generalized Davidson with GAMG, no factorization:
        the ``nev`` lowest eigenvalues, for large 3D cells; ``target`` must be 0). Dispersive media need
        ``"direct"``.

    Attributes
    ----------
    cell
        The cell mesh (its geometry gives the cell's point group, :mod:`fem_homog.cells.symmetry`).
    V, k, indicators
        The Lagrange space, the shift constant of the stiffness forms and the phase indicator functions.
    pmap, P
        The periodic map of the cell and the real prolongation of the periodic space.
    slots, Q, dispersive, auxiliary
        The slot fractions per phase, their multiplier, whether any coefficient depends on Ω, and whether the
        auxiliary-field quadratic is used (:mod:`fem_homog.photonics.pep_auxiliary`).
    mass
        The reduced per-phase mass matrices ``M_s``.
    """

    def __init__(self, cell: CellMesh, phases: Sequence[Phase], *, polarization: str = "TM", degree: int = 2,
                 solver: str = "direct"):
        check_polarization(polarization)
        require(solver in SOLVERS, f"unknown {{argument}} '{solver}' (known: {', '.join(SOLVERS)})", argument="solver")
        self.solver = solver
        mesh, cell_tags = cell.mesh, cell.cell_tags
        self.cell, self.mesh, self.phases, self.polarization = cell, mesh, list(phases), polarization
        self.V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
        self.k = dolfinx.fem.Constant(mesh, np.zeros(mesh.geometry.dim, dtype=PETSc.ScalarType))
        self._stiffness, self._mass, self.indicators = [], [], []
        for phase in self.phases:
            chi = phase_function(mesh, cell_tags, {p.tag: float(p.tag == phase.tag) for p in self.phases})
            self.indicators.append(chi)
            self._stiffness.append(dolfinx.fem.form(bloch_forms.bloch_stiffness(self.V, self.k, chi)))
            self._mass.append(dolfinx.fem.form(bloch_forms.bloch_mass(self.V, chi)))
        self.pmap = periodic.periodic_map(self.V, cell.geometry.lattice_vectors)
        self.P = periodic.prolongation(self.pmap)
        self.slots: list[SlotPolynomials] = [slot_polynomials(p, polarization) for p in self.phases]
        self.dispersive = any(not (p.eps.is_constant and p.mu_r.is_constant) for p in self.phases)
        self.Q = multiplier(self.slots)
        self._mu_models, self._rho_models = zip(*(slot_pair(p.eps, p.mu_r, polarization) for p in self.phases))
        require(solver == "direct" or not self.dispersive,
                "the iterative eigensolver is for constant media; dispersive ones need {argument} = 'direct'",
                argument="solver")
        self.auxiliary = self.dispersive and pep_auxiliary.applies(list(self._mu_models), list(self._rho_models))
        self.mass = [self.reduce(form) for form in self._mass]
        self._unit_mass = linear_combination([1.0] * len(self.mass), self.mass)

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
        return polynomial_coefficients(self.slots, self.Q)

    def pep_operators(self, K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat] | None = None) -> list[PETSc.Mat | None]:
        """``A_j = Σ_s [Ω^j](Q μ_s) K_s − [Ω^j](Q Ω² ρ_s) M_s`` (theory.md §6), zero matrices as None and
        trailing ones trimmed."""
        coefs = self.polynomial_coefficients()
        n = max(max(len(a), len(b)) for a, b in coefs)
        mats = []
        for j in range(n):
            c = [a[j] if j < len(a) else 0.0 for a, _ in coefs] + [-b[j] if j < len(b) else 0.0 for _, b in coefs]
            mats.append(None if np.allclose(c, 0.0) else linear_combination(c, [*K, *(M or self.mass)]))
        while mats and mats[-1] is None:
            mats.pop()
        return mats

    def residual(self, omega: complex, x: PETSc.Vec, K: Sequence[PETSc.Mat],
                 M: Sequence[PETSc.Mat] | None = None) -> float:
        """Relative residual on the rational (unmultiplied) problem:
        ``‖T(Ω)x‖ / (Σ_s (|μ_s| ‖K_s‖ + |Ω²ρ_s| ‖M_s‖) ‖x‖)``."""
        y, tmp = x.duplicate(), x.duplicate()
        y.set(0.0)
        scale = 0.0
        for s, Ks, Ms in zip(self.slots, K, M or self.mass):
            mu, beta = s.mu(omega), s.beta(omega)
            Ks.mult(x, tmp)
            y.axpy(mu, tmp)
            Ms.mult(x, tmp)
            y.axpy(-beta, tmp)
            scale += abs(mu) * Ks.norm() + abs(beta) * Ms.norm()
        return y.norm() / (scale * x.norm())

    def velocity_bound(self) -> float | None:
        """A bound on ``|dΩ/dk|`` of the bands (units of c) when the ``μ``-slots are constant and positive and the
        ``ρ``-slots are Drude/Lorentz with ``ε_∞ > 0`` (TM with ε(Ω), TE with μ_r(Ω)): ``√(max μ_s / min ε_∞,s)``.
        Hellmann–Feynman on the lossless problem, ``dΩ/dk = Σ μ_s x^H ∂_k K_s x / Σ x^H ∂_Ω(Ω²ρ_s) M_s x``, with
        ``|x^H ∂_k K_s x| ≤ 2 √(x^H K_s x) ‖x‖_{M_s}`` (the shifted form), Cauchy–Schwarz and
        ``∂_Ω(Ω²ρ_s) ≥ 2Ω max(ε_∞,s, ρ_s)`` (Drude terms, Lorentz terms with Δε ≥ 0); losses move it at first order in
        Γ. None when this does not apply."""
        if not all(m.is_constant for m in self._mu_models) or any(d < 0 for m in self._rho_models
                                                                   for d, _, _ in m.lorentz):
            return None
        mu = [s.mu(1.0).real for s in self.slots]
        rho_inf = [m.eps_inf for m in self._rho_models]
        if min(mu) <= 0 or min(rho_inf) <= 0:
            return None
        return float(np.sqrt(max(mu) / min(rho_inf)))

    def unit_mass(self) -> PETSc.Mat:
        """``Σ_s M_s``: the L² Gram matrix of the reduced space (for overlaps of eigenvectors)."""
        return self._unit_mass

    # -- solvers -----------------------------------------------------------------------------------------
    def solve(self, k: Sequence[float], *, nev: int = 6, target: float = 0.0, tol: float = 1e-10,
              residual_tol: float = 1e-6, refine: bool = True) -> BlochSolution:
        """Eigenfrequencies ``Ω`` nearest ``target`` (non-dimensional ``ω a / c``) at wave vector ``k``;
        ``refine``: Newton refinement of dispersive pairs (:func:`pep_pairs`)."""
        K = self.stiffness(k)
        solution = self.eigenpairs(k, K, self.mass, nev=nev, target=target, tol=tol, residual_tol=residual_tol,
                                   refine=refine)
        for A in K:
            A.destroy()
        return solution

    def eigenpairs(self, k: Sequence[float], K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat], *, nev: int = 6,
                   target: float = 0.0, tol: float = 1e-10, residual_tol: float = 1e-6,
                   refine: bool = True) -> BlochSolution:
        """Physical eigenpairs of ``Σ_s μ_s(Ω) K_s − Ω² ρ_s(Ω) M_s`` for given reduced operators (shifted
        periodic ones from :meth:`stiffness`, or quasi-periodic ones): EPS for constant media, PEP otherwise."""
        raw = self._raw_pairs(K, M, nev=nev, target=target, tol=tol, refine=refine)
        pairs, filtered = filter_eigenpairs(raw, dispersive=self.dispersive, Q=self.Q, residual_tol=residual_tol,
                                            residual=lambda omega, x: self.residual(omega, x, K, M))
        distances = sorted(abs(omega - target) for omega, _ in raw)
        radius = distances[nev - 1] if self.dispersive and len(distances) >= nev else 0.0
        return BlochSolution(k=np.asarray(k, dtype=float), pairs=pairs, filtered=filtered, certified_radius=radius)

    def solve_quasi_periodic(self, k: Sequence[float], *, nev: int = 6, target: float = 0.0,
                             tol: float = 1e-10) -> BlochSolution:
        """Cross-check of :meth:`solve`: the unshifted operator on the quasi-periodic space (theory.md §5.1).
        Its eigenvectors are the full Bloch waves ``u``, not their periodic parts."""
        K, M, P_k = self.quasi_periodic_operators(k)
        solution = self.eigenpairs(k, K, M, nev=nev, target=target, tol=tol)
        for A in [*K, *M, P_k]:
            A.destroy()
        return solution

    def _raw_pairs(self, K: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat], *, nev: int, target: float,
                   tol: float, refine: bool = True) -> RawPairs:
        """All converged pairs of the eigensolver this medium needs, before filtering."""
        if not self.dispersive:
            require(self.solver == "direct" or target == 0.0,
                    f"the iterative eigensolver computes the lowest bands: {{argument}} must be 0, got {target}",
                    argument="target")
            mu, rho = zip(*(s.static_values for s in self.slots))
            A, B = linear_combination(mu, K), linear_combination(rho, M)
            ops, n_local = [A, B], None
            out = _eps_pairs(A, B, nev=nev, target=target, tol=tol, solver=self.solver)
        else:
            ops, n_local = self._pep_operators_for_solve(K, M)
            out = pep_pairs(ops, K[0], n_local, nev=nev, target=target, tol=tol, refine=refine)
        for A in ops:
            A.destroy()
        return out

    def _pep_operators_for_solve(self, K, M) -> tuple[list[PETSc.Mat], int | None]:
        """The auxiliary-field quadratic (constant μ-slots) or the multiplied polynomial (general recipe), and
        the local length of the physical part of an eigenvector (None: all of it)."""
        if self.auxiliary:
            return pep_auxiliary.quadratic_operators(K, M, [s.mu(1.0) for s in self.slots], self._rho_models)
        mats = self.pep_operators(K, M)
        if all(A is not None for A in mats):
            return mats, None
        zero = next(A for A in mats if A is not None).duplicate()
        zero.zeroEntries()
        return [A if A is not None else zero for A in mats], None

    def field(self, pair: Eigenpair) -> dolfinx.fem.Function:
        """The periodic part ``p`` of the Bloch wave ``u = e^{ik·y} p`` as a dolfinx function."""
        p = dolfinx.fem.Function(self.V)
        periodic.extend(pair.vector, self.P, p)
        return p
