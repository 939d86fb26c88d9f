"""The ``[material]`` section shared by the photonic drivers (bands, HFH, finite crystals).

The matrix has a constant ``ε``; the inclusion a constant, Drude or Lorentz ``ε`` and optionally a Lorentz
``μ_r`` (``mu_poles``, for magnetic metamaterials such as the negative-index stack of Li et al. 2003). All
frequencies in the config (plasma, resonance, damping) are in units of 2πc/a and are converted here to the
solvers' ``Ω = ω a / c``.
"""

from __future__ import annotations

from typing import Sequence

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cli.cells import is_number
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
    """``[Δ, f_j, γ_j]`` with frequencies in 2πc/a → Ω units."""
    return [[p[0], *to_omega(p[1:]).tolist()] for p in poles]


def _check_poles(poles: list, key: str) -> None:
    """Lorentz poles ``[Δε, f_j, γ_j]`` (frequencies in 2πc/a, as typed): ``f_j > 0``, ``γ_j ≥ 0``."""
    require(isinstance(poles, list), f"{key} must be a list of poles [delta, frequency, damping], got {poles!r}")
    for pole in poles:
        require(isinstance(pole, list) and len(pole) == 3
                and all(is_number(v) for v in pole),
                f"each pole of {key} is [delta, frequency, damping] (numbers), got {pole!r}")
        require(pole[1] > 0 and pole[2] >= 0,
                f"a pole of {key} needs frequency > 0 and damping >= 0, got {pole!r}")


def check_material(material: dict) -> None:
    """The ``[material]`` values, each refused with its key and in the units typed (2πc/a), before any solve.

    A constant inclusion (without ``mu_poles``) must have ``ε > 0``: the crystal is then a Hermitian-definite
    eigenproblem, and a negative ``ε`` for all frequencies is no physical medium (a metal is
    ``inclusion_model = "drude"``).
    """
    require(material["matrix"] > 0, f"material.matrix must be positive, got {material['matrix']}")
    kind = material["inclusion_model"]
    require(kind in MODELS,
            f"unknown material model '{kind}' in material.inclusion_model (known: {', '.join(MODELS)})")
    _check_poles(material["mu_poles"], "material.mu_poles")
    _check_poles(material["poles"], "material.poles")
    if kind == "constant":
        dispersive = bool(material["mu_poles"])
        require(material["inclusion"] != 0 if dispersive else material["inclusion"] > 0,
                f"material.inclusion must be {'non-zero' if dispersive else 'positive'} for a constant ε "
                f"(a metal is material.inclusion_model = \"drude\"), got {material['inclusion']}")
        return
    require(material["eps_inf"] != 0, f"material.eps_inf must be non-zero, got {material['eps_inf']}")
    if kind == "drude":
        require(material["omega_p"] > 0,
                f"material.omega_p (plasma frequency) must be positive, got {material['omega_p']}")
        require(material["gamma"] >= 0, f"material.gamma (damping) must be >= 0, got {material['gamma']}")
    else:
        require(len(material["poles"]) > 0, "material.inclusion_model = \"lorentz\" needs at least one pole in "
                                            "material.poles ([[delta, frequency, damping], ...])")


def phases_from_config(material: dict) -> list[Phase]:
    """The matrix and inclusion :class:`~fem_homog.photonics.materials.Phase` of a ``[material]`` table, after
    :func:`check_material`."""
    check_material(material)
    inclusion = model_from_config(material["inclusion_model"], value=material["inclusion"],
                                  eps_inf=material["eps_inf"], omega_p=float(to_omega(material["omega_p"])),
                                  gamma=float(to_omega(material["gamma"])), poles=_poles_to_omega(material["poles"]))
    mu_r = lorentz(1.0, _poles_to_omega(material["mu_poles"])) if material["mu_poles"] else constant(1.0)
    return [Phase(MATRIX, constant(material["matrix"])), Phase(INCLUSION, inclusion, mu_r)]
