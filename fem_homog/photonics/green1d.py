"""Exact 1D Green's function of a finite layered stack in a homogeneous background (theory.md §7, §9).

Solves ``−(μu')' − Ω²ρu = δ(x − x_s)`` on the line, ``μ, ρ`` piecewise constant, with outgoing waves
``e^{±i q_b x}`` in the background on both sides. With the state ``w = (u, μu')`` carried by the transfer
matrices of :mod:`fem_homog.photonics.laminate1d`, the source is the jump ``w(x_s⁺) − w(x_s⁻) = (0, −1)``, the left
exterior state is ``A (1, −iZ_b)`` and the right one must be proportional to ``(1, iZ_b)`` (``Z_b = μ_b q_b``),
which fixes ``A``. This is the exact reference for the 1D full-wave stack with PMLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import require
from fem_homog.photonics.laminate1d import Layer, photonic_layers, transfer_matrix
from fem_homog.photonics.materials import Phase


@dataclass(frozen=True)
class Stack:
    """Layers between the breakpoints ``breaks[0] < … < breaks[-1]``, slot values ``(μ_m, ρ_m)`` per
    layer at the drive frequency, and the background ``(μ_b, ρ_b)`` outside."""

    breaks: tuple[float, ...]
    slots: tuple[tuple[complex, complex], ...]
    background: tuple[complex, complex]

    def __post_init__(self) -> None:
        require(len(self.slots) == len(self.breaks) - 1, "one (μ, ρ) pair per layer")
        require(bool(np.all(np.diff(self.breaks) > 0)), "stack breakpoints must increase")


def laminate_stack(cells: int, fraction: float, phases: Sequence[Phase], omega: float, polarization: str,
                   period: float = 1.0) -> Stack:
    """``cells`` periods ``[0, L]`` of a centred inclusion layer of volume ``fraction`` (the layout of
    :func:`fem_homog.cells.meshing.mesh_cell` laminates) in the matrix, which is also the background.

    ``phases`` are the :data:`MATRIX` and :data:`INCLUSION` phases (as for
    :func:`fem_homog.photonics.crystal.solve_full_wave`); their ``ε`` and ``μ_r`` enter through the slot rule.
    """
    media = {phase.tag: phase for phase in phases}
    require(set(media) == {MATRIX, INCLUSION}, f"must be the matrix and inclusion phases (tags {MATRIX}, "
                                              f"{INCLUSION}), got tags {sorted(media)}", argument="phases")
    a, b = 0.5 * (1 - fraction) * period, 0.5 * (1 + fraction) * period
    order = [media[MATRIX], media[INCLUSION], media[MATRIX]]
    layers = photonic_layers([p.eps for p in order], [a, b - a, period - b], polarization,
                             mu_r=[p.mu_r for p in order])
    period_slots = [(complex(layer.mu(omega)), complex(layer.rho(omega))) for layer in layers]
    breaks = [0.0]
    for i in range(cells):
        breaks += [i * period + a, i * period + b, (i + 1) * period]
    return Stack(tuple(breaks), tuple(period_slots * cells), period_slots[0])


def green(stack: Stack, omega: float, x_source: float, x: np.ndarray) -> np.ndarray:
    """``u(x)`` for the unit point source at ``x_source`` (outgoing on both sides)."""
    b0, bn = stack.breaks[0], stack.breaks[-1]
    require(b0 <= x_source <= bn, f"the source {x_source} must lie in the stack [{b0}, {bn}]")
    mu_b, rho_b = stack.background
    q = omega * np.sqrt(rho_b / mu_b + 0j)
    Z = mu_b * q
    left = np.array([1.0, -1j * Z])
    jump = np.array([0.0, -1.0])
    to_source = _propagate(stack, omega, b0, x_source)
    from_source = _propagate(stack, omega, x_source, bn)
    v, g = from_source @ to_source @ left, from_source @ jump
    A = -(g[1] - 1j * Z * g[0]) / (v[1] - 1j * Z * v[0])
    below = A * left
    above = to_source @ below + jump
    B = (from_source @ above)[0]
    values = np.empty(len(x), dtype=complex)
    for n, xn in enumerate(np.asarray(x, dtype=float)):
        if xn <= b0:
            values[n] = A * np.exp(-1j * q * (xn - b0))
        elif xn >= bn:
            values[n] = B * np.exp(1j * q * (xn - bn))
        elif xn <= x_source:
            values[n] = (_propagate(stack, omega, b0, xn) @ below)[0]
        else:
            values[n] = (_propagate(stack, omega, x_source, xn) @ above)[0]
    return values


def _propagate(stack: Stack, omega: float, x1: float, x2: float) -> np.ndarray:
    """Transfer matrix of ``w = (u, μu')`` from ``x1`` to ``x2 ≥ x1`` (both inside the stack)."""
    layers: list[Layer] = []
    for (lo, hi), (mu, rho) in zip(zip(stack.breaks[:-1], stack.breaks[1:]), stack.slots):
        start, end = max(lo, x1), min(hi, x2)
        if end > start:
            layers.append(Layer(end - start, (lambda w, m=mu: m), (lambda w, r=rho: r)))
    return transfer_matrix(layers, omega) if layers else np.eye(2, dtype=complex)
