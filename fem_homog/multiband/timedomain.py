"""Time domain: a pulse crossing the interface between a homogeneous bar (``x < 0``) and the metamaterial
(``x > 0``), solved with dolfinx for the real-space model and for the fine-scale laminate (theory.md §10.7).

Model (single band, ``N ≤ 2``), from the Lagrangian of theory.md §10.2: ``M ü + K u = 0`` with

    M(w, v) = ∫ ρ_0 w v + ρ_1 w' v' + B_{ρ_2}(w, v),   K(u, v) = ∫ E_1 u' v' + B_{E_2}(u, v),

``B_a`` the C0 interior-penalty form of ``∫ a u'' v''`` on P2 (:mod:`fem_homog.forms.interior_penalty`) on the
facets inside the metamaterial. The interface facet carries no facet term, which imposes the mixed-order natural
conditions ``[u] = [τ_0] = 0``, ``τ_1 = 0`` (right side). The coefficients are piecewise constant: ``(ρ_h, E_h)``
on the left, the fitted ``(ρ̄, Ē, ρ_1, E_2, ρ_2)`` on the right. Fine scale: ``M = ∫ ρ w v``, ``K = ∫ E u' v'`` on
the actual layers (forms of :mod:`fem_homog.forms.real_space`). Both are integrated by Newmark's
average-acceleration rule, which conserves the discrete energy ``½ vᵀMv + ½ uᵀKu`` exactly (to round-off).
Serial by design (``MPI.COMM_SELF``, scipy's sparse LU).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.forms import real_space
from fem_homog.multiband import plots, scattering
from fem_homog.multiband.fem1d import assemble_real, line_mesh, piecewise, stack
from fem_homog.multiband.model import Model, classical
from fem_homog.multiband.scattering import Media

import dolfinx.fem


@dataclass(frozen=True, kw_only=True)
class PulseOptions:
    """A pulse study (:func:`pulse_study`): carrier ``omega`` and Gaussian ``width`` of the incident pulse, which
    starts at ``x = −length/2``; ``length`` of the homogeneous side, ``cells`` of the laminate; final ``time``
    and Newmark step ``dt``; mesh sizes ``h_model`` (P2 + C0-IP) and ``h_fine`` (Lagrange of ``degree``);
    number of ``snapshots`` recorded (evenly spaced, the last at the final time)."""

    omega: float
    width: float
    cells: int
    length: float
    time: float
    dt: float
    h_model: float
    h_fine: float
    degree: int
    snapshots: int

    def __post_init__(self):
        for name in ("omega", "width", "length", "dt", "h_model", "h_fine"):
            value = getattr(self, name)
            require(value > 0, f"must be positive, got {value}", argument=name)
        require(self.time > self.dt, f"must be longer than one step (dt = {self.dt}), got {self.time}",
                argument="time")
        for name in ("cells", "degree", "snapshots"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 1, f"must be an integer ≥ 1, got {value}", argument=name)

    @property
    def start(self) -> float:
        """Centre of the pulse at ``t = 0``."""
        return -0.5 * self.length

    @property
    def steps(self) -> int:
        return int(round(self.time / self.dt))

    @property
    def snapshot_steps(self) -> list[int]:
        return sorted({int(round(s)) for s in np.linspace(0, self.steps, self.snapshots)})


@dataclass
class PulseDiscretization:
    """Real symmetric ``M``, ``K`` of ``M ü + K u = 0`` and their parts on ``x > 0`` (``M_right``, ``K_right``),
    dof coordinates (1D: ``x``; 2D: ``(x, y)`` rows) and, optionally, the function space (to write fields)."""

    M: scipy.sparse.csr_matrix
    K: scipy.sparse.csr_matrix
    M_right: scipy.sparse.csr_matrix
    K_right: scipy.sparse.csr_matrix
    x: np.ndarray
    space: dolfinx.fem.FunctionSpace | None = None


def model_coefficients(model: Model) -> dict[str, float]:
    """``ρ_0, E_1, ρ_1, E_2, ρ_2`` of a single-band model of order ≤ 2 (zeros where absent)."""
    require(model.time_order == 1, f"must be a single-band model (time order 1), got time order {model.time_order}",
            argument="model")
    require(model.order <= 2, f"must have order N ≤ 2 for the time-domain solver, got N = {model.order}",
            argument="model")
    C = np.zeros((3, 2))
    C[:model.order + 1] = model.C
    return {"rho0": -C[0, 1], "E1": C[1, 0], "rho1": -C[1, 1], "E2": C[2, 0], "rho2": -C[2, 1]}


def model_discretization(model: Model, E_h: float, rho_h: float, length_left: float, length_right: float,
                         h: float) -> PulseDiscretization:
    """P2 + C0-IP matrices (:func:`~fem_homog.forms.real_space.bar_model`) of the homogeneous bar on
    ``[−length_left, 0]`` and the model on ``[0, length_right]``."""
    breaks = [-length_left, 0.0, length_right]
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    right = model_coefficients(model)
    left = {**dict.fromkeys(right, 0.0), "rho0": rho_h, "E1": E_h}
    inside = piecewise(mesh, breaks, [0.0, 1.0])

    def matrices(lhs: dict, rhs: dict):
        M, K = real_space.bar_model(V, {key: piecewise(mesh, breaks, [lhs[key], rhs[key]]) for key in rhs}, inside)
        return assemble_real(M), assemble_real(K)

    M, K = matrices(left, right)
    M_right, K_right = matrices(dict.fromkeys(right, 0.0), right)
    return PulseDiscretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, 0].copy())


def fine_discretization(spec: Sequence[Sequence[float]], cells: int, E_h: float, rho_h: float,
                        length_left: float, h: float, degree: int = 2) -> PulseDiscretization:
    """Lagrange matrices of the homogeneous bar on ``[−length_left, 0]`` and ``cells`` periods of the laminate."""
    breaks, E, rho = stack(spec, cells)
    breaks = [-length_left] + breaks
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))

    def matrices(E_left: float, rho_left: float):
        Ef, rf = piecewise(mesh, breaks, [E_left] + E), piecewise(mesh, breaks, [rho_left] + rho)
        return assemble_real(real_space.mass(V, rf)), assemble_real(real_space.stiffness(V, Ef))

    M, K = matrices(E_h, rho_h)
    M_right, K_right = matrices(0.0, 0.0)
    return PulseDiscretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, 0].copy())


def gaussian_pulse(x: np.ndarray, x0: float, omega: float, c: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """A right-going pulse ``f(x − x0 − ct)`` at ``t = 0``, ``f(ξ) = exp(−ξ²/2s²) cos(ωξ/c)``: ``(u_0, v_0)``."""
    xi = x - x0
    envelope = np.exp(-xi ** 2 / (2 * width ** 2))
    q = omega / c
    f = envelope * np.cos(q * xi)
    df = envelope * (-xi / width ** 2 * np.cos(q * xi) - q * np.sin(q * xi))
    return f, -c * df


@dataclass
class History:
    """Energies (total, right of the interface) at every step and the recorded snapshots."""

    times: list[float] = field(default_factory=list)
    energy: list[float] = field(default_factory=list)
    energy_right: list[float] = field(default_factory=list)
    snapshots: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0


def newmark(disc: PulseDiscretization, u: np.ndarray, v: np.ndarray, dt: float, steps: int,
            snapshot_steps: Sequence[int]) -> History:
    """Average-acceleration Newmark (β = 1/4, γ = 1/2) for ``M ü + K u = 0``."""
    start = time.perf_counter()
    M, K = disc.M.tocsc(), disc.K.tocsc()
    a = scipy.sparse.linalg.splu(M).solve(-(K @ u))
    solver = scipy.sparse.linalg.splu((M + 0.25 * dt ** 2 * K).tocsc(), permc_spec="MMD_AT_PLUS_A")  # symmetric
    hist = History()

    def record(step: int):
        hist.times.append(step * dt)
        hist.energy.append(0.5 * v @ (disc.M @ v) + 0.5 * u @ (disc.K @ u))
        hist.energy_right.append(0.5 * v @ (disc.M_right @ v) + 0.5 * u @ (disc.K_right @ u))
        if step in snapshot_steps:
            hist.snapshots.append(u.copy())

    record(0)
    for step in range(1, steps + 1):
        predictor = u + dt * v + 0.25 * dt ** 2 * a
        a_new = solver.solve(-(K @ predictor))
        u = predictor + 0.25 * dt ** 2 * a_new
        v = v + 0.5 * dt * (a + a_new)
        a = a_new
        record(step)
    hist.seconds = time.perf_counter() - start
    return hist


def spectral_transmission(transmission, omega: float, c: float, width: float, count: int = 64,
                          k2: float = 0.0) -> float:
    """Energy-weighted mean of ``T_E(ω)`` over the spectrum of :func:`gaussian_pulse`: its energy density per
    wavenumber ``q > 0`` is ``∝ ω² |f̂(q)|²``, ``f̂ ∝ e^{−s²(q−q_0)²/2} + e^{−s²(q+q_0)²/2}``, at
    ``ω = c sqrt(q² + k_2²)`` (``k_2``: the tangential wavenumber of a 2D pulse, ``q_0 = sqrt(ω_0²/c² − k_2²)``)."""
    q0 = np.sqrt((omega / c) ** 2 - k2 ** 2)
    q = np.linspace(max(q0 - 4 / width, 1e-3), q0 + 4 / width, count)
    w = c * np.sqrt(q ** 2 + k2 ** 2)
    spectrum = w ** 2 * (np.exp(-width ** 2 * (q - q0) ** 2 / 2) + np.exp(-width ** 2 * (q + q0) ** 2 / 2)) ** 2
    values = np.array([transmission(ww) for ww in w])
    return float(np.trapezoid(values * spectrum, q) / np.trapezoid(spectrum, q))


@dataclass(frozen=True, kw_only=True)
class RunReport:
    """One Newmark run: ``dofs``, ``steps``, wall ``seconds``, relative ``energy_drift`` (max over the steps) and
    the fraction of the initial energy found on ``x > 0`` at the end (``transmitted_energy``)."""

    dofs: int
    steps: int
    seconds: float
    energy_drift: float
    transmitted_energy: float

    @classmethod
    def of(cls, disc: PulseDiscretization, hist: History) -> RunReport:
        e = np.array(hist.energy)
        return cls(dofs=disc.M.shape[0], steps=len(hist.times) - 1, seconds=hist.seconds,
                   energy_drift=float(np.max(np.abs(e - e[0])) / e[0]),
                   transmitted_energy=float(hist.energy_right[-1] / e[0]))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class PulseStudy:
    """Model against fine scale for one pulse: the spectral averages of the frequency-domain ``T_E`` the
    transmitted energies must reproduce (``model``, ``exact``), a :class:`RunReport` per run, the relative L2
    differences model − fine of the reflected (``x < 0``) and transmitted (``x > 0``) fields at the final time,
    and the fine/model wall-time ratio ``speedup``."""

    spectral_transmission: dict[str, float]
    model: RunReport
    fine: RunReport
    reflected_pulse_difference: float
    transmitted_pulse_difference: float
    speedup: float

    def to_dict(self) -> dict:
        return {"spectral_transmission": dict(self.spectral_transmission), "model": self.model.to_dict(),
                "fine": self.fine.to_dict(), "reflected_pulse_difference": self.reflected_pulse_difference,
                "transmitted_pulse_difference": self.transmitted_pulse_difference, "speedup": self.speedup}


def pulse_differences(model_final: np.ndarray, fine_final: np.ndarray, left: np.ndarray) -> dict[str, float]:
    """``{reflected,transmitted}_pulse_difference``: relative L2 differences of the final model field (given at
    the fine dofs) and the fine field, on the dofs ``left`` of the interface and on the others."""
    out = {}
    for side, mask in (("reflected", left), ("transmitted", ~left)):
        uf = fine_final[mask]
        out[f"{side}_pulse_difference"] = float(np.linalg.norm(model_final[mask] - uf)
                                                / max(np.linalg.norm(uf), 1e-300))
    return out


def pulse_study(model: Model, media: Media, options: PulseOptions, *, out: Path | None = None) -> PulseStudy:
    """Run the model and the fine-scale laminate for the same pulse; compare energies and pulse shapes
    (theory.md §10.7). ``out``: write ``timedomain.png`` (snapshots) there."""
    E_h, rho_h, c_h = media.E_h, media.rho_h, media.wave_speed
    o = options
    discs = {"model": model_discretization(model, E_h, rho_h, o.length, o.cells, o.h_model),
             "fine": fine_discretization(media.layers, o.cells, E_h, rho_h, o.length, o.h_fine, o.degree)}
    runs = {}
    for name, disc in discs.items():
        u0, v0 = gaussian_pulse(disc.x, o.start, o.omega, c_h, o.width)
        log(f"  time domain, {name}: {disc.M.shape[0]} dofs, {o.steps} steps")
        runs[name] = (disc, newmark(disc, u0, v0, o.dt, o.steps, o.snapshot_steps))
    hom = classical(E_h, rho_h)
    spectral = {
        "model": spectral_transmission(lambda w: scattering.solve([hom, model], [0.0], w).T_E, o.omega, c_h, o.width),
        "exact": spectral_transmission(lambda w: scattering.exact(media.layers, E_h, rho_h, w, None).T_E, o.omega,
                                       c_h, o.width)}
    (dm, hm), (df, hf) = runs["model"], runs["fine"]
    order_m, order_f = np.argsort(dm.x), np.argsort(df.x)
    um = np.interp(df.x, dm.x[order_m], hm.snapshots[-1][order_m])
    if out is not None:
        plots.plot_snapshots(dm.x[order_m], [s[order_m] for s in hm.snapshots], df.x[order_f],
                             [s[order_f] for s in hf.snapshots], [hm.times[s] for s in o.snapshot_steps], 0.0,
                             out / "timedomain.png")
    return PulseStudy(spectral_transmission=spectral, model=RunReport.of(dm, hm), fine=RunReport.of(df, hf),
                      **pulse_differences(um, hf.snapshots[-1], df.x < 0), speedup=hf.seconds / hm.seconds)
