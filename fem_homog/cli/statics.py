"""The periodic-cell statics drivers' configuration turned into checked, typed objects (errors name the keys).

* ``effective_tensor``: ``[cell]``, ``[material]`` (``matrix``/``inclusion`` conductivities, or
  ``matrix_E``/``matrix_nu``/``inclusion_E``/``inclusion_nu`` for elasticity), ``[physics]`` (``problem``),
  ``[mesh]``, ``[fe]`` (``degree``), ``[solver]`` (``method``, ``rtol``).
* ``permeability``: ``[cell]`` (the inclusions are solid), ``[mesh]``, ``[fe]`` (Taylor–Hood velocity
  ``degree``), ``[solver]``.
* ``epsilon_convergence``: ``[cell]`` (2D), ``[material]``, ``[mesh]`` (``h``), ``[fe]``, ``[study]``
  (``N``, ``boundary``).

Everything that can be checked before meshing is checked here, so a bad key fails in a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry
from fem_homog.cli.cells import geometry_from_config
from fem_homog.cli.driver import Config
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.fem.coefficients import PhaseValue, as_phase_value, lame
from fem_homog.fem.petsc import METHODS
from fem_homog.statics import darcy, epsilon_study
from fem_homog.statics.effective import ConductivityPhases, ElasticPhases

PROBLEMS = ("conductivity", "elasticity")
"""The effective_tensor driver's ``physics.problem``."""


@dataclass(frozen=True)
class EffectiveTensorSetup:
    """The effective_tensor driver's cell and phases (conductivities or Lamé pairs), the Lagrange ``degree``
    of the correctors and the linear solver (``method``, ``rtol``)."""

    geometry: CellGeometry
    phases: ConductivityPhases | ElasticPhases
    degree: int
    method: str
    rtol: float


@dataclass(frozen=True)
class PermeabilitySetup:
    """The permeability driver's cell (the inclusions are solid), the Taylor–Hood velocity ``degree`` and the
    linear solver (``method``, ``rtol``)."""

    geometry: CellGeometry
    degree: int
    method: str
    rtol: float


def _check_solver(config: Config, degrees: tuple[int, ...], methods: tuple[str, ...], what: str = "") -> None:
    """``fe.degree`` (``what`` it is) one of ``degrees``, ``solver.method`` one of ``methods``, ``solver.rtol``."""
    degree, solver = config["fe"]["degree"], config["solver"]
    require(degree in degrees, f"fe.degree{what} must be {', '.join(map(str, degrees[:-1]))} or {degrees[-1]}, "
                               f"got {degree}")
    require(solver["method"] in methods, f"unknown solver.method '{solver['method']}' (known: {', '.join(methods)})")
    require(0 < solver["rtol"] < 1, f"solver.rtol must lie in (0, 1), got {solver['rtol']}")


def symmetric_phase_value(value, dim: int, name: str) -> PhaseValue:
    """:func:`~fem_homog.fem.coefficients.as_phase_value`, refusing a non-symmetric matrix (a conductivity is
    symmetric; the README asks for it) instead of silently using it."""
    checked = as_phase_value(value, dim, name)
    require(np.ndim(checked) == 0 or np.allclose(checked, np.transpose(checked), rtol=0, atol=1e-12 * np.abs(
        checked).max()), f"must be symmetric, got {np.asarray(value).tolist()}", argument=name)
    return checked


def conductivity_phases(material: dict, dim: int) -> ConductivityPhases:
    """The ``matrix`` and ``inclusion`` conductivities of a ``[material]`` table (scalars or symmetric ``d × d``)."""
    with config_keys("material"):
        return ConductivityPhases(matrix=symmetric_phase_value(material["matrix"], dim, "matrix"),
                                  inclusion=symmetric_phase_value(material["inclusion"], dim, "inclusion"))


def elastic_phases(material: dict) -> ElasticPhases:
    """The Lamé pairs of the ``[material]`` table's ``matrix_E``, ``matrix_nu``, ``inclusion_E``, ``inclusion_nu``."""
    pairs = []
    for phase in ("matrix", "inclusion"):
        with config_keys(E=f"material.{phase}_E", nu=f"material.{phase}_nu"):
            pairs.append(lame(material[f"{phase}_E"], material[f"{phase}_nu"]))
    return ElasticPhases(*pairs)


def effective_tensor_setup(config: Config) -> EffectiveTensorSetup:
    """The typed objects of the effective_tensor ``config``."""
    problem = config["physics"]["problem"]
    require(problem in PROBLEMS, f"unknown physics.problem '{problem}' (known: {', '.join(PROBLEMS)})")
    _check_solver(config, (1, 2, 3), METHODS)
    geometry = geometry_from_config(config["cell"])
    phases = (conductivity_phases(config["material"], geometry.dim) if problem == "conductivity"
              else elastic_phases(config["material"]))
    return EffectiveTensorSetup(geometry=geometry, phases=phases, degree=config["fe"]["degree"],
                                method=config["solver"]["method"], rtol=config["solver"]["rtol"])


def permeability_setup(config: Config) -> PermeabilitySetup:
    """The typed objects of the permeability ``config`` (the inclusions of the cell are solid)."""
    _check_solver(config, (2, 3), darcy.METHODS, what=" (Taylor-Hood velocity degree)")
    return PermeabilitySetup(geometry=geometry_from_config(config["cell"]), degree=config["fe"]["degree"],
                             method=config["solver"]["method"], rtol=config["solver"]["rtol"])


@dataclass(frozen=True)
class EpsilonSetup:
    """The epsilon_convergence driver's cell, its scalar phase conductivities, the cell counts ``N`` per side,
    the boundary problems and the Lagrange degree."""

    geometry: CellGeometry
    phases: dict[int, float]
    N: list[int]
    boundaries: list[str]
    degree: int


def epsilon_setup(config: Config) -> EpsilonSetup:
    """The typed objects of the epsilon_convergence ``config`` (``study.boundary = "both"``: torus and
    Dirichlet)."""
    study = config["study"]
    known = [*epsilon_study.BOUNDARIES, "both"]
    require(study["boundary"] in known, f"unknown study.boundary '{study['boundary']}' (known: {', '.join(known)})")
    boundaries = list(epsilon_study.BOUNDARIES) if study["boundary"] == "both" else [study["boundary"]]
    with config_keys("study", degree="fe.degree", boundaries="study.boundary"):
        epsilon_study.check_study(N=study["N"], boundaries=boundaries, degree=config["fe"]["degree"])
    require(config["cell"]["dim"] == 2, "the ε-convergence study runs on the unit square (cell.dim = 2)")
    phases = conductivity_phases(config["material"], 2)
    require(not np.array_equal(phases.matrix, phases.inclusion),
            "material.matrix and material.inclusion must differ: with contrast 1 the medium is homogeneous, "
            "u = u₀ = u₁ and there is no error to study")
    return EpsilonSetup(geometry=geometry_from_config(config["cell"]),
                        phases={MATRIX: phases.matrix, INCLUSION: phases.inclusion}, N=study["N"],
                        boundaries=boundaries, degree=config["fe"]["degree"])
