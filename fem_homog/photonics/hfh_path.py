"""HFH asymptotic dispersion against the exact FEM bands around the zone point (theory.md §8.2–§8.5).

The "exact" band at ``k0 + κ e`` is the Bloch eigenproblem in the quasi-periodic space of ``k0`` with the
stiffness shifted by ``κ e`` – the very discretization that HFH expands – so the difference to the asymptotic
prediction is the asymptotic error alone: ``O(κ⁴)`` in ``Ω²`` for a simple eigenvalue at a zone edge,
``O(κ²)`` for the linear branches of a repeated one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_homog.photonics.bands import collect_modes
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.hfh import HFHResult, has_static_limit
from fem_homog.cells.lattice import in_first_zone


def probe_directions(k0: np.ndarray, lattice: np.ndarray) -> dict[str, np.ndarray]:
    """Unit directions along the axes (and the diagonal in 2D), each pointing into the first zone from ``k0``."""
    d = len(k0)
    step = 1e-3 * np.pi / np.abs(lattice).max()
    inward = np.array([1.0 if in_first_zone(k0 + step * e, lattice) else -1.0 for e in np.eye(d)])
    names = ["x", "y", "z"][:d]
    out = {name: inward * np.eye(d)[j] for j, name in enumerate(names)}
    if d == 2:
        out["diagonal"] = inward / np.sqrt(2)
    return out


@dataclass
class Comparison:
    """Exact and predicted ``Ω`` of the model's branches along one direction, at the sampled ``|κ|``."""

    direction: np.ndarray
    kappa: np.ndarray
    exact: np.ndarray      # (n_kappa, m) complex Ω
    predicted: np.ndarray  # (n_kappa, m) complex Ω

    @property
    def error(self) -> np.ndarray:
        """``max_p |Ω²_exact − Ω²_HFH| / |Ω0²|`` per ``κ`` (relative to 1 for the low-frequency limit)."""
        scale = max(abs(np.mean(self.predicted[0])) ** 2, 1e-2)
        return np.abs(self.exact ** 2 - self.predicted ** 2).max(axis=1) / scale


def compare_along(problem: BlochProblem, result: HFHResult, direction: np.ndarray,
                  kappas: np.ndarray) -> Comparison:
    """Solve the Bloch problem at ``k0 + κ direction`` and keep, for every predicted branch, the nearest exact
    frequency."""
    exact, predicted = [], []
    m = len(result.omegas)
    for kappa in kappas:
        shift = kappa * direction
        K, M, P = problem.quasi_periodic_operators(result.k0, shift=shift)
        guess = np.sqrt(result.predict([shift])[0].astype(complex))
        target = float(np.mean(guess.real))
        sol = problem.eigenpairs(result.k0 + shift, K, M, nev=m + 4, target=target)
        found = sol.omegas if len(sol.omegas) else np.array([np.nan])
        exact.append([found[np.argmin(np.abs(found - g))] for g in guess])
        predicted.append(guess)
        for A in [*K, *M, P]:
            A.destroy()
    return Comparison(direction, np.asarray(kappas), np.array(exact), np.array(predicted))


def fitted_slope(kappa: np.ndarray, error: np.ndarray) -> float:
    """Least-squares slope of ``log error`` against ``log |κ|``."""
    keep = error > 0
    return float(np.polyfit(np.log(kappa[keep]), np.log(error[keep]), 1)[0])


def bands_along(problem: BlochProblem, ks: np.ndarray, wanted: int, search_from: float) -> np.ndarray:
    """The ``wanted`` lowest physical frequencies (Ω, increasing real part; NaN where fewer converged) at each
    k-point, for the band diagram the HFH asymptotics are drawn on."""
    rows = np.full((len(ks), wanted), np.nan, dtype=complex)
    for n, k in enumerate(ks):
        pairs, _ = collect_modes(lambda nev, target: problem.solve(k, nev=nev, target=target), wanted, search_from)
        omegas = [p.omega for p in pairs]
        if np.allclose(k, 0.0) and has_static_limit(problem) and problem.dispersive:
            omegas = [0j, *omegas][:wanted]  # the acoustic band at Γ (filtered as static by the PEP)
        rows[n, :len(omegas)] = omegas
    return rows
