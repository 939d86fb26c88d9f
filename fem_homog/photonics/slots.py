"""The one TM/TE slot rule: which material function multiplies the gradient term and which the mass term.

Every scalar photonic problem of the suite solves ``−∇·(μ_s ∇u) − Ω² ρ_s u = f`` (theory.md §1 table):

* TM (``u = E_z``): ``μ_s = 1/μ_r``, ``ρ_s = ε``;
* TE (``u = H_z``): ``μ_s = 1/ε``,   ``ρ_s = μ_r``.

:func:`slot_pair` states the rule once, for anything that supports it (numbers, material models, their
polynomial fractions); :func:`slot_values` evaluates it for numbers. Bloch problems, finite crystals and 1D
laminates all call these, so the same medium is the same medium everywhere.
"""

from __future__ import annotations

from typing import TypeVar

from fem_homog.core.errors import require

POLARIZATIONS = ("TM", "TE")
"""``"TM"``: the field is ``E_z``; ``"TE"``: the field is ``H_z`` (2D cells; 1D and 3D use the same scalar equation)."""

T = TypeVar("T")


def check_polarization(polarization: str) -> None:
    """Refuse anything but ``"TM"`` or ``"TE"`` (argument ``polarization``)."""
    require(polarization in POLARIZATIONS,
            f"unknown {{argument}} '{polarization}' (known: {', '.join(POLARIZATIONS)})", argument="polarization")


def slot_pair(eps: T, mu_r: T, polarization: str) -> tuple[T, T]:
    """``(a, b)`` with ``μ_s = 1/a`` and ``ρ_s = b``: TM → ``(μ_r, ε)``, TE → ``(ε, μ_r)``."""
    check_polarization(polarization)
    return (mu_r, eps) if polarization == "TM" else (eps, mu_r)


def slot_values(eps: complex, mu_r: complex, polarization: str) -> tuple[complex, complex]:
    """``(μ_s, ρ_s)`` of a phase with permittivity ``eps`` and relative permeability ``mu_r`` (numbers)."""
    inverted, rho = slot_pair(eps, mu_r, polarization)
    return 1.0 / inverted, rho
