"""Time-harmonic 1D scattering by piecewise-constant real-space models (theory.md §10.3), the exact
fine-scale answers of :mod:`fem_homog.photonics.laminate1d` it is compared with (theory.md §7), and the sweep
over frequencies that compares the two.

The field in each region is a superposition of the exponentials ``e^{iqx}`` with ``P(q, ω) = 0``: the
outgoing ones on the two half-lines, all ``2N`` inside a finite region (each referenced at the end it decays
from, so long slabs in gaps stay well conditioned). The unknown amplitudes follow from the interface
conditions of :func:`fem_homog.multiband.model.interface_conditions`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fem_homog.core.errors import InputError, require
from fem_homog.core.timing import Timings
from fem_homog.multiband.fits import band_edges, elastic_layers
from fem_homog.multiband.model import REAL_TOL, Model
from fem_homog.photonics import laminate1d

KINDS = ("single", "double")
"""Scattering set-ups: ``single`` boundary (half-space | laminate), ``double`` (a slab between two half-spaces)."""


@dataclass(frozen=True, kw_only=True)
class Media:
    """One period of the laminate ``layers = [[E, ρ, thickness], ...]`` (thicknesses summing to 1) and the
    homogeneous medium ``(E_h, ρ_h)`` it meets. ``termination``: the layer (0-based) that faces the entry
    interface in the exact frequency-domain answers (the time-domain studies start the laminate with layer 0)."""

    layers: tuple[tuple[float, float, float], ...]
    E_h: float
    rho_h: float
    termination: int = 0

    def __post_init__(self):
        elastic_layers(self.layers)
        require(self.E_h > 0, f"must be positive, got {self.E_h}", argument="E_h")
        require(self.rho_h > 0, f"must be positive, got {self.rho_h}", argument="rho_h")
        terminated(self.layers, self.termination)

    @property
    def wave_speed(self) -> float:
        """``c_h = sqrt(E_h / ρ_h)`` of the homogeneous medium."""
        return float(np.sqrt(self.E_h / self.rho_h))

    def pass_bands(self, count: int) -> list[tuple[float, float]]:
        """The laminate's first ``count`` exact pass bands ``[(ω_bottom, ω_top), ...]``."""
        return band_edges(elastic_layers(self.layers), count)


@dataclass(frozen=True)
class Mode:
    """``amplitude · e^{iq(x − x_ref)}`` in region ``region``."""

    region: int
    q: complex
    x_ref: float

    @property
    def propagating(self) -> bool:
        return abs(self.q.imag) <= REAL_TOL * abs(self.q)


@dataclass(frozen=True)
class ModelScattering:
    """Solution of a multi-region model problem for an incident wave of unit amplitude.

    ``R``/``t``: amplitudes of the reflected/transmitted propagating wave (the incident one reversed, and
    the transmitted one of smallest ``|q|``); ``R_E``/``T_E``: reflected/transmitted energy fractions summed
    over propagating waves; ``flux_mismatch``: largest ``|J(x⁻) − J(x⁺)| / J_inc`` over the interfaces.
    """

    R: complex
    t: complex
    R_E: float
    T_E: float
    flux_mismatch: float
    incident: Mode
    modes: list[Mode]
    amplitudes: np.ndarray
    models: list[Model]
    interfaces: list[float]
    omega: float

    @property
    def energy_balance(self) -> float:
        return self.R_E + self.T_E

    def mode_fractions(self, region: int) -> list[tuple[float, float]]:
        """``(q, J_q/J_inc)`` of every propagating wave in ``region`` (in a two-band model a wave's flux need not
        have the sign of its group velocity: the conserved energy is indefinite, theory.md §10.4)."""
        J_inc = self._flux(self.incident)
        return [(float(m.q.real), float(abs(c) ** 2 * self._flux(m) / J_inc))
                for m, c in zip(self.modes, self.amplitudes) if m.region == region and m.propagating]

    def _flux(self, mode: Mode) -> float:
        model = self.models[mode.region]
        return model.flux(model.traces(mode.q, self.omega), self.omega)

    def field(self, x: np.ndarray) -> np.ndarray:
        """``u(x)`` (complex amplitude, incident wave included) on the real line."""
        x = np.asarray(x, dtype=float)
        region = np.searchsorted(self.interfaces, x)
        u = np.zeros(x.shape, dtype=complex)
        for mode, c in [(self.incident, 1.0), *zip(self.modes, self.amplitudes)]:
            mask = region == mode.region
            u[mask] += c * np.exp(1j * mode.q * (x[mask] - mode.x_ref))
        return u


def _conditions(order_a: int, order_b: int) -> tuple[np.ndarray, np.ndarray]:
    """``(S_a, S_b)`` with the interface conditions ``S_a t_a + S_b t_b = 0`` on the traces
    ``t = (∂^j u, τ_j)_{j<N}`` of each side (theory.md §10.2)."""
    n = min(order_a, order_b)
    rows_a, rows_b = [], []
    for j in range(n):
        for offset in (0, 1):  # [∂^j u] = 0, then [τ_j] = 0
            ra, rb = np.zeros(2 * order_a), np.zeros(2 * order_b)
            ra[offset * order_a + j], rb[offset * order_b + j] = 1.0, -1.0
            rows_a.append(ra)
            rows_b.append(rb)
    for j in range(n, order_a):
        ra = np.zeros(2 * order_a)
        ra[order_a + j] = 1.0
        rows_a.append(ra)
        rows_b.append(np.zeros(2 * order_b))
    for j in range(n, order_b):
        rb = np.zeros(2 * order_b)
        rb[order_b + j] = 1.0
        rows_a.append(np.zeros(2 * order_a))
        rows_b.append(rb)
    return np.array(rows_a), np.array(rows_b)


def _modes(models: Sequence[Model], interfaces: Sequence[float], omega: float) -> tuple[Mode, list[Mode]]:
    """The incident mode and the unknown modes of every region."""
    right = [m.right_going(omega) for m in models]
    propagating = [q for q in right[0] if abs(q.imag) <= REAL_TOL * abs(q)]
    if not propagating:
        raise InputError(f"ω = {omega} does not propagate in the incident medium ({models[0].name})")
    q_inc = min(propagating, key=abs)
    incident = Mode(0, q_inc, interfaces[0])
    modes = [Mode(0, -q, interfaces[0]) for q in right[0]]
    for i in range(1, len(models) - 1):
        modes += [Mode(i, q, interfaces[i - 1]) for q in right[i]]
        modes += [Mode(i, -q, interfaces[i]) for q in right[i]]
    last = len(models) - 1
    modes += [Mode(last, q, interfaces[-1]) for q in right[last]]
    return incident, modes


def _trace(models: Sequence[Model], mode: Mode, x: float, omega: float) -> np.ndarray:
    return models[mode.region].traces(mode.q, omega) * np.exp(1j * mode.q * (x - mode.x_ref))


def _total_traces(models, modes, amplitudes, incident, region: int, x: float, omega: float) -> np.ndarray:
    t = sum((c * _trace(models, m, x, omega) for m, c in zip(modes, amplitudes) if m.region == region),
            np.zeros(2 * models[region].order, dtype=complex))
    return t + (_trace(models, incident, x, omega) if region == 0 else 0.0)


def solve(models: Sequence[Model], interfaces: Sequence[float], omega: float) -> ModelScattering:
    """Scattering of a unit right-going wave from region 0 by the regions ``models`` separated at
    ``interfaces`` (increasing), e.g. ``[left, right], [0]`` (single boundary) or
    ``[left, slab, right], [0, L]`` (double boundary)."""
    require(len(models) == len(interfaces) + 1 and len(models) >= 2, "one interface between two regions")
    require(bool(np.all(np.diff(interfaces) > 0)), "interfaces must increase")
    require(omega > 0, f"must be positive, got {omega}", argument="omega")
    incident, modes = _modes(models, interfaces, omega)
    blocks, rhs = [], []
    for k, x in enumerate(interfaces):
        S = _conditions(models[k].order, models[k + 1].order)
        block = np.zeros((S[0].shape[0], len(modes)), dtype=complex)
        for col, mode in enumerate(modes):
            if mode.region in (k, k + 1):
                block[:, col] = S[mode.region - k] @ _trace(models, mode, x, omega)
        blocks.append(block)
        rhs.append(-S[0] @ _trace(models, incident, x, omega) if k == 0 else np.zeros(block.shape[0]))
    A, b = np.vstack(blocks), np.concatenate(rhs)
    row = np.max(np.abs(A), axis=1, keepdims=True)
    A, b = A / row, b / row[:, 0]
    col = np.max(np.abs(A), axis=0)
    amplitudes = np.linalg.solve(A / col, b) / col
    return _summarise(list(models), list(interfaces), omega, incident, modes, amplitudes)


def _summarise(models, interfaces, omega, incident, modes, amplitudes) -> ModelScattering:
    last = len(models) - 1
    reflected = [(abs(m.q + incident.q), c) for m, c in zip(modes, amplitudes) if m.region == 0]
    transmitted = [(abs(m.q), c) for m, c in zip(modes, amplitudes) if m.region == last and m.propagating]
    R = min(reflected, key=lambda p: p[0])[1]
    t = min(transmitted, key=lambda p: p[0])[1] if transmitted else 0.0
    out = ModelScattering(R=complex(R), t=complex(t), R_E=0.0, T_E=0.0, flux_mismatch=0.0, incident=incident,
                          modes=modes, amplitudes=amplitudes, models=models, interfaces=interfaces, omega=omega)
    J_inc = out._flux(incident)
    mismatch = 0.0
    for k, x in enumerate(interfaces):
        J = [models[r].flux(_total_traces(models, modes, amplitudes, incident, r, x, omega), omega)
             for r in (k, k + 1)]
        mismatch = max(mismatch, abs(J[0] - J[1]) / abs(J_inc))
    R_E = -sum(f for _, f in out.mode_fractions(0))
    T_E = sum(f for _, f in out.mode_fractions(last))
    return dataclasses.replace(out, R_E=float(R_E), T_E=float(T_E), flux_mismatch=mismatch)


def terminated(spec: Sequence[Sequence[float]], termination: int) -> list[list[float]]:
    """The period re-ordered so that layer ``termination`` (0-based) faces the entry interface."""
    require(isinstance(termination, (int, np.integer)) and 0 <= termination < len(spec),
            f"must be a layer index 0..{len(spec) - 1}, got {termination}", argument="termination")
    return [list(row) for row in spec[termination:]] + [list(row) for row in spec[:termination]]


def exact(spec: Sequence[Sequence[float]], E_h: float, rho_h: float, omega: float, cells: int | None,
          termination: int = 0) -> laminate1d.Scattering:
    """Exact fine-scale scattering (theory.md §7): half-space ``(E_h, ρ_h)`` against the laminate
    (``cells = None``) or a slab of ``cells`` periods between two such half-spaces."""
    layers = elastic_layers(terminated(spec, termination))
    if cells is None:
        return laminate1d.single_boundary(layers, omega, E_h, rho_h)
    return laminate1d.slab(layers, cells, omega, (E_h, rho_h))


@dataclass(frozen=True, kw_only=True)
class SweepOptions:
    """A frequency sweep of :func:`transmission_sweep`: ``kind`` one of :data:`KINDS`, ``cells`` the slab
    thickness in periods (``double``), ``frequencies`` the angular frequencies ω."""

    kind: str
    cells: int
    frequencies: np.ndarray

    def __post_init__(self):
        require(self.kind in KINDS, f"unknown {{argument}} '{self.kind}' (known: {', '.join(KINDS)})",
                argument="kind")
        require(isinstance(self.cells, int) and self.cells >= 1, f"must be ≥ 1, got {self.cells}", argument="cells")
        require(len(self.frequencies) > 0 and bool(np.all(np.asarray(self.frequencies) > 0)), "must be positive",
                argument="frequencies")

    @property
    def single(self) -> bool:
        return self.kind == "single"


@dataclass(frozen=True)
class TransmissionRow:
    """One frequency: model and exact energy transmission, the model's energy balance ``|R|² + T_E`` and flux
    mismatch, ``|R|`` of both, and the number of propagating waves the model transmits."""

    omega: float
    exact: float
    model: float
    energy_balance: float
    R_exact: float
    R_model: float
    flux_mismatch: float
    propagating_transmitted: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TransmissionSweep:
    """The rows of a sweep of :data:`KINDS` ``kind`` and the mean seconds per frequency of the ``model`` and the
    ``exact`` solves."""

    kind: str
    rows: list[TransmissionRow]
    seconds_per_frequency: dict[str, float]

    def summary(self) -> dict[str, float]:
        """Max and rms ``|T_model − T_exact|``, max ``|energy balance − 1|``, max flux mismatch."""
        diff = np.array([r.model - r.exact for r in self.rows])
        return {"max_abs_T_error": float(np.max(np.abs(diff))), "rms_T_error": float(np.sqrt(np.mean(diff ** 2))),
                "max_energy_balance_error": float(max(abs(r.energy_balance - 1) for r in self.rows)),
                "max_flux_mismatch": float(max(r.flux_mismatch for r in self.rows))}


def transmission_sweep(homogeneous: Model, metamaterial: Model, media: Media,
                       options: SweepOptions) -> TransmissionSweep:
    """Scattering by the model (``homogeneous | metamaterial``, or a slab of ``options.cells`` periods between
    two homogeneous half-spaces) against the exact fine-scale answer, frequency by frequency."""
    models = [homogeneous, metamaterial] if options.single else [homogeneous, metamaterial, homogeneous]
    interfaces = [0.0] if options.single else [0.0, float(options.cells)]
    cells = None if options.single else options.cells
    rows, timings = [], Timings()
    for w in options.frequencies:
        with timings.stage("model"):
            m = solve(models, interfaces, float(w))
        with timings.stage("exact"):
            e = exact(media.layers, media.E_h, media.rho_h, float(w), cells, media.termination)
        rows.append(TransmissionRow(
            omega=float(w), exact=e.T_E, model=m.T_E, energy_balance=m.energy_balance, R_exact=abs(e.R),
            R_model=abs(m.R), flux_mismatch=m.flux_mismatch,
            propagating_transmitted=sum(1 for mode in m.modes if mode.region == len(models) - 1 and mode.propagating)))
    seconds = {name: timings.seconds[name] / len(rows) for name in ("model", "exact")}
    return TransmissionSweep(options.kind, rows, seconds)
