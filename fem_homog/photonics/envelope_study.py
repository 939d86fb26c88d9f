"""How close to the band edge HFH is quantitative: the error of the HFH field at detunings → 0 (theory.md §9.1).

The drive of a relative detuning ``d`` is the real ``Ω`` with ``Ω² = Re Ω₀² + d |Ω₀²|`` (so
``Re(Ω² − Ω₀²) = d |Ω₀²|``); its envelope wavenumber is ``|κ| = √(|Ω² − Ω₀²| / τ)``, ``τ`` the largest
``|eigenvalue|`` of ``sym T`` (the loss keeps ``|κ|`` above ``√(|Im Ω₀²|/τ)``). Two studies:

* :func:`finite_crystal_study` — the finite crystal with PMLs
  (:func:`~fem_homog.photonics.envelope.compare_with_full_wave` at every detuning; point or periodic source);
* :func:`supercell_study` — the periodic source over the crystal's block of cells in an ``N × N`` Bloch supercell
  (:func:`~fem_homog.photonics.supercell.supercell_errors`): no crystal edge, no envelope mesh, no PML.

The fitted ``rate`` is the slope of ``log error_l2`` against ``log |κ|`` (theory: ≥ 1, the leading-order error
``O(|κ|)`` of §8.7).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from fem_homog.cells.crystal_mesh import CrystalMesh
from fem_homog.cells.geometry import CellGeometry
from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.units import to_reduced
from fem_homog.output.results import jsonable
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.envelope import (
    CrystalSource,
    EdgeOffset,
    compare_with_full_wave,
    envelope_model,
    resolve_edge,
)
from fem_homog.photonics.hfh import HFHResult
from fem_homog.photonics.supercell import supercell_errors


@dataclass
class ConvergenceStudy:
    """The errors of the HFH field per relative detuning (``detunings``, with ``kappa``), the best-fit
    amplitude factors ``c`` (``c u_HFH ≈ u``; 1 when the amplitude is right) and the fitted ``rate``.
    ``domain`` is ``"finite_crystal"`` (with PMLs) or ``"supercell"`` (``size × size`` Bloch supercell);
    ``edge_offsets`` the periodic-source envelope's ``δ_j`` in the finite crystal (theory.md §9.1)."""

    domain: str
    detunings: list[float]
    kappa: list[float]
    error_l2: list[float]
    amplitude_factor: list[complex]
    rate: float
    size: int | None = None
    edge_offsets: list[complex] | None = None

    def to_dict(self) -> dict:
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


def check_detunings(detunings: Sequence[float]) -> None:
    """At least two distinct non-zero relative detunings above −1 (``Ω² > 0``), for a rate."""
    require(len(detunings) >= 2 and len(set(detunings)) == len(detunings),
            f"{{argument}} needs at least two distinct values (for a rate), got {list(detunings)}",
            argument="detunings")
    require(all(-1.0 < d != 0.0 for d in detunings),
            f"{{argument}} must be non-zero and > -1 (Ω² − Ω0² relative to |Ω0²|), got {list(detunings)}",
            argument="detunings")


def drive(omega0: complex, detuning: float) -> float:
    """The real ``Ω`` with ``Ω² = Re Ω₀² + detuning · |Ω₀²|``."""
    omega2 = (omega0**2).real + detuning * abs(omega0**2)
    require(omega2 > 0.0, f"the detuning {detuning} puts Ω² = {omega2:.4g} below 0", argument="detunings")
    return float(np.sqrt(omega2))


def envelope_wavenumber(T: np.ndarray, detuning: complex) -> float:
    """``|κ| = √(|Ω² − Ω₀²| / τ)``, ``τ`` the largest ``|eigenvalue|`` of ``sym T``."""
    tau = np.abs(np.linalg.eigvals(0.5 * (T + T.T))).max()
    return float(np.sqrt(abs(detuning) / tau))


def fit_rate(kappa: Sequence[float], errors: Sequence[float]) -> float:
    """The least-squares slope of ``log errors`` against ``log kappa``."""
    return float(np.polyfit(np.log(kappa), np.log(errors), 1)[0])


def _study(domain: str, hfh: HFHResult, detunings: Sequence[float], omegas: Sequence[float],
           errors: Sequence[float], factors: Sequence[complex], size: int | None = None) -> ConvergenceStudy:
    kappa = [envelope_wavenumber(hfh.T, omega**2 - hfh.omega0**2) for omega in omegas]
    study = ConvergenceStudy(domain, list(detunings), kappa, list(errors), list(factors), fit_rate(kappa, errors),
                             size)
    for d, k, e, c in zip(detunings, kappa, errors, factors):
        log(f"  {domain}: detuning {d:+.4g}, |κ| {k:.4f}: error_l2 {e:.4f}, amplitude factor |c| {abs(c):.3f}")
    log(f"  {domain}: fitted rate {study.rate:.2f} (theory ≥ 1)")
    return study


def finite_crystal_study(crystal: CrystalMesh, problem: BlochProblem, hfh: HFHResult, geometry: CellGeometry,
                         source: CrystalSource, detunings: Sequence[float], *, h_envelope: float, degree: int = 2,
                         parabolic_tol: float = 0.05, edge_offset: EdgeOffset = "auto") -> ConvergenceStudy:
    """:func:`~fem_homog.photonics.envelope.compare_with_full_wave` at the drive of every relative detuning;
    for the periodic source with the crystal edge of ``edge_offset``
    (:func:`~fem_homog.photonics.envelope.resolve_edge`, resolved once for all detunings)."""
    check_detunings(detunings)
    omegas = [drive(hfh.omega0, d) for d in detunings]
    edge = resolve_edge(problem, hfh, crystal.geometry, edge_offset) if source.periodic else None
    errors, factors = [], []
    for omega in omegas:
        at = replace(source, frequency=float(to_reduced(omega)))
        model = replace(envelope_model(hfh, geometry, at, parabolic_tol=parabolic_tol), edge=edge)
        result = compare_with_full_wave(crystal, problem, model, at, h_envelope=h_envelope, degree=degree).result
        errors.append(result.error_l2)
        factors.append(result.amplitude_factor)
    study = _study("finite_crystal", hfh, detunings, omegas, errors, factors)
    study.edge_offsets = edge.delta if edge is not None else None
    return study


def supercell_study(problem: BlochProblem, hfh: HFHResult, source: CrystalSource, counts: Sequence[int],
                    detunings: Sequence[float], *, size: int) -> ConvergenceStudy:
    """The periodic source over the ``counts`` block in the ``size × size`` Bloch supercell
    (:func:`~fem_homog.photonics.supercell.supercell_errors`) at every relative detuning."""
    check_detunings(detunings)
    omegas = [drive(hfh.omega0, d) for d in detunings]
    result = supercell_errors(problem, hfh, omegas, size=size, block=counts, position=source.position)
    return _study("supercell", hfh, detunings, omegas, result.error_l2, result.amplitude_factor, size)


def plot_convergence(studies: Sequence[ConvergenceStudy], path: Path):
    """``path``: ``error_l2`` against ``|κ|`` in log–log per study, with a slope-1 guide (call on one rank).
    Returns the matplotlib figure (closed, its data intact)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for study in studies:
        label = study.domain.replace("_", " ") + (f" {study.size}×{study.size}" if study.size else "")
        ax.loglog(study.kappa, study.error_l2, "o-", label=f"{label} (rate {study.rate:.2f})")
    k = np.array([min(min(s.kappa) for s in studies), max(max(s.kappa) for s in studies)])
    e0 = max(max(s.error_l2) for s in studies)
    ax.loglog(k, e0 * k / k[-1], "k--", lw=0.8, label="∝ |κ|")
    ax.set_xlabel("|κ| = √(|Ω² − Ω0²| / τ)")
    ax.set_ylabel("relative L² error of f U0")
    ax.set_title("HFH towards the band edge")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig
