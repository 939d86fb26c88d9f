"""Time domain: a pulse crossing the interface between a homogeneous bar (``x < 0``) and the metamaterial
(``x > 0``), solved with dolfinx for the real-space model and for the fine-scale laminate (theory.md §10.2).

Model (single band, ``N ≤ 2``), from the Lagrangian of theory.md §10.2: ``M ü + K u = 0`` with

    M(w, v) = ∫ ρ_0 w v + ρ_1 w' v' + B_{ρ_2}(w, v),   K(u, v) = ∫ E_1 u' v' + B_{E_2}(u, v),

``B_a`` the C0 interior-penalty form of ``∫ a u'' v''`` on P2 (Engel et al. 2002): broken ``∫ a u'' v''`` minus
the consistency terms ``{a u''}[[v']] + {a v''}[[u']]`` plus ``α a/h [[u']][[v']]`` on the facets inside the
metamaterial. The interface facet carries none of them, which imposes the mixed-order natural conditions
``[u] = [τ_0] = 0``, ``τ_1 = 0`` (right side). The coefficients are piecewise constant: ``(ρ_h, E_h)`` on the
left, the fitted ``(ρ̄, Ē, ρ_1, E_2, ρ_2)`` on the right. Fine scale: ``M = ∫ ρ w v``, ``K = ∫ E u' v'`` on the
actual layers. Both are integrated by Newmark's average-acceleration rule, which conserves the discrete energy
``½ vᵀMv + ½ uᵀKu`` exactly (to round-off).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import ufl

import dolfinx.fem

from fem_homog.cli.driver import Config
from fem_homog.core.logging import log
from fem_homog.core.errors import require
from fem_homog.multiband import plots, scattering
from fem_homog.multiband.fem1d import line_mesh, piecewise, stack, to_scipy
from fem_homog.multiband.model import Model, classical

PENALTY = 10.0  # α of the C0 interior-penalty terms (P2); coercive for α ≳ 4 in 1D


@dataclass
class Discretization:
    """Real symmetric ``M``, ``K`` and their parts on ``x > 0`` (``M_right``, ``K_right``), dof coordinates
    (1D: ``x``; 2D: ``(x, y)`` rows) and, optionally, the function space (to write fields)."""

    M: scipy.sparse.csr_matrix
    K: scipy.sparse.csr_matrix
    M_right: scipy.sparse.csr_matrix
    K_right: scipy.sparse.csr_matrix
    x: np.ndarray
    space: dolfinx.fem.FunctionSpace | None = None


def _real(form) -> scipy.sparse.csr_matrix:
    A = to_scipy(form).real.tocsr()
    A.eliminate_zeros()  # the parts on x > 0 store the zero blocks of x < 0
    return A


def _interior_penalty(a: dolfinx.fem.Function, inside: dolfinx.fem.Function, u, v) -> ufl.Form:
    """C0-IP form of ``∫ a u'' v''`` with facet terms only where both neighbours are ``inside``."""
    mesh = a.function_space.mesh
    n, h = ufl.FacetNormal(mesh), ufl.CellDiameter(mesh)
    d2u, d2v = ufl.div(ufl.grad(u)), ufl.div(ufl.grad(v))
    ju, jv = ufl.jump(ufl.grad(u), n), ufl.jump(ufl.grad(v), n)
    both = inside("+") * inside("-")
    return (ufl.inner(a * d2u, d2v) * ufl.dx
            - both * (ufl.inner(ufl.avg(a * d2u), jv) + ufl.inner(ju, ufl.avg(a * d2v))) * ufl.dS
            + both * PENALTY / ufl.avg(h) * ufl.avg(a) * ufl.inner(ju, jv) * ufl.dS)


def model_coefficients(model: Model) -> dict[str, float]:
    """``ρ_0, E_1, ρ_1, E_2, ρ_2`` of a single-band model of order ≤ 2 (zeros where absent)."""
    require(model.time_order == 1, "the time-domain solver handles single-band models (model.bands = 1)")
    require(model.order <= 2, f"the time-domain solver handles orders N ≤ 2, got N = {model.order}")
    C = np.zeros((3, 2))
    C[:model.order + 1] = model.C
    return {"rho0": -C[0, 1], "E1": C[1, 0], "rho1": -C[1, 1], "E2": C[2, 0], "rho2": -C[2, 1]}


def model_discretization(model: Model, E_h: float, rho_h: float, length_left: float, length_right: float,
                         h: float) -> Discretization:
    """P2 + C0-IP matrices of the homogeneous bar on ``[−length_left, 0]`` and the model on
    ``[0, length_right]``."""
    breaks = [-length_left, 0.0, length_right]
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    right = model_coefficients(model)
    left = {**dict.fromkeys(right, 0.0), "rho0": rho_h, "E1": E_h}
    inside = piecewise(mesh, breaks, [0.0, 1.0])

    def forms(lhs: dict, rhs: dict):
        c = {key: piecewise(mesh, breaks, [lhs[key], rhs[key]]) for key in rhs}
        M = (ufl.inner(c["rho0"] * u, v) * ufl.dx + ufl.inner(c["rho1"] * u.dx(0), v.dx(0)) * ufl.dx
             + _interior_penalty(c["rho2"], inside, u, v))
        K = ufl.inner(c["E1"] * u.dx(0), v.dx(0)) * ufl.dx + _interior_penalty(c["E2"], inside, u, v)
        return _real(M), _real(K)

    M, K = forms(left, right)
    M_right, K_right = forms(dict.fromkeys(right, 0.0), right)
    return Discretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, 0].copy())


def fine_discretization(spec: Sequence[Sequence[float]], cells: int, E_h: float, rho_h: float,
                        length_left: float, h: float, degree: int = 2) -> Discretization:
    """Lagrange matrices of the homogeneous bar on ``[−length_left, 0]`` and ``cells`` periods of the laminate."""
    breaks, E, rho = stack(spec, cells)
    breaks = [-length_left] + breaks
    mesh = line_mesh(breaks, h)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)

    def forms(E_left: float, rho_left: float):
        Ef, rf = piecewise(mesh, breaks, [E_left] + E), piecewise(mesh, breaks, [rho_left] + rho)
        return _real(ufl.inner(rf * u, v) * ufl.dx), _real(ufl.inner(Ef * u.dx(0), v.dx(0)) * ufl.dx)

    M, K = forms(E_h, rho_h)
    M_right, K_right = forms(0.0, 0.0)
    return Discretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, 0].copy())


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


def newmark(disc: Discretization, u: np.ndarray, v: np.ndarray, dt: float, steps: int,
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


def pulse_study(config: Config, model: Model, out: Path | None) -> dict:
    """Run the model and the fine-scale laminate for the same pulse; compare energies and pulse shapes.

    Returns energy drifts, transmitted energy fractions (time domain, and the spectral average of the
    frequency-domain ``T_E`` they must reproduce), the relative L2 differences model − fine of the reflected
    (``x < 0``) and transmitted (``x > 0``) pulses at the final time, and the fine/model wall-time ratio.
    """
    td, spec = config["timedomain"], config["laminate"]["layers"]
    E_h, rho_h = config["homogeneous"]["E"], config["homogeneous"]["rho"]
    require(td["dt"] > 0 and td["time"] > td["dt"], "timedomain.dt and timedomain.time must be positive")
    require(td["length"] > 0 and td["cells"] >= 1, "timedomain.length and timedomain.cells must be positive")
    c_h = np.sqrt(E_h / rho_h)
    x0 = -0.5 * td["length"]
    steps = int(round(td["time"] / td["dt"]))
    snaps = sorted({int(round(s)) for s in np.linspace(0, steps, td["snapshots"])})
    runs = {}
    for name, disc in (("model", model_discretization(model, E_h, rho_h, td["length"], td["cells"], td["h_model"])),
                       ("fine", fine_discretization(spec, td["cells"], E_h, rho_h, td["length"], td["h_fine"],
                                                    td["degree"]))):
        u0, v0 = gaussian_pulse(disc.x, x0, td["omega"], c_h, td["width"])
        log(f"  time domain, {name}: {disc.M.shape[0]} dofs, {steps} steps")
        runs[name] = (disc, newmark(disc, u0, v0, td["dt"], steps, snaps))
    hom = classical(E_h, rho_h)
    spectral = {
        "model": spectral_transmission(lambda w: scattering.solve([hom, model], [0.0], w).T_E, td["omega"], c_h,
                                       td["width"]),
        "exact": spectral_transmission(lambda w: scattering.exact(spec, E_h, rho_h, w, None).T_E, td["omega"],
                                       c_h, td["width"])}
    result = {"spectral_transmission": spectral}
    for name, (disc, hist) in runs.items():
        e = np.array(hist.energy)
        result[name] = {"dofs": disc.M.shape[0], "steps": steps, "seconds": hist.seconds,
                        "energy_drift": float(np.max(np.abs(e - e[0])) / e[0]),
                        "transmitted_energy": float(hist.energy_right[-1] / e[0])}
    (dm, hm), (df, hf) = runs["model"], runs["fine"]
    left = df.x < 0
    order_m, order_f = np.argsort(dm.x), np.argsort(df.x)
    um = np.interp(df.x, dm.x[order_m], hm.snapshots[-1][order_m])
    for side, mask in (("reflected", left), ("transmitted", ~left)):
        uf = hf.snapshots[-1][mask]
        result[f"{side}_pulse_difference"] = float(np.linalg.norm(um[mask] - uf) / max(np.linalg.norm(uf), 1e-300))
    result["speedup"] = hf.seconds / hm.seconds
    if out is not None:
        plots.plot_snapshots(dm.x[order_m], [s[order_m] for s in hm.snapshots], df.x[order_f],
                             [s[order_f] for s in hf.snapshots], [hm.times[s] for s in snaps], 0.0,
                             out / "timedomain.png")
    return result
