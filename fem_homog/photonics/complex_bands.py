"""Complex band structure ``k(ω)``: propagating and evanescent Bloch modes at given real frequencies (theory.md §5.3).

For a direction ``ê`` and a transverse Bloch vector ``k⊥`` (``k⊥·ê = 0``), ``u = e^{i(k ê + k⊥)·y} p`` with ``p``
periodic solves the scalar TM/TE problem at the real frequency ``Ω`` iff

    (K0 + k K1 + k² K2) p = 0,   K0 = Σ_s μ_s K0_s(k⊥) − Ω² ρ_s M_s,  K1 = Σ_s μ_s K1_s,  K2 = Σ_s μ_s (ê·ê) M_s,

with the slot values ``μ_s, ρ_s`` of theory.md §1 evaluated at the given ``Ω`` (a dispersive, lossy ε(Ω) is just a
number here: no polynomial in Ω). The quadratic eigenproblem in ``k`` is solved with SLEPc (TOAR, shift-and-invert
at targets added until the discs of their converged roots cover the window) on the periodic space of
:class:`~fem_homog.photonics.bloch.BlochProblem`.

Roots repeat with the period ``b`` of the reciprocal lattice along ``ê`` (``k ≡ k + b``); only the fundamental
window ``−b/2 < Re k ≤ b/2`` is kept (roots at ``Re k ≈ −b/2`` are folded onto ``+b/2``), with ``|Im k| ≤ max_imag_k``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from mpi4py import MPI
from scipy.optimize import linear_sum_assignment

from fem_homog.cells.lattice import in_first_zone, named_point, reciprocal
from fem_homog.core.errors import SolverError, require
from fem_homog.core.logging import log
from fem_homog.core.units import to_reduced
from fem_homog.fem import periodic, petsc
from fem_homog.forms import complex_k
from fem_homog.photonics.bands import BandDiagram, k_path, sweep_bands
from fem_homog.photonics.bloch import BlochProblem, linear_combination
from fem_homog.photonics.slots import slot_values

import dolfinx.fem
from petsc4py import PETSc

CLASSES = ("propagating", "evanescent", "complex")
"""``propagating``: ``|Im k| ≤ tol``; ``evanescent``: ``Re k`` at 0 or at the zone edge ``b/2`` within tol;
``complex``: the rest (lossy media, complex gaps)."""


def flux_direction(k: complex, flux: float, cls: str) -> str:
    """``"forward"`` (towards ``+ê``) or ``"backward"``: a propagating root by the sign of its energy flux, any
    other by the side it decays towards (``Im k > 0``: it decays along ``+ê``; in a passive lossy medium that is
    also the direction of its energy flux, theory.md §5.3)."""
    sign = flux if cls == "propagating" else k.imag
    return "forward" if sign > 0 else "backward"


def direction_vector(direction: str | Sequence[float], lattice: np.ndarray) -> np.ndarray:
    """The unit vector ``ê`` of ``direction``: two point letters (``"GX"``: from Γ to X) or a vector."""
    if isinstance(direction, str):
        require(len(direction) == 2, f"{{argument}} must be two k-point letters such as 'GX', or a vector, "
                                     f"got '{direction}'", argument="direction")
        e = named_point(direction[1], lattice) - named_point(direction[0], lattice)
    else:
        require(len(direction) == len(lattice),
                f"{{argument}} must have {len(lattice)} components, got {list(direction)}", argument="direction")
        e = np.asarray(direction, dtype=float)
    require(np.linalg.norm(e) > 0, "{argument} must not be zero", argument="direction")
    return e / np.linalg.norm(e)


def zone_period(e: np.ndarray, lattice: np.ndarray, search: int = 4) -> float:
    """The period ``b`` of ``k`` along ``ê``: the shortest reciprocal vector parallel to ``ê`` (``2π`` along GX of
    the unit square, ``2π√2`` along GM)."""
    B = reciprocal(lattice)
    best = np.inf
    for n in itertools.product(range(-search, search + 1), repeat=len(B)):
        G = np.asarray(n) @ B
        along = G @ e
        if along > 1e-9 and np.linalg.norm(G - along * e) < 1e-9 * max(1.0, along):
            best = min(best, along)
    require(np.isfinite(best), f"{{argument}} {e.tolist()} is not a lattice direction (no reciprocal vector "
                               f"parallel to it within {search} periods)", argument="direction")
    return float(best)


@dataclass
class ComplexModes:
    """The modes at one real frequency ``Ω``, sorted by ``|Im k|``, then ``Re k``; ``computed`` are the roots as
    the solver returned them, before folding into the window by ``±b`` (the periodic parts in ``vectors`` belong to
    these), ``branch`` the branch numbers of a sweep."""

    omega: float
    k: np.ndarray
    classes: list[str]
    residuals: list[float]
    flux: list[float] = field(default_factory=list)
    dropped: int = 0
    saturated: bool = False
    seconds: float = 0.0
    branch: list[int] = field(default_factory=list)
    computed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=complex), repr=False)
    vectors: list[PETSc.Vec] = field(default_factory=list, repr=False)

    def release(self) -> None:
        """Destroy the kept eigenvectors."""
        for x in self.vectors:
            x.destroy()
        self.vectors = []


@dataclass
class ComplexBands:
    """A sweep over real frequencies (``omegas`` in Ω = ωa/c)."""

    direction: np.ndarray
    k_transverse: np.ndarray
    period: float
    modes: list[ComplexModes]
    dofs: int = 0
    ranks: int = 1

    def branches(self) -> list[list[tuple[float, complex]]]:
        """Each connected branch as its ``(ω a/2πc, k)`` points in order of frequency."""
        out: dict[int, list] = {}
        for m in self.modes:
            for b, k in zip(m.branch, m.k):
                out.setdefault(b, []).append((float(to_reduced(m.omega)), complex(k)))
        return [out[b] for b in sorted(out)]

    def to_dict(self) -> dict:
        def decay(k):
            return None if k.imag == 0 else 1.0 / abs(k.imag)

        return {
            "frequencies": [float(to_reduced(m.omega)) for m in self.modes],
            "k": [[[float(k.real), float(k.imag)] for k in m.k] for m in self.modes],
            "class": [list(m.classes) for m in self.modes],
            "residuals": [list(m.residuals) for m in self.modes],
            "flux": [list(m.flux) for m in self.modes],
            "flux_direction": [[flux_direction(k, f, c) for k, f, c in zip(m.k, m.flux, m.classes)]
                               for m in self.modes],
            "branch": [list(m.branch) for m in self.modes],
            "decay_length": [[decay(k) if c != "propagating" else None for k, c in zip(m.k, m.classes)]
                             for m in self.modes],
            "dropped": [m.dropped for m in self.modes],
            "complete": [not m.saturated for m in self.modes],
            "seconds": [m.seconds for m in self.modes],
            "direction": self.direction.tolist(),
            "k_transverse": self.k_transverse.tolist(),
            "period": self.period,
            "dofs": self.dofs,
            "ranks": self.ranks,
        }


class ComplexBandProblem:
    """The quadratic eigenproblem in ``k`` of a :class:`BlochProblem`'s cell and phases along ``direction``.

    ``direction`` is a unit vector (:func:`direction_vector`), ``k_transverse`` a real vector orthogonal to it in the
    first zone (default 0). The per-phase matrices are assembled once; each frequency only combines them.
    """

    def __init__(self, problem: BlochProblem, direction: Sequence[float], k_transverse: Sequence[float] | None = None):
        lattice = problem.pmap.lattice
        d = len(lattice)
        e = np.asarray(direction, dtype=float)
        require(e.shape == (d,) and abs(np.linalg.norm(e) - 1.0) < 1e-12,
                f"{{argument}} must be a unit vector of {d} components, got {e.tolist()}", argument="direction")
        k_perp = np.zeros(d) if k_transverse is None or len(k_transverse) == 0 else np.asarray(k_transverse, float)
        require(k_perp.shape == (d,), f"{{argument}} must have {d} components, got {k_perp.tolist()}",
                argument="k_transverse")
        require(abs(k_perp @ e) < 1e-12, f"{{argument}} {k_perp.tolist()} must be orthogonal to the direction "
                                         f"{e.tolist()}", argument="k_transverse")
        self.problem, self.direction, self.k_transverse = problem, e, k_perp
        self.period = zone_period(e, lattice)
        mesh = problem.mesh
        gdim = mesh.geometry.dim
        self._e = dolfinx.fem.Constant(mesh, np.pad(e, (0, gdim - d)).astype(PETSc.ScalarType))
        self._kp = dolfinx.fem.Constant(mesh, np.pad(k_perp, (0, gdim - d)).astype(PETSc.ScalarType))
        self.K0 = problem.stiffness(np.pad(k_perp, (0, len(problem.k.value) - d)))
        self.K1 = [problem.reduce(dolfinx.fem.form(complex_k.k_linear(problem.V, self._e, self._kp, chi)))
                   for chi in problem.indicators]
        self.M = problem.mass
        self._flux_forms = self._compile_flux_forms()

    def _compile_flux_forms(self) -> tuple:
        """The energy-flux and weighted-norm functionals of :meth:`flux` with their constants."""
        mesh, indicators = self.problem.mesh, self.problem.indicators
        scalar = [dolfinx.fem.Constant(mesh, PETSc.ScalarType(0)) for _ in range(2 + 2 * len(indicators))]
        k, decay, mu, rho = scalar[0], scalar[1], scalar[2::2], scalar[3::2]
        p = dolfinx.fem.Function(self.problem.V)
        mu_field = sum(c * chi for c, chi in zip(mu, indicators))
        rho_field = sum(c * chi for c, chi in zip(rho, indicators))
        forms = (dolfinx.fem.form(complex_k.energy_flux(p, self._e, k, decay, mu_field)),
                 dolfinx.fem.form(complex_k.weighted_norm(p, self._e, decay, rho_field)))
        return forms, p, k, decay, mu, rho

    def grams(self) -> list[PETSc.Mat]:
        """``[G_0, G_1, G_{−1}]``, ``G_n = ∫ e^{inbê·y} p conj(q)`` reduced (``G_0`` is the problem's own Gram
        matrix; the caller destroys the other two)."""
        shifted = [self.problem.reduce(dolfinx.fem.form(complex_k.phase_mass(self.problem.V, self._e, n * self.period)))
                   for n in (1, -1)]
        return [self.problem.unit_mass(), *shifted]

    def flux(self, omega: float, k: complex, x: PETSc.Vec) -> float:
        """The energy flux along ``ê`` of the mode ``(k, x)`` at ``omega``, per unit energy-like norm:

            F = Im ∫_Y μ conj(u) ê·∇u  /  (Ω ∫_Y |ρ| |u|²),   u = e^{i(kê + k⊥)·y} p,

        (theory.md §5.3). ``F > 0``: energy flows towards ``+ê``. For lossless, non-dispersive media ``F`` is the
        group velocity ``dΩ/dk`` (units of c); an evanescent root of a lossless medium carries none."""
        forms, p, kc, decay, mu, rho = self._flux_forms
        kc.value, decay.value = complex(k), complex(k.imag)
        for (m, r), cm, cr in zip(self.slot_values(omega), mu, rho):
            cm.value, cr.value = m, abs(r)
        periodic.extend(x, self.problem.P, p)
        comm = self.problem.mesh.comm
        flux, norm = (comm.allreduce(dolfinx.fem.assemble_scalar(f), op=MPI.SUM) for f in forms)
        return float(flux.imag / (omega * norm.real))

    def slot_values(self, omega: float) -> list[tuple[complex, complex]]:
        """``(μ_s, ρ_s)`` per phase at the real frequency ``omega``."""
        return [slot_values(complex(p.eps(omega)), complex(p.mu_r(omega)), self.problem.polarization)
                for p in self.problem.phases]

    def operators(self, omega: float) -> list[PETSc.Mat]:
        """``[K0, K1, K2]`` at the real frequency ``omega`` (new matrices, destroyed by the caller)."""
        mu, rho = zip(*self.slot_values(omega))
        K0 = linear_combination([*mu, *(-omega**2 * r for r in rho)], [*self.K0, *self.M])
        K1 = linear_combination(list(mu), self.K1)
        K2 = linear_combination(list(mu), self.M)
        return [K0, K1, K2]

    @staticmethod
    def residual(ops: Sequence[PETSc.Mat], k: complex, x: PETSc.Vec) -> float:
        """``‖(K0 + k K1 + k² K2) x‖ / ((‖K0‖ + |k|‖K1‖ + |k|²‖K2‖) ‖x‖)``."""
        y, tmp = x.duplicate(), x.duplicate()
        y.set(0.0)
        for j, A in enumerate(ops):
            A.mult(x, tmp)
            y.axpy(k**j, tmp)
        scale = sum(abs(k) ** j * A.norm() for j, A in enumerate(ops))
        out = y.norm() / (scale * x.norm())
        y.destroy()
        tmp.destroy()
        return out

    def classify(self, k: complex, tol: float, edge_tol: float) -> str:
        """One of :data:`CLASSES` (``tol`` for ``Im k = 0`` and ``Re k = 0``, ``edge_tol`` for ``Re k = b/2``)."""
        if abs(k.imag) <= tol:
            return "propagating"
        edge = 0.5 * self.period
        if abs(k.real) <= tol or abs(abs(k.real) - edge) <= edge_tol:
            return "evanescent"
        return "complex"

    def initial_targets(self) -> list[complex]:
        """The first shifts: ``0`` and the zone edges ``±b/2`` on the real axis."""
        edge = 0.5 * self.period
        return [0j, complex(edge), complex(-edge)]

    def _uncovered(self, discs: list[tuple[complex, float]], max_imag_k: float) -> complex | None:
        """A point of the window ``[−b/2, b/2] × [−max_imag_k, max_imag_k]`` outside every disc (target, radius)
        in which the solves found *all* roots, the farthest from the targets; None when the window is covered."""
        edge = 0.5 * self.period
        re, im = np.meshgrid(np.linspace(-edge, edge, 17), np.linspace(-max_imag_k, max_imag_k, 9))
        points = (re + 1j * im).ravel()
        gap = np.min([np.abs(points - t) - r for t, r in discs], axis=0)
        return complex(points[int(np.argmax(gap))]) if gap.max() > 0 else None

    def solve(self, omega: float, *, max_imag_k: float, num_modes: int = 8, targets: Sequence[complex] | None = None,
              max_targets: int = 12, tol: float = 1e-10, class_tol: float = 1e-6, edge_tol: float = 1e-2,
              residual_tol: float = 1e-6,
              keep_vectors: bool = False) -> ComplexModes:
        """All roots ``k`` in ``−b/2 < Re k ≤ b/2``, ``|Im k| ≤ max_imag_k`` at the real frequency ``omega``
        (Ω = ωa/c), at most ``num_modes`` of them (the rest counted in ``dropped``).

        Each shift-and-invert solve at a target ``t`` returns the ``max(num_modes, 8)`` roots nearest ``t``, hence
        all roots in the disc up to the farthest of them; targets (first ``targets``, default ``0, ±b/2``) are added
        at uncovered points of the window until the discs cover it, at most ``max_targets`` solves (otherwise the
        result is flagged ``saturated``: roots may be missing, and it is logged).

        ``class_tol`` separates propagating roots (``|Im k| ≤ class_tol``) and evanescent ones at ``Re k = 0``
        (exact to round-off for real slot values and ``k⊥ = 0``, theory.md §5.3); ``edge_tol`` is the
        discretization-sized tolerance of ``Re k = ±b/2``: roots within it of ``−b/2`` are folded onto ``+b/2``
        (the same Bloch wave), duplicates of a folded root within it are merged, and in lossless media roots
        within it of the edge are ``evanescent`` (with loss, ``class_tol`` applies there too).

        Raises
        ------
        SolverError
            If a PEP solve does not converge or a kept root's residual exceeds ``residual_tol``.
        """
        require(omega > 0, f"{{argument}} must be positive, got {omega}", argument="frequencies")
        require(max_imag_k > 0, f"{{argument}} must be positive, got {max_imag_k}", argument="max_imag_k")
        require(num_modes >= 1, f"{{argument}} must be >= 1, got {num_modes}", argument="num_modes")
        start = time.perf_counter()
        edge = 0.5 * self.period
        ops = self.operators(omega)
        lossless = all(np.imag(v) == 0 for pair in self.slot_values(omega) for v in pair)
        n = ops[0].getSize()[0]
        nev = min(max(num_modes, 8), max(1, n // 4))
        found: list[tuple[complex, bool, float, tuple[complex, PETSc.Vec]]] = []
        queue, discs = list(targets or self.initial_targets()), []
        while queue and len(discs) < max_targets:
            target = queue.pop(0)
            with petsc.wavenumber_eigensolver(ops, nev=nev, target=target, tol=tol) as pep:
                pep.solve()
                reason = pep.getConvergedReason()
                if reason < 0:
                    raise SolverError(f"the wavenumber eigenproblem at ω a/2πc = {to_reduced(omega):.6g} did not "
                                      f"converge (SLEPc reason {reason}, {pep.getConverged()} of {nev} pairs)")
                distances = []
                for i in range(pep.getConverged()):
                    x = ops[0].createVecRight()
                    k = complex(pep.getEigenpair(i, x))
                    distances.append(abs(k - target))
                    if abs(k.imag) > max_imag_k or abs(k.real) > edge + edge_tol:
                        x.destroy()
                        continue
                    res = self.residual(ops, k, x)  # on the original problem, before folding
                    found.append((*self._fold(k, edge_tol, lossless), res, (k, x)))  # x belongs to k as computed
            # the nev roots nearest the target are all the roots in this disc
            discs.append((target, sorted(distances)[min(nev, len(distances)) - 1] if distances else 0.0))
            if not queue:
                point = self._uncovered(discs, max_imag_k)
                if point is not None:
                    queue.append(point)
        saturated = self._uncovered(discs, max_imag_k) is not None
        modes = self._unique(found, edge_tol)
        for A in ops:
            A.destroy()
        bad = [(k, r) for k, r, _ in modes if r > residual_tol]
        if bad:
            raise SolverError(f"{len(bad)} root(s) at ω a/2πc = {to_reduced(omega):.6g} have residuals above "
                              f"{residual_tol:g} (worst {max(r for _, r in bad):.2e} at k = {bad[0][0]:.6g})")
        modes.sort(key=lambda m: (round(abs(m[0].imag), 8), round(m[0].real, 8), m[0].imag))
        dropped = max(0, len(modes) - num_modes)
        kept = modes[:num_modes]
        out = ComplexModes(omega=float(omega), k=np.array([m[0] for m in kept], dtype=complex),
                           classes=[self.classify(m[0], class_tol, edge_tol if lossless else class_tol) for m in kept],
                           residuals=[m[1] for m in kept], flux=[self.flux(omega, *m[2]) for m in kept],
                           dropped=dropped, saturated=saturated, seconds=time.perf_counter() - start,
                           computed=np.array([m[2][0] for m in kept], dtype=complex),
                           vectors=[m[2][1] for m in kept] if keep_vectors else [])
        for m in modes if not keep_vectors else modes[num_modes:]:
            m[2][1].destroy()
        if dropped:
            log(f"  ω a/2πc = {to_reduced(omega):.5g}: {len(modes)} roots in the window, kept {num_modes} "
                f"(raise num_modes for the other {dropped})")
        if saturated:
            log(f"  ω a/2πc = {to_reduced(omega):.5g}: {max_targets} solves did not cover the window, roots may be "
                f"missing (raise num_modes or max_targets)")
        return out

    def _fold(self, k: complex, edge_tol: float, lossless: bool) -> tuple[complex, bool]:
        """``k`` moved by ``±b`` into the window (the same Bloch wave, for ``e^{∓ib ê·y} p``) and whether it moved.
        Lossless: roots within ``edge_tol`` of ``−b/2`` go to ``+b/2`` and those just above ``+b/2`` stay (zone-edge
        roots keep their exact conjugate pairs); with loss the window ``−b/2 < Re k ≤ b/2`` is strict."""
        edge = 0.5 * self.period
        if lossless:
            return (k + self.period, True) if k.real <= -edge + edge_tol else (k, False)
        if k.real > edge:
            return k - self.period, True
        return (k + self.period, True) if k.real <= -edge else (k, False)

    @staticmethod
    def _unique(found, edge_tol) -> list[tuple[complex, float, tuple[complex, PETSc.Vec]]]:
        """One root per Bloch wave (each with its root as computed and its vector): repeats from overlapping
        targets (to round-off) and the folded images of the zone edge (to discretization error, within
        ``edge_tol``). The root as computed wins over a folded image (so the kept set keeps the exact k → k̄
        symmetry), else the lower residual."""
        out: list[list] = []
        for k, folded, res, x in found:
            def same_wave(m):
                tol = edge_tol if folded != m[3] else 1e-7 * max(1.0, abs(k))
                return abs(m[0] - k) <= tol

            same = next((m for m in out if same_wave(m)), None)
            if same is None:
                out.append([k, res, x, folded])
            elif (same[3] and not folded) or (same[3] == folded and res < same[1]):
                same[:] = [k, res, x, folded]
        return [tuple(m[:3]) for m in out]


def connect_modes(previous: ComplexModes, current: ComplexModes, period: float, grams: Sequence[PETSc.Mat], *,
                  max_jump: float | None = None) -> np.ndarray:
    """``perm`` with root ``j`` of ``current`` continuing root ``perm[j]`` of ``previous`` (``-1``: a new branch).

    The assignment minimises ``Σ d_ij/(b/2) + (1 − O_ij)`` (Hungarian algorithm, as the bands of theory.md §5.2):
    ``d_ij`` is the distance of the two roots with ``Re k`` taken modulo the period ``b``;
    ``O_ij = |x_i^H G_n x_j| / (‖x_i‖ ‖x_j‖)`` the overlap of the periodic parts of the same Bloch wave written
    with ``k_i`` and ``k_j − n b`` (``n`` the periods between the roots as computed, :attr:`ComplexModes.computed`,
    to which the vectors belong): ``grams`` are ``[G_0, G_1, G_{−1}]``, ``G_n = ∫ e^{inbê·y} p conj(q)``
    (:meth:`ComplexBandProblem.gram`). Distance separates the symmetry partners ``k, −k̄`` (whose vectors are
    complex conjugates and may overlap fully), overlap separates crossing branches. Pairs farther apart than
    ``max_jump`` (default ``b/4``) are not connected. Both must have been solved with ``keep_vectors=True``.
    """
    half = 0.5 * period
    max_jump = half / 2 if max_jump is None else max_jump
    perm = np.full(len(current.k), -1)
    if not len(previous.k) or not len(current.k):
        return perm
    delta = current.k[None, :] - previous.k[:, None]
    d = np.abs(delta - np.rint(delta.real / period) * period)
    shift = current.computed[None, :] - previous.computed[:, None]  # of the waves the vectors belong to
    n = np.clip(np.rint(shift.real / period).astype(int), -1, 1)
    O = np.zeros(d.shape)
    norm = [np.sqrt(abs(x.dot(y))) for x, y in ((x, _mult(grams[0], x)) for x in previous.vectors)]
    for j, x in enumerate(current.vectors):
        images = [_mult(G, x) for G in grams]
        norm_j = np.sqrt(abs(images[0].dot(x)))
        for i, xi in enumerate(previous.vectors):
            O[i, j] = abs(images[n[i, j]].dot(xi)) / (norm[i] * norm_j)
    rows, cols = linear_sum_assignment(d / half + (1.0 - O))
    for i, j in zip(rows, cols):
        if d[i, j] <= max_jump:
            perm[j] = i
    return perm


def _mult(A: PETSc.Mat, x: PETSc.Vec) -> PETSc.Vec:
    y = A.createVecLeft()
    A.mult(x, y)
    return y


def sweep_complex_bands(problem: ComplexBandProblem, omegas: Sequence[float], **solve_options) -> ComplexBands:
    """:meth:`ComplexBandProblem.solve` at each real frequency of ``omegas`` (Ω units, increasing), logging the
    time, with the roots connected into branches across neighbouring frequencies (:func:`connect_modes`):
    ``branch[j]`` of each frequency is the branch number of root ``j``."""
    modes: list[ComplexModes] = []
    grams = problem.grams()
    branches = 0
    for omega in omegas:
        m = problem.solve(float(omega), keep_vectors=True, **solve_options)
        counts = {c: m.classes.count(c) for c in CLASSES}
        log(f"  ω a/2πc = {to_reduced(omega):.5g}: {len(m.k)} roots {counts}, {m.seconds:.2f} s")
        perm = connect_modes(modes[-1], m, problem.period, grams) if modes else np.full(len(m.k), -1)
        for p in perm:
            m.branch.append(int(modes[-1].branch[p]) if p >= 0 else branches)
            branches += p < 0
        if modes:
            modes[-1].release()
        modes.append(m)
    if modes:
        modes[-1].release()
    for G in grams[1:]:
        G.destroy()
    bloch = problem.problem
    return ComplexBands(direction=problem.direction, k_transverse=problem.k_transverse, period=problem.period,
                        modes=modes, dofs=bloch.V.dofmap.index_map.size_global, ranks=bloch.mesh.comm.size)


def real_k_bands(problem: ComplexBandProblem, *, points: int, num_bands: int = 6, target: float = 0.0
                 ) -> BandDiagram:
    """The ω(k) band diagram (theory.md §5.2) of the same cell at real ``k = k⊥ + s ê``, ``0 ≤ s ≤ b/2`` (cut where
    the line leaves the first zone), ``points`` k-points, the ``num_bands`` lowest bands at or above ``target``
    (Ω units): the real-k picture the propagating roots must lie on."""
    require(points >= 2, f"{{argument}} must be >= 2, got {points}", argument="overlay_points")
    lattice, e, kp = problem.problem.pmap.lattice, problem.direction, problem.k_transverse
    lo, hi = 0.0, 0.5 * problem.period
    if not in_first_zone(kp + hi * e, lattice):
        for _ in range(50):
            lo, hi = ((lo + hi) / 2, hi) if in_first_zone(kp + (lo + hi) / 2 * e, lattice) else (lo, (lo + hi) / 2)
        hi = lo
    path = k_path([kp, kp + hi * e], points - 1, len(lattice), lattice)
    return sweep_bands(problem.problem, path, num_bands=num_bands, target=target)
