"""3D vector Maxwell Bloch modes on Nédélec elements, constant and dispersive media (theory.md §11).

The forms of :mod:`fem_homog.forms.maxwell` give, per phase ``s``, the unit-coefficient curl stiffness ``A_s``,
mass ``M_s`` and gauge rows ``C_s`` (``= G^T M_s``, ``G`` the discrete gradient of the Lagrange space of the same
degree), reduced to the quasi-periodic H(curl) and Lagrange spaces of ``k`` with the entity prolongations of
:mod:`fem_homog.fem.prolongation` (``G P_{W,k} = P_k G_k`` exactly).

* Constant media: ``A = Σ_s A_s/μ_s``, ``B = Σ_s ε_s M_s``, ``C = Σ_s ε_s C_s`` and the mixed (Kikuchi) pencil

      [A  C^H] [u]       [B  0] [u]
      [C   0 ] [p]  = λ  [0  0] [p],      λ = Ω²,

  whose finite eigenvalues are those of ``A u = λ B u`` on fields ε-orthogonal to every gradient: the gradient
  kernel is never computed (EPS, shift-and-invert, MUMPS). At Γ the constant Lagrange function is dropped from
  the multiplier space, and of the three curl-free fields ε-orthogonal to gradients left at ``Ω = 0`` two are
  reported as the two transverse bands' zero, the third (longitudinal) is counted as ``static``.
* Dispersive media (any Drude/Lorentz poles in ε and μ_r): the same pencil with the slot polynomials of
  theory.md §6 (TM slots ``μ = 1/μ_r``, ``ρ = ε``) multiplied through by ``Q``: blocks
  ``Q μ_s A_s − Q Ω² ε_s M_s`` and gauge rows ``Q Ω² ε_s C_s / Ω^m`` (``Ω^m`` the power of ``Ω`` common to all
  ``Q Ω² ε_s``, the multiplier rescaled by it), a PEP. Where some ``ε_s(Ω) = 0`` the gradients supported in that
  phase solve it (longitudinal modes, e.g. the bulk plasmon): they are recognised as curl-free and counted as
  ``longitudinal``, never returned as bands. ``Ω = 0`` is an eigenvalue of curl-free fields (``β = Ω² ε``
  vanishes); without the ``1/Ω^m`` it is a huge, defective cluster that the eigensolver spreads over
  ``|Ω| ~ √(solver error)`` and that stalls TOAR at low targets. Members left (Γ, lossless Drude) are counted as
  ``static``: a pair whose vector solves the problem at ``Ω = 0`` about as well as at its own ``Ω``
  (:data:`STATIC_RESOLUTION`). The target must be positive.

``filtered["kernel"]`` is the exact dimension of the gradient space removed by the constraint. The eigenvectors
returned hold the dofs of the periodic part ``u = exp(-i k·x) E`` (phase referred to each dof's entity midpoint),
so that overlaps connect bands across k-points as for the scalar problem; :meth:`MaxwellBlochProblem.field`
gives ``E``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.cells.lattice import check_k_in_zone
from fem_homog.cells.meshing import CellMesh
from fem_homog.core.errors import SolverError, require
from fem_homog.fem import periodic, petsc, prolongation
from fem_homog.fem.coefficients import phase_function
from fem_homog.forms import maxwell as maxwell_forms
from fem_homog.photonics.bloch import (
    EIGENVALUE_RTOL,
    BlochSolution,
    Eigenpair,
    filter_eigenpairs,
    linear_combination,
    pep_pairs,
)
from fem_homog.photonics.dispersion import multiplier, polynomial_coefficients, slot_polynomials
from fem_homog.photonics.materials import Phase

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
from petsc4py import PETSc

STATIC_RTOL = 1e-8  # λ/max λ below which a Γ-point pair is one of the three static (harmonic) fields
LONGITUDINAL_RTOL = 1e-8  # curl energy / (|Ω|² L² energy) below which a dispersive pair is longitudinal
SUBSPACE_EXTRA = 24  # Krylov subspace beyond nev: plane waves of cubic cells are up to 12-fold degenerate
GRADIENT_RTOL = 1e-8  # ‖C u‖ / (‖C‖ ‖u‖) above which an eigenvector is not ε-orthogonal to the gradients
STATIC_RESOLUTION = 10.0
"""A dispersive pair belongs to the ``Ω = 0`` (static) cluster unless ``‖T(Ω) e‖`` is this many times smaller than
``‖T(0) e‖``: its frequency is then not resolved from 0 (theory.md §11.3, static cluster)."""


def _assemble(form) -> PETSc.Mat:
    A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form))
    A.assemble()
    return A


def _is_gamma(k: Sequence[float]) -> bool:
    return bool(np.allclose(k, 0.0, atol=1e-14))


def _drop_first_column(P: PETSc.Mat) -> PETSc.Mat:
    """``P`` without its first (global) column: the Lagrange space with the constant function removed."""
    lo, hi = P.getOwnershipRangeColumn()
    keep = PETSc.IS().createGeneral(np.arange(max(lo, 1), hi, dtype=PETSc.IntType), comm=P.getComm())
    rows = PETSc.IS().createGeneral(np.arange(*P.getOwnershipRange(), dtype=PETSc.IntType), comm=P.getComm())
    return P.createSubMatrix(rows, keep)


def _saddle(top_left: PETSc.Mat, top_right: PETSc.Mat | None, bottom_left: PETSc.Mat | None, *,
            like: tuple[PETSc.Mat, PETSc.Mat] | None = None) -> tuple[PETSc.Mat, PETSc.IS]:
    """``[[top_left, top_right], [bottom_left, 0]]`` as one AIJ matrix (the ``u`` block first on every rank) and
    the index set of its first block; missing off-diagonal blocks are zero matrices shaped like ``like``."""
    comm = top_left.getComm()
    zeros = []
    if top_right is None:
        top_right, bottom_left = (m.duplicate(copy=False) for m in like)
        for m in (top_right, bottom_left):
            m.zeroEntries()
        zeros = [top_right, bottom_left]
    n_local, n_global = bottom_left.getSizes()[0]
    Z = _zero_square(n_local, n_global, comm)
    nest = PETSc.Mat().createNest([[top_left, top_right], [bottom_left, Z]], comm=comm)
    split = nest.getNestISs()[0][0].duplicate()
    out = nest.convert("aij", PETSc.Mat())
    for mat in (nest, Z, *zeros):
        mat.destroy()
    return out, split


def _is_longitudinal(omega: complex, e: PETSc.Vec, A: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat]) -> bool:
    """Whether a dispersive eigenvector is curl-free (a gradient: the longitudinal modes where some ε(Ω) = 0,
    theory.md §11.3), or has no field part at all."""
    tmp = e.duplicate()
    curl = mass = 0.0
    for A_s, M_s in zip(A, M):
        A_s.mult(e, tmp)
        curl += abs(e.dot(tmp))
        M_s.mult(e, tmp)
        mass += abs(e.dot(tmp))
    tmp.destroy()
    return curl <= LONGITUDINAL_RTOL * abs(omega) ** 2 * mass


def _common_zero_order(polynomials: Sequence[np.ndarray]) -> int:
    """The largest ``m`` such that ``Ω^m`` divides every polynomial (coefficients in increasing powers): 2 for
    constant and Lorentz ``QΩ²ε``, 1 with a lossy Drude term, 0 with a lossless one (``Ω²ε(0) = −Ω_p²``)."""
    return min(int(np.flatnonzero(np.abs(c) > 0)[0]) for c in polynomials if np.any(np.abs(c) > 0))


def _zero_square(n_local: int, n_global: int, comm) -> PETSc.Mat:
    """An ``n × n`` AIJ matrix holding explicit zeros on its diagonal (a place for the multiplier block)."""
    lo = comm.tompi4py().exscan(n_local) or 0
    csr = (np.arange(n_local + 1, dtype=PETSc.IntType), np.arange(lo, lo + n_local, dtype=PETSc.IntType),
           np.zeros(n_local, dtype=PETSc.ScalarType))
    return PETSc.Mat().createAIJ(size=((n_local, n_global), (n_local, n_global)), csr=csr, comm=comm)


class MaxwellBlochProblem:
    """The vector Maxwell Bloch eigenproblem of a periodic 3D cell, reusable across ``k``.

    The unshifted per-phase matrices are assembled once; each ``k`` only reduces them with the quasi-periodic
    prolongations ``P_k`` of the N1curl and Lagrange spaces (theory.md §11.1).

    Parameters
    ----------
    mesh, cell_tags, lattice
        A periodic 3D cell mesh (matching opposite faces; order 1 or 2), its phase tags and lattice vectors.
    phases
        One :class:`Phase` per tag present in the mesh (constant or dispersive ``eps`` and ``mu_r``).
    degree
        Nédélec (first kind) degree, 1 or 2; the multiplier space is Lagrange of the same degree.

    Attributes
    ----------
    V, W
        The N1curl space of ``E`` and the Lagrange space of the multiplier.
    emap, emap_W
        Their periodic entity maps (:mod:`fem_homog.fem.prolongation`).
    """

    def __init__(self, mesh: dolfinx.mesh.Mesh, cell_tags: dolfinx.mesh.MeshTags, lattice: np.ndarray,
                 phases: Sequence[Phase], *, degree: int = 1):
        require(mesh.geometry.dim == 3, "vector Maxwell bands need a 3D cell ({argument} = 3)", argument="dim")
        require(degree in (1, 2), f"must be 1 or 2, got {degree}", argument="degree")
        self.mesh, self.phases, self.lattice = mesh, list(phases), np.asarray(lattice, dtype=float)
        self.dispersive = any(not (p.eps.is_constant and p.mu_r.is_constant) for p in self.phases)
        self.slots = [slot_polynomials(p, "TM") for p in self.phases]  # TM slots: μ = 1/μ_r, ρ = ε (§1)
        self.Q = multiplier(self.slots)
        self.V = dolfinx.fem.functionspace(mesh, ("N1curl", degree))
        self.W = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
        q = 2 * degree + 2 * (mesh.geometry.cmaps[0].degree - 1)  # exact on affine cells; one rule for M_s and C_s
        curl, mass, gauge = [], [], []
        for phase in self.phases:
            chi = phase_function(mesh, cell_tags, {p.tag: float(p.tag == phase.tag) for p in self.phases})
            curl.append(_assemble(maxwell_forms.curl_stiffness(self.V, chi)))
            mass.append(_assemble(maxwell_forms.vector_mass(self.V, chi, quadrature_degree=q)))
            gauge.append(_assemble(maxwell_forms.gauge_constraint(self.V, self.W, chi, quadrature_degree=q)))
        self._phase_matrices = (curl, mass, gauge)
        if not self.dispersive:
            inv_mu, eps = zip(*(s.static_values for s in self.slots))  # 1/μ_r and ε
            self._A, self._B, self._C = (linear_combination(c, m)
                                         for c, m in zip((inv_mu, eps, eps), (curl, mass, gauge)))
        self._M = linear_combination([1.0] * len(mass), mass)
        self.emap = prolongation.periodic_entity_map(self.V, self.lattice)
        self.emap_W = prolongation.periodic_entity_map(self.W, self.lattice)
        P = prolongation.prolongation(self.emap)
        self._unit_mass = periodic.reduce_matrix(self._M, P)
        P.destroy()
        self._dof_x = prolongation.reduced_dof_positions(self.emap)

    @classmethod
    def from_cell(cls, cell: CellMesh, phases: Sequence[Phase], *, degree: int = 1) -> MaxwellBlochProblem:
        """The problem on a meshed :class:`CellMesh` (its lattice vectors)."""
        return cls(cell.mesh, cell.cell_tags, cell.geometry.lattice_vectors, phases, degree=degree)

    # -- operators ---------------------------------------------------------------------------------------
    def prolongations(self, k: Sequence[float]) -> tuple[PETSc.Mat, PETSc.Mat]:
        """Quasi-periodic ``P_k`` of the N1curl space and of the Lagrange multiplier space (without the
        constant function at Γ)."""
        check_k_in_zone(k, self.lattice)
        P_W = prolongation.prolongation(self.emap_W, k)
        if _is_gamma(k):
            P_W0 = _drop_first_column(P_W)
            P_W.destroy()
            P_W = P_W0
        return prolongation.prolongation(self.emap, k), P_W

    def operators(self, k: Sequence[float]) -> tuple[PETSc.Mat, PETSc.Mat, PETSc.Mat, PETSc.Mat]:
        """Reduced ``A = Σ A_s/μ_s``, ``B = Σ ε_s M_s``, the gauge constraint ``C = Σ ε_s C_s`` (multiplier
        rows) on the quasi-periodic spaces of ``k``, and ``P_k`` (N1curl)."""
        P, P_W = self.prolongations(k)
        A, B = periodic.reduce_matrix(self._A, P), periodic.reduce_matrix(self._B, P)
        CP = self._C.matMult(P)
        C = P_W.hermitianTranspose(PETSc.Mat()).matMult(CP)
        CP.destroy()
        P_W.destroy()
        return A, B, C, P

    def unit_mass(self) -> PETSc.Mat:
        """``Σ_s M_s``: the L² Gram matrix of the reduced N1curl space (band connection overlaps)."""
        return self._unit_mass

    def velocity_bound(self) -> None:
        """No band continuation (:mod:`fem_homog.photonics.bands`): constant media are solved in full at every k."""
        return None

    def kernel_dimension(self, k: Sequence[float]) -> int:
        """Dimension of the discrete gradient space ``∇W_{h,k}`` (quasi-periodic Lagrange): its dofs, minus 1 at Γ."""
        return self.emap_W.num_reduced_global - int(_is_gamma(k))

    # -- solver ------------------------------------------------------------------------------------------
    def solve(self, k: Sequence[float], *, nev: int = 6, target: float = 0.0, tol: float = 1e-10,
              residual_tol: float = 1e-6) -> BlochSolution:
        """The ``nev`` eigenfrequencies ``Ω`` (``ω a / c``) nearest ``target`` at wave vector ``k``, with
        ``filtered = {"kernel": gradient-space dimension, "static": dropped Γ zero fields, "residual": 0}``
        (constant media) or the counts of :func:`~fem_homog.photonics.bloch.filter_eigenpairs` plus ``kernel``
        and ``longitudinal``, with the unresolved members of the ``Ω = 0`` cluster in ``static`` (dispersive
        media: complex Ω, residuals on the rational problem, ``target > 0``; fewer than ``nev`` pairs when some
        were filtered).

        Raises
        ------
        InputError
            If ``target ≤ 0`` in dispersive media.
        SolverError
            If the EPS fails, converges fewer pairs than asked, returns a negative/complex ``λ`` beyond round-off,
            an eigenvector that is not ε-orthogonal to the gradients or a residual above ``residual_tol``
            (constant media); if the PEP fails (dispersive media).
        """
        if self.dispersive:
            return self._solve_dispersive(k, nev=nev, target=target, tol=tol, residual_tol=residual_tol)
        gamma = _is_gamma(k)
        A, B, C, P = self.operators(k)
        K, M, split = self._mixed(A, B, C)
        raw = self._eps_pairs(K, M, split, nev=nev + int(gamma), target=target, tol=tol)
        scale = max(abs(lam) for lam, _ in raw)
        pairs, static = [], 0
        for lam, u in raw:
            is_static = gamma and lam.real < STATIC_RTOL * scale
            if is_static and sum(p.omega == 0.0 for p in pairs) >= 2:
                static += 1
                continue
            omega = 0j if is_static else complex(np.sqrt(max(lam.real, 0.0)))
            self._check_gauge(C, u)
            res = self.residual(A, B, lam, u)
            if res > residual_tol:
                raise SolverError(f"a vector Maxwell eigenpair at Ω = {omega:.6g} has residual {res:.2e}")
            pairs.append(Eigenpair(omega=omega, vector=u, residual=res))
        pairs.sort(key=lambda p: p.omega.real)
        for mat in (A, B, C, P, K, M):
            mat.destroy()
        filtered = {"kernel": self.kernel_dimension(k), "static": static, "residual": 0}
        return BlochSolution(k=np.asarray(k, dtype=float), pairs=self._periodic_parts(pairs[:nev], k, -1),
                             filtered=filtered)

    def _mixed(self, A: PETSc.Mat, B: PETSc.Mat, C: PETSc.Mat) -> tuple[PETSc.Mat, PETSc.Mat, PETSc.IS]:
        """The monolithic (AIJ) Kikuchi pencil and the index set of the ``u`` block."""
        CH = C.hermitianTranspose(PETSc.Mat())
        K, split = _saddle(A, CH, C)
        M, _ = _saddle(B, None, None, like=(CH, C))
        CH.destroy()
        return K, M, split

    def _phase_operators(self, k: Sequence[float]) -> tuple[list[PETSc.Mat], ...]:
        """Per phase, the reduced ``A_s``, ``M_s``, ``C_s`` and ``C_s^H`` on the quasi-periodic spaces of ``k``."""
        P, P_W = self.prolongations(k)
        P_W_H = P_W.hermitianTranspose(PETSc.Mat())
        curl, mass, gauge = self._phase_matrices
        A = [periodic.reduce_matrix(m, P) for m in curl]
        M = [periodic.reduce_matrix(m, P) for m in mass]
        C = []
        for m in gauge:
            CP = m.matMult(P)
            C.append(P_W_H.matMult(CP))
            CP.destroy()
        CH = [c.hermitianTranspose(PETSc.Mat()) for c in C]
        for mat in (P, P_W, P_W_H):
            mat.destroy()
        return A, M, C, CH

    def _solve_dispersive(self, k: Sequence[float], *, nev: int, target: float, tol: float,
                          residual_tol: float) -> BlochSolution:
        """Dispersive phases (theory.md §11.3): the matrix polynomial ``Σ_j Ω^j K_j`` of the mixed pencil with the
        blocks ``Σ_s [Ω^j](Qμ_s) A_s − [Ω^j](QΩ²ε_s) M_s`` and gauge rows ``Σ_s [Ω^{j+m}](QΩ²ε_s) C_s`` (``Ω^m``
        divides every ``QΩ²ε_s``: the constraint row divided by it, the multiplier scaled by it), by PEP."""
        require(target > 0, f"must be positive for dispersive vector Maxwell bands, got {target}: the static fields "
                            "make the polynomial singular at Ω = 0", argument="target")
        A, M, C, CH = self._phase_operators(k)
        coefs = polynomial_coefficients(self.slots, self.Q)
        m = _common_zero_order([b for _, b in coefs])
        ops = []
        for j in range(max(max(len(a), len(b)) for a, b in coefs)):
            mu = [a[j] if j < len(a) else 0.0 for a, _ in coefs]
            beta = [b[j] if j < len(b) else 0.0 for _, b in coefs]
            gauge = [b[j + m] if j + m < len(b) else 0.0 for _, b in coefs]
            blocks = (linear_combination(mu + [-b for b in beta], A + M), linear_combination(gauge, CH),
                      linear_combination(gauge, C))
            ops.append(_saddle(*blocks)[0])
            for mat in blocks:
                mat.destroy()
        n_local = A[0].getLocalSize()[0]
        raw = pep_pairs(ops, A[0], n_local, nev=nev, target=target, tol=tol, refine=False)
        at_rest = self._rational_operator(0.0, A, M)[0]  # T(0), once for all pairs
        kinds = [self._unphysical_kind(omega, e, A, M, at_rest) for omega, e in raw]
        at_rest.destroy()
        physical = [pair for pair, kind in zip(raw, kinds) if kind is None]
        pairs, filtered = filter_eigenpairs(physical, dispersive=True, Q=self.Q, residual_tol=residual_tol,
                                            residual=lambda omega, e: self._rational_residual(omega, e, A, M))
        filtered.update(kernel=self.kernel_dimension(k), longitudinal=kinds.count("longitudinal"),
                        static=filtered["static"] + kinds.count("static"))
        for mat in [*A, *M, *C, *CH, *ops]:
            mat.destroy()
        return BlochSolution(k=np.asarray(k, dtype=float), pairs=self._periodic_parts(pairs[:nev], k, -1),
                             filtered=filtered)

    def _periodic_parts(self, pairs: list[Eigenpair], k: Sequence[float], sign: int) -> list[Eigenpair]:
        """Multiply each pair's reduced dofs by ``exp(sign i k·x)`` (``x`` the dof's master entity midpoint) in
        place: ``sign = -1`` turns the dofs of ``E`` into those of its periodic part ``u = exp(-i k·x) E``, whose
        overlaps connect bands between k-points (theory.md §5.2), ``+1`` undoes it."""
        phase = np.exp(sign * 1j * (self._dof_x @ np.asarray(k, dtype=float)))
        for pair in pairs:
            pair.vector.array[:] = pair.vector.array * phase
        return pairs

    def _unphysical_kind(self, omega: complex, e: PETSc.Vec, A: Sequence[PETSc.Mat], M: Sequence[PETSc.Mat],
                         at_rest: PETSc.Mat) -> str | None:
        """``"longitudinal"`` for a curl-free pair where some ``ε(Ω) = 0``, ``"static"`` for a member of the
        ``Ω = 0`` cluster (``‖T(0) e‖ ≤ STATIC_RESOLUTION ‖T(Ω) e‖``: the vector solves the problem at ``Ω = 0`` as
        well as at its own ``Ω``; ``at_rest`` is ``T(0)``), None for a physical pair (theory.md §11.3)."""
        if _is_longitudinal(omega, e, A, M):
            return "longitudinal"
        y = at_rest.createVecLeft()
        at_rest.mult(e, y)
        image_at_rest = y.norm()
        y.destroy()
        if image_at_rest <= STATIC_RESOLUTION * self._rational_image(omega, e, A, M)[0]:
            return "static"
        return None

    def _rational_image(self, omega: complex, e: PETSc.Vec, A: Sequence[PETSc.Mat],
                        M: Sequence[PETSc.Mat]) -> tuple[float, float]:
        """``‖T(Ω) e‖`` and the scale of :meth:`_rational_operator`."""
        T, scale = self._rational_operator(omega, A, M)
        y = T.createVecLeft()
        T.mult(e, y)
        image = y.norm()
        for obj in (T, y):
            obj.destroy()
        return image, scale

    def _rational_operator(self, omega: complex, A: Sequence[PETSc.Mat],
                           M: Sequence[PETSc.Mat]) -> tuple[PETSc.Mat, float]:
        """``T(Ω) = Σ_s μ_s(Ω) A_s − β_s(Ω) M_s`` (the unmultiplied problem) and its scale
        ``Σ_s (|μ_s| ‖A_s‖ + |β_s| ‖M_s‖)``."""
        mu = [slot.mu(omega) for slot in self.slots]
        beta = [slot.beta(omega) for slot in self.slots]
        scale = sum(abs(c) * m.norm() for c, m in zip(mu + beta, [*A, *M]))
        return linear_combination(mu + [-b for b in beta], [*A, *M]), scale

    def _rational_residual(self, omega: complex, e: PETSc.Vec, A: Sequence[PETSc.Mat],
                           M: Sequence[PETSc.Mat]) -> float:
        """``‖T(Ω) e‖ / (Σ_s (|μ_s| ‖A_s‖ + |β_s| ‖M_s‖) ‖e‖)`` (:meth:`_rational_image`)."""
        image, scale = self._rational_image(omega, e, A, M)
        return image / (scale * e.norm())

    def _eps_pairs(self, K: PETSc.Mat, M: PETSc.Mat, split: PETSc.IS, *, nev: int, target: float,
                   tol: float) -> list[tuple[complex, PETSc.Vec]]:
        """``λ`` and the ``u`` blocks of the ``nev`` finite eigenpairs nearest ``target²``, increasing ``λ``."""
        with petsc.generalized_eigensolver(K, M, nev=nev, shift=target**2 - 1e-3, tol=tol) as eps:
            eps.setDimensions(nev, max(2 * nev, nev + SUBSPACE_EXTRA))  # room for degenerate bands
            eps.solve()
            reason, nconv = eps.getConvergedReason(), eps.getConverged()
            if reason < 0 or nconv < nev:
                raise SolverError(f"the vector Maxwell eigenproblem converged {nconv} of {nev} pairs "
                                  f"(SLEPc reason {reason})")
            out = []
            for i in range(nconv):
                x = K.createVecRight()
                lam = complex(eps.getEigenpair(i, x))
                sub = x.getSubVector(split)
                u = sub.copy()
                x.restoreSubVector(split, sub)
                out.append((lam, u))
        scale = max([abs(lam) for lam, _ in out] + [target**2, 1.0])
        for lam, _ in out:
            if lam.real < -EIGENVALUE_RTOL * scale or abs(lam.imag) > EIGENVALUE_RTOL * scale:
                raise SolverError(f"the vector Maxwell eigenproblem returned λ = Ω² = {lam:.6g}, negative or "
                                  "complex beyond round-off")
        out.sort(key=lambda pair: pair[0].real)
        return out[:nev]

    def _check_gauge(self, C: PETSc.Mat, u: PETSc.Vec) -> None:
        """Raise unless ``u`` is ε-orthogonal to every shifted gradient (never report a gradient mode)."""
        y = C.createVecLeft()
        C.mult(u, y)
        ratio = y.norm() / (C.norm() * u.norm())
        y.destroy()
        if ratio > GRADIENT_RTOL:
            raise SolverError(f"a vector Maxwell eigenvector has a gradient component (‖Cu‖ ratio {ratio:.2e})")

    def residual(self, A: PETSc.Mat, B: PETSc.Mat, lam: complex, u: PETSc.Vec) -> float:
        """``‖A u − λ B u‖ / ((‖A‖ + |λ| ‖B‖) ‖u‖)`` on the unconstrained curl-curl problem."""
        y, tmp = A.createVecLeft(), A.createVecLeft()
        A.mult(u, y)
        B.mult(u, tmp)
        y.axpy(-lam, tmp)
        return y.norm() / ((A.norm() + abs(lam) * B.norm()) * u.norm())

    def field(self, pair: Eigenpair, k: Sequence[float]) -> dolfinx.fem.Function:
        """The Bloch wave ``E`` of an eigenpair found at ``k`` as an N1curl function on the cell."""
        P, P_W = self.prolongations(k)
        E = dolfinx.fem.Function(self.V)
        (quasi_periodic,) = self._periodic_parts([Eigenpair(pair.omega, pair.vector.copy(), pair.residual)], k, +1)
        periodic.extend(quasi_periodic.vector, P, E)
        P.destroy()
        P_W.destroy()
        return E
