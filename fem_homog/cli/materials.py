"""The ``[material]`` section shared by the photonic drivers (bands, HFH, finite crystals).

The matrix has a constant ``ε``; the inclusion a constant, Drude or Lorentz ``ε`` and optionally a Lorentz
``μ_r`` (``mu_poles``, for magnetic metamaterials such as the negative-index stack of Li et al. 2003). All
frequencies in the config (plasma, resonance, damping) are in units of 2πc/a and are converted here to the
solvers' ``Ω = ω a / c``.
"""

from __future__ import annotations

from typing import Sequence

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.core.errors import require
from fem_homog.core.units import to_omega
from fem_homog.photonics.materials import DispersiveModel, Phase, constant, drude, lorentz

MATERIAL_DEFAULTS = {"matrix": 1.0, "inclusion": 8.9, "inclusion_model": "constant", "eps_inf": 1.0,
                     "omega_p": 1.0, "gamma": 0.0, "poles": [], "mu_poles": []}

MODELS = ("constant", "drude", "lorentz")
"""The values of ``material.inclusion_model``."""


def model_from_config(kind: str, *, value: float = 1.0, eps_inf: float = 1.0, omega_p: float | None = None,
                      gamma: float = 0.0, poles: Sequence[Sequence[float]] = ()) -> DispersiveModel:
    """The inclusion's model named by ``material.inclusion_model`` (one of :data:`MODELS`), frequencies in Ω
    units: :func:`~fem_homog.photonics.materials.constant`, :func:`~fem_homog.photonics.materials.drude` or
    :func:`~fem_homog.photonics.materials.lorentz`."""
    require(kind in MODELS, f"unknown material model '{kind}' (known: {', '.join(MODELS)})")
    if kind == "constant":
        return constant(value)
    if kind == "drude":
        require(omega_p is not None, "the Drude model needs material.omega_p (plasma frequency)")
        return drude(eps_inf, omega_p, gamma)
    return lorentz(eps_inf, poles)


def _poles_to_omega(poles: list) -> list:
    """``[Δ, f_j, γ_j]`` with frequencies in 2πc/a → Ω units (malformed poles are left for the model to refuse)."""
    return [[p[0], *to_omega(p[1:]).tolist()] if len(p) == 3 else p for p in poles]


def phases_from_config(material: dict) -> list[Phase]:
    """The matrix and inclusion :class:`~fem_homog.photonics.materials.Phase` of a ``[material]`` table."""
    require(material["matrix"] > 0, f"material.matrix must be positive, got {material['matrix']}")
    inclusion = model_from_config(material["inclusion_model"], value=material["inclusion"],
                                  eps_inf=material["eps_inf"], omega_p=float(to_omega(material["omega_p"])),
                                  gamma=float(to_omega(material["gamma"])), poles=_poles_to_omega(material["poles"]))
    mu_r = lorentz(1.0, _poles_to_omega(material["mu_poles"])) if material["mu_poles"] else constant(1.0)
    return [Phase(MATRIX, constant(material["matrix"])), Phase(INCLUSION, inclusion, mu_r)]
