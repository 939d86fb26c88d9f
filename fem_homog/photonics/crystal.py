"""Finite crystals with PMLs: full-wave solves and the HFH envelope model on the same domain (theory.md §8–§9).

* :func:`solve_full_wave` — the microstructured crystal at a real drive frequency ``Ω`` (``ω a/c``): TM
  (``μ``-slot 1/μ_r, ``ρ``-slot ε) or TE (``μ``-slot 1/ε, ``ρ``-slot μ_r) by the one slot rule of
  :mod:`fem_homog.photonics.slots`, with constant, Drude or Lorentz ε and μ_r evaluated at ``Ω``
  (:mod:`fem_homog.photonics.materials`), PMLs in the background.
* :func:`solve_envelope` — the HFH envelope equation without microstructure (theory.md §8 "Source term"):
  ``−∇·(T∇f) − (Ω² − Ω₀²) f = (U₀(x_s)/D) δ(x − x_s)``, with the envelope PML rule of theory.md §9
  (``s_j = 1 + i sign(Re T_jj) σ_j/Ω``) so that backward envelopes are absorbed.
* :func:`envelope_closed_form` — the closed forms of theory.md §8 for ``T = τ T̂`` (``T̂`` real SPD), with the
  branch rule ``Im κ > 0`` (limiting absorption).
* :func:`reconstruct` (``u ≈ Σ_star f U₀``), :func:`demodulate` (cellwise envelope of a full-wave field) and
  the comparison metrics :func:`relative_l2_error`, :func:`pattern_correlation`, :func:`amplitude_factor`,
  :func:`envelope_error`,
  :func:`interior_indicator`, :func:`diagonal_to_axis_ratio`.

Coordinates are in periods (the crystal occupies ``[0, n₁L₁] × [0, n₂L₂]``, see :mod:`fem_homog.cells.crystal_mesh`).
:mod:`fem_homog.photonics.envelope` puts these together: the HFH model of a line source in a finite crystal
against the full wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from mpi4py import MPI
from scipy.special import hankel1

from fem_homog.cells.crystal_mesh import PML, CrystalMesh
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import require
from fem_homog.fem.coefficients import integrate, phase_function
from fem_homog.fem.evaluation import bloch_values, interpolate_values, point_values
from fem_homog.forms import pml as pml_forms
from fem_homog.photonics import helmholtz
from fem_homog.photonics.helmholtz import Source, WaveSolution
from fem_homog.photonics.materials import Phase
from fem_homog.photonics.slots import slot_values

import dolfinx.fem
import dolfinx.mesh
import ufl

DEFAULT_REFLECTION = 1e-6


@dataclass(frozen=True)
class PlaneWave:
    """Incident plane wave ``amplitude · e^{i k_b d·x}`` of the background (``d`` normalised here)."""

    direction: tuple[float, ...]
    amplitude: complex = 1.0


def solve_full_wave(crystal: CrystalMesh, omega: float, source: Source | PlaneWave, *, phases: Sequence[Phase],
                    polarization: str = "TM", degree: int = 2, reflection: float = DEFAULT_REFLECTION) -> WaveSolution:
    """The field of ``source`` in the finite crystal at the real drive frequency ``omega`` (``Ω = ωa/c``).

    ``phases`` are the media, as for :class:`~fem_homog.photonics.bloch.BlochProblem`: the :data:`MATRIX`
    phase (also the background and the PMLs) and, if the crystal has rods or layers, the :data:`INCLUSION`
    phase; their ``ε`` and ``μ_r`` evaluated at ``Ω`` enter through the slot rule
    (:func:`~fem_homog.photonics.slots.slot_values`). The PML strength is set for the background wavenumber
    ``k_b = Ω Re√(ε_b μ_{r,b})`` and the nominal normal-incidence ``reflection`` (theory.md §9). Solves
    ``−∇·(μ∇u) − Ω²ρu = f`` by MUMPS.
    For a :class:`PlaneWave` the unknown is the scattered field ``u_s = u − u_inc`` (absorbed by the layers);
    the solution's ``u`` is ``u_s`` and ``incident`` holds ``u_inc``, so the total field in the physical region
    is ``u + incident``.
    """
    require(omega > 0.0, f"must be positive, got {omega}", argument="omega")
    media = {phase.tag: phase for phase in phases}
    require(MATRIX in media and set(media) <= {MATRIX, INCLUSION},
            f"must be the matrix phase and optionally the inclusion phase (tags {MATRIX}, {INCLUSION}), "
            f"got tags {sorted(media)}", argument="phases")
    background, inclusion = media[MATRIX], media.get(INCLUSION, media[MATRIX])
    eps_b, mu_r_b = complex(background.eps(omega)), complex(background.mu_r(omega))
    require((eps_b * mu_r_b).real > 0.0,
            f"the background ε μ_r must have a positive real part, got ε = {eps_b}, μ_r = {mu_r_b}")
    mu_b, rho_b = slot_values(eps_b, mu_r_b, polarization)
    mu_i, rho_i = slot_values(complex(inclusion.eps(omega)), complex(inclusion.mu_r(omega)), polarization)
    rods = phase_function(crystal.mesh, crystal.cell_tags, {MATRIX: 0.0, INCLUSION: 1.0, PML: 0.0})
    mu = mu_b + (mu_i - mu_b) * rods
    rho = rho_b + (rho_i - rho_b) * rods
    k_b = omega * np.sqrt(eps_b * mu_r_b).real
    strength = pml_forms.pml_strength(k_b, crystal.pml_width, reflection)
    if not isinstance(source, PlaneWave):
        return helmholtz.solve(crystal, mu, rho, omega**2, source, strength=strength, degree=degree,
                               name="u_full")
    direction = np.asarray(source.direction, dtype=float)
    require(direction.shape == (crystal.dim,) and np.linalg.norm(direction) > 0,
            f"the plane-wave direction must be a non-zero {crystal.dim}-vector, got {list(source.direction)}")
    wave_vector = k_b * direction / np.linalg.norm(direction)

    def load(V: dolfinx.fem.FunctionSpace) -> ufl.Form:
        x = ufl.SpatialCoordinate(V.mesh)
        incident = source.amplitude * ufl.exp(1j * sum(wave_vector[j] * x[j] for j in range(crystal.dim)))
        return pml_forms.scattering_load(V, (mu_i - mu_b) * rods, (rho_i - rho_b) * rods, omega**2, incident)

    solution = helmholtz.solve(crystal, mu, rho, omega**2, load, strength=strength, degree=degree,
                               name="u_scattered")
    solution.incident = interpolate_values(
        solution.u.function_space,
        lambda x: source.amplitude * np.exp(1j * x[:, :crystal.dim] @ wave_vector))
    solution.incident.name = "u_incident"
    return solution


def solve_envelope(domain: CrystalMesh, T: np.ndarray, detuning: complex, source: Source, *, degree: int = 2,
                   reflection: float = DEFAULT_REFLECTION, pml: bool = True) -> WaveSolution:
    """The HFH envelope ``f``: ``−∇·(T∇f) − (Ω² − Ω₀²) f = a δ(x − x_s)`` (theory.md §8, source term).

    Parameters
    ----------
    domain
        The macro domain (no microstructure, e.g. :func:`fem_homog.cells.crystal_mesh.mesh_box` on the crystal's
        physical box) with its PMLs.
    T
        The ``d × d`` HFH tensor (complex, possibly indefinite; only its symmetric part matters).
    detuning
        ``Ω² − Ω₀²`` (complex: ``Im > 0`` for lossy media with ``Im Ω₀ < 0``).
    source
        Point or Gaussian source at ``x_s`` whose amplitude is ``a = U₀(x_s)/D``.

    The layers stretch with ``s_j = 1 + i sign_j σ_j/Ω`` (theory.md §9), exact for ``T`` diagonal in the PML
    axes, with ``sign_j`` from :func:`envelope_pml_sign`; their strength is set from the envelope wavenumber
    ``|√((Ω² − Ω₀²)/T_jj)|`` per axis. With ``pml=False`` the layers are not stretched: the whole box is
    physical with ``f = 0`` on its boundary, the far truncation theory.md §9 allows for lossy envelopes
    (``Im(Ω² − Ω₀²) > 0`` decaying well inside the box), and the only choice for a ``T`` that is not
    diagonal-dominant in the box axes (e.g. a rotated indefinite ``T`` with ``Re T_jj = 0``).
    """
    T = np.asarray(T, dtype=complex)
    d = domain.dim
    require(T.shape == (d, d), f"the envelope tensor T must be {d}x{d}, got shape {T.shape}")
    require(detuning != 0.0, "the detuning Ω² − Ω₀² must be non-zero")
    diagonal = np.diag(T)
    sign, strength = None, 0.0
    if pml:
        require(bool(np.all(diagonal.real != 0.0)),
                f"the envelope PML needs Re T_jj != 0 on every axis (theory.md §9), got T = {T.tolist()}; "
                "use pml=False (far Dirichlet truncation) for lossy envelopes")
        sign = [envelope_pml_sign(t, detuning) for t in diagonal]
        wavenumbers = np.abs(np.sqrt(detuning / diagonal))
        strength = [pml_forms.pml_strength(k, domain.pml_width, reflection) for k in wavenumbers]
    symmetric = 0.5 * (T + T.T)
    mu = ufl.as_matrix(symmetric.tolist()) if d > 1 else complex(T[0, 0])
    return helmholtz.solve(domain, mu, 1.0, detuning, source, strength=strength, sign=sign, degree=degree,
                           name="f", prefix="envelope_")


def envelope_pml_sign(T_jj: complex, detuning: complex) -> float:
    """Stretch direction of the envelope PML along axis ``j``: the sign of ``Re κ_j`` for the decaying root
    ``κ_j = √((Ω² − Ω₀² + i0)/T_jj)`` (``Im κ_j > 0``), i.e. ``sign Im((Ω² − Ω₀² + i0)/T_jj)``.

    For real ``T_jj`` this is theory.md §9's ``sign(Re T_jj)``; for complex ``T`` it stays right when the loss
    of ``T`` outweighs that of the detuning (then ``Re κ_j`` and ``Re T_jj`` have opposite signs and the
    ``sign(Re T_jj)`` layer would amplify the decaying envelope). Falls back to ``sign(Re T_jj)`` if the
    wave is purely evanescent along the axis.
    """
    z = (detuning + 1e-12j * abs(detuning)) / T_jj
    return float(np.sign(z.imag)) if z.imag != 0.0 else float(np.sign(T_jj.real))


def envelope_closed_form(points: np.ndarray, source: Sequence[float], T: np.ndarray, detuning: complex,
                         amplitude: complex = 1.0) -> np.ndarray:
    """Closed-form envelope of theory.md §8 for ``T = τ T̂`` with ``T̂`` real symmetric positive definite.

    2D: ``f = a/(τ√det T̂) · (i/4) H₀⁽¹⁾(κ √(rᵀT̂⁻¹r))``; 1D: ``f = a/τ · i/(2κ) e^{iκ|x − x_s|}``, with
    ``κ = √((Ω² − Ω₀²)/τ)`` on the branch ``Im κ > 0`` of limiting absorption (``Ω² → Ω² + i0``): for real
    ``κ``, ``sign κ = sign τ`` (backward envelope at a band maximum). Covers ``T = τI`` (complex ``τ``), real SPD
    and real negative-definite ``T``.
    """
    T = np.atleast_2d(np.asarray(T, dtype=complex))
    d = T.shape[0]
    tau = np.trace(T) / d
    require(tau != 0.0, "the closed form needs T = τ·(real symmetric positive-definite matrix)")
    T_hat = T / tau
    require(bool(np.allclose(T_hat.imag, 0.0, atol=1e-12) and np.allclose(T_hat, T_hat.T))
            and bool(np.linalg.eigvalsh(T_hat.real).min() > 0.0),
            "the closed form needs T = τ·(real symmetric positive-definite matrix)")
    kappa = _outgoing_sqrt((detuning + 1e-14j * abs(detuning)) / tau)
    r = np.asarray(points, dtype=float)[:, :d] - np.asarray(source, dtype=float)[:d]
    if d == 1:
        return amplitude / tau * 1j / (2 * kappa) * np.exp(1j * kappa * np.abs(r[:, 0]))
    rho = np.sqrt(np.einsum("ni,ij,nj->n", r, np.linalg.inv(T_hat.real), r))
    return amplitude / (tau * np.sqrt(np.linalg.det(T_hat.real))) * 0.25j * hankel1(0, kappa * rho)


def _outgoing_sqrt(z: complex) -> complex:
    """The square root with non-negative imaginary part."""
    root = np.sqrt(complex(z))
    return root if root.imag >= 0.0 else -root


# ----------------------------------------------------------------------------------------------------------
# HFH reconstruction and demodulation
# ----------------------------------------------------------------------------------------------------------

def reconstruct(V: dolfinx.fem.FunctionSpace, terms: Sequence[tuple[dolfinx.fem.Function, dolfinx.fem.Function,
                                                                     Sequence[float]]],
                lengths: Sequence[float] | None = None,
                within: tuple[np.ndarray, np.ndarray] | None = None) -> dolfinx.fem.Function:
    """``u_HFH = Σ_s f⁽ˢ⁾ U₀⁽ˢ⁾`` on the Lagrange space ``V`` (theory.md §9, HFH reconstruction).

    ``terms`` holds, per star point, the envelope ``f`` (functions on one mesh covering ``V``'s, e.g. the
    macro domain, or covering the box ``within = (lower, upper)``, outside which ``u_HFH = 0``), the cell
    function ``U₀`` (on the unit cell ``[0, L]``) and its Bloch wave vector ``k₀``. Collective. The cost is
    dominated by locating ``V``'s nodes in the envelopes' mesh (done once).
    """
    def values(x: np.ndarray) -> np.ndarray:
        d = len(terms[0][2])
        inside = (np.ones(len(x), dtype=bool) if within is None
                  else np.all((x[:, :d] >= within[0] - 1e-12) & (x[:, :d] <= within[1] + 1e-12), axis=1))
        u = np.zeros(len(x), dtype=complex)
        envelopes = point_values([f for f, _, _ in terms], x[inside])
        u[inside] = sum(f * bloch_values(U0, x[inside], k0, lengths) for f, (_, U0, k0) in zip(envelopes, terms))
        return u

    u = interpolate_values(V, values)
    u.name = "u_hfh"
    return u


def demodulate(u: dolfinx.fem.Function, U0: dolfinx.fem.Function, k0: Sequence[float],
               crystal: CrystalMesh) -> tuple[np.ndarray, np.ndarray]:
    """Cellwise envelope of a full-wave field: ``f_h(c) = ⟨u U₀⟩_c / ⟨U₀²⟩_c`` (unconjugated, theory.md §9).

    Returns the centres of the crystal's cells (``n_cells × d``) and ``f_h`` there (same on every rank).
    """
    V = u.function_space
    lengths = crystal.geometry.size if crystal.geometry is not None else None
    U = interpolate_values(V, lambda x: bloch_values(U0, x, k0, lengths))
    counts = np.asarray(crystal.counts)
    size = (crystal.crystal_upper - crystal.crystal_lower) / counts
    numerator = _cellwise(u * U, crystal, size)
    denominator = _cellwise(U * U, crystal, size)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in counts], indexing="ij"), axis=-1).reshape(-1, len(counts))
    return crystal.crystal_lower + (index + 0.5) * size, numerator / denominator


def _cellwise(expr: ufl.core.expr.Expr, crystal: CrystalMesh, size: np.ndarray) -> np.ndarray:
    """``∫_c expr`` over each crystal cell ``c`` (flattened in C order), summed over ranks."""
    mesh = crystal.mesh
    W = dolfinx.fem.functionspace(mesh, ("DG", 0))
    per_cell = dolfinx.fem.assemble_vector(dolfinx.fem.form(ufl.inner(expr, ufl.TestFunction(W)) * ufl.dx))
    n_owned = W.dofmap.index_map.size_local
    midpoints = W.tabulate_dof_coordinates()[:n_owned, :crystal.dim]
    cell = np.floor((midpoints - crystal.crystal_lower) / size).astype(int)
    counts = np.asarray(crystal.counts)
    inside = np.all((cell >= 0) & (cell < counts), axis=1)
    totals = np.zeros(int(np.prod(counts)), dtype=complex)
    np.add.at(totals, np.ravel_multi_index(cell[inside].T, counts), per_cell.array[:n_owned][inside])
    return mesh.comm.allreduce(totals, op=MPI.SUM)


# ----------------------------------------------------------------------------------------------------------
# Comparison metrics
# ----------------------------------------------------------------------------------------------------------

def region_indicator(mesh: dolfinx.mesh.Mesh, predicate: Callable[[np.ndarray], np.ndarray]) -> dolfinx.fem.Function:
    """DG0 indicator of the cells whose midpoint ``x`` (``n × 3``) satisfies ``predicate(x)``."""
    W = dolfinx.fem.functionspace(mesh, ("DG", 0))
    return interpolate_values(W, lambda x: predicate(x).astype(float))


def interior_indicator(crystal: CrystalMesh, source: Sequence[float], *, source_radius: float = 2.0,
                       edge_band: float = 2.0) -> dolfinx.fem.Function:
    """The comparison region of theory.md §9: the crystal minus a disc of ``source_radius`` around the
    source and minus a band of ``edge_band`` at the crystal edge."""
    d = crystal.dim
    lo, hi = crystal.crystal_lower + edge_band, crystal.crystal_upper - edge_band
    require(bool(np.all(hi > lo)), f"the crystal is too small for an edge band of {edge_band} cells")

    def inside(x: np.ndarray) -> np.ndarray:
        y = x[:, :d]
        far = np.linalg.norm(y - np.asarray(source, dtype=float)[:d], axis=1) >= source_radius
        return np.all((y >= lo) & (y <= hi), axis=1) & far

    return region_indicator(crystal.mesh, inside)


def relative_l2_error(u: dolfinx.fem.Function, reference: dolfinx.fem.Function | ufl.core.expr.Expr,
                      indicator: dolfinx.fem.Function) -> float:
    """``‖u − u_ref‖ / ‖u_ref‖`` in ``L²`` over the region marked by ``indicator`` (same mesh)."""
    comm = u.function_space.mesh.comm
    error = integrate(indicator * ufl.inner(u - reference, u - reference) * ufl.dx, comm).real
    norm = integrate(indicator * ufl.inner(reference, reference) * ufl.dx, comm).real
    require(norm > 0.0, "the reference field vanishes on the comparison region")
    return float(np.sqrt(error / norm))


def pattern_correlation(u: dolfinx.fem.Function, v: dolfinx.fem.Function, indicator: dolfinx.fem.Function) -> float:
    """``|(u, v)| / (‖u‖ ‖v‖)`` in ``L²`` over the region marked by ``indicator``: 1 when the two fields agree
    up to a complex factor (the shape of the pattern, whatever the amplitude)."""
    comm = u.function_space.mesh.comm
    inner = abs(integrate(indicator * ufl.inner(u, v) * ufl.dx, comm))
    norms = [integrate(indicator * ufl.inner(w, w) * ufl.dx, comm).real for w in (u, v)]
    return float(inner / np.sqrt(norms[0] * norms[1]))


def amplitude_factor(u: dolfinx.fem.Function, model: dolfinx.fem.Function, indicator: dolfinx.fem.Function) -> complex:
    """The complex factor ``c = (u, v)/(v, v)`` that best fits ``c v ≈ u`` in ``L²`` over the region marked by
    ``indicator`` (``v`` the ``model``): 1 when the model's amplitude and phase are right."""
    comm = u.function_space.mesh.comm
    norm = integrate(indicator * ufl.inner(model, model) * ufl.dx, comm).real
    require(norm > 0.0, "the model field vanishes on the comparison region")
    return complex(integrate(indicator * ufl.inner(u, model) * ufl.dx, comm) / norm)


def envelope_error(u: dolfinx.fem.Function, f: dolfinx.fem.Function, U0: dolfinx.fem.Function,
                   k0: Sequence[float], crystal: CrystalMesh, source: Sequence[float] | None = None, *,
                   edge_band: float = 2.0) -> float:
    """Relative error of the envelope ``f`` against the cellwise demodulated full wave ``u``
    (:func:`demodulate`, theory.md §9 metric 2) at the centres of the interior cells: at least ``edge_band``
    from the crystal edge and, if a ``source`` is given, farther than ``edge_band`` from it."""
    centres, f_h = demodulate(u, U0, k0, crystal)
    keep = comparison_cells(centres, crystal.crystal_lower, crystal.crystal_upper, source, edge_band=edge_band)
    require(bool(keep.any()), f"no crystal cell lies farther than {edge_band:g} cells from the edge and the source")
    f_c = point_values(f, centres[keep])
    return float(np.linalg.norm(f_h[keep] - f_c) / np.linalg.norm(f_h[keep]))


def comparison_cells(centres: np.ndarray, lower: np.ndarray, upper: np.ndarray, source: Sequence[float] | None,
                     *, edge_band: float = 2.0) -> np.ndarray:
    """Mask of the cell ``centres`` that :func:`envelope_error` compares: farther than ``edge_band`` from the
    crystal ``[lower, upper]``'s edge and, if a ``source`` is given, from it."""
    near = (np.zeros(len(centres), dtype=bool) if source is None
            else np.linalg.norm(centres - np.asarray(source, dtype=float), axis=1) <= edge_band)
    return ~near & np.all((centres > lower + edge_band) & (centres < upper - edge_band), axis=1)


def diagonal_to_axis_ratio(u: dolfinx.fem.Function, centre: Sequence[float], *, r_min: float, r_max: float,
                           half_angle: float = 15.0) -> float:
    """``∫|u|²`` over the wedges within ``half_angle`` degrees of the diagonals over that within
    ``half_angle`` of the axes, in the annulus ``r_min ≤ |x − centre| ≤ r_max`` (2D)."""
    require(0.0 < half_angle < 22.5, f"half_angle must lie in (0, 22.5) degrees, got {half_angle}")
    require(0.0 <= r_min < r_max, f"need 0 <= r_min < r_max, got {r_min}, {r_max}")
    c = np.asarray(centre, dtype=float)[:2]

    def wedge(lo: float, hi: float) -> Callable[[np.ndarray], np.ndarray]:
        def inside(x: np.ndarray) -> np.ndarray:
            r = x[:, :2] - c
            radius = np.linalg.norm(r, axis=1)
            from_axis = np.abs((np.degrees(np.arctan2(r[:, 1], r[:, 0])) + 45.0) % 90.0 - 45.0)
            return (radius >= r_min) & (radius <= r_max) & (from_axis >= lo) & (from_axis <= hi)
        return inside

    mesh, comm = u.function_space.mesh, u.function_space.mesh.comm
    energy = [integrate(region_indicator(mesh, wedge(lo, hi)) * ufl.inner(u, u) * ufl.dx, comm).real
              for lo, hi in ((45.0 - half_angle, 45.0), (0.0, half_angle))]
    require(energy[1] > 0.0, "the field vanishes along the axes")
    return float(energy[0] / energy[1])
