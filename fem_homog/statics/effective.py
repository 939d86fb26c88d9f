"""The effective tensor of a two-phase periodic cell with its checks: ``A_hom`` or ``C_hom`` (theory.md §2).

The phases go onto the cell mesh as piecewise-constant coefficients
(:func:`~fem_homog.fem.coefficients.phase_function`), the corrector problems are solved
(:mod:`fem_homog.statics.correctors`, §2.1–§2.3) and the tensor is checked against the bounds of §2.4 for the
*measured* phase fractions (:mod:`fem_homog.statics.bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import CellMesh
from fem_homog.core.timing import Timings
from fem_homog.fem.coefficients import PhaseValue, phase_fractions, phase_function
from fem_homog.output.results import jsonable, peak_memory_mb
from fem_homog.statics import correctors
from fem_homog.statics.bounds import conductivity_report, elasticity_report


@dataclass(frozen=True)
class ConductivityPhases:
    """Conductivities (or permittivities) of the matrix and the inclusion: positive scalars or SPD ``d × d``
    matrices (:func:`~fem_homog.fem.coefficients.as_phase_value` checks them)."""

    matrix: PhaseValue
    inclusion: PhaseValue


@dataclass(frozen=True)
class ElasticPhases:
    """Lamé pairs ``(λ, μ)`` of the matrix and the inclusion (:func:`~fem_homog.fem.coefficients.lame`)."""

    matrix: tuple[float, float]
    inclusion: tuple[float, float]


@dataclass
class EffectiveTensor:
    """The effective tensor of a cell, its bound checks and the run that produced it.

    ``solution`` holds the correctors and the tensor (flux and energy forms); ``bounds`` the report of
    :func:`~fem_homog.statics.bounds.conductivity_report` or :func:`~fem_homog.statics.bounds.elasticity_report`;
    ``volume_fraction`` the measured inclusion fraction of the mesh, ``nominal_volume_fraction`` the exact one
    of the geometry. ``timings`` is the caller's, so stages timed after the solve are reported too.
    """

    problem: str
    solution: correctors.CellSolution
    bounds: dict
    volume_fraction: float
    nominal_volume_fraction: float
    mesh_cells: int
    ranks: int
    memory_mb: dict[str, float]
    timings: Timings

    def to_dict(self) -> dict:
        """JSON-ready: the keys of the effective-tensor driver's ``results.json``."""
        solution = self.solution.to_dict()
        name = self.solution.name
        return jsonable({name: solution.pop(name), f"{name}_energy": solution.pop(f"{name}_energy"),
                         "bounds": self.bounds, "problem": self.problem, "volume_fraction": self.volume_fraction,
                         "nominal_volume_fraction": self.nominal_volume_fraction, **solution, "ranks": self.ranks,
                         "mesh_cells": self.mesh_cells, "peak_memory_mb": self.memory_mb,
                         "timings": self.timings.seconds})


def effective_tensor(cell: CellMesh, phases: ConductivityPhases | ElasticPhases, *, degree: int = 2,
                     method: str = "cg-gamg", rtol: float = 1e-10, timings: Timings | None = None) -> EffectiveTensor:
    """``A_hom`` (for :class:`ConductivityPhases`) or Voigt ``C_hom`` (for :class:`ElasticPhases`) of ``cell``,
    checked against the Voigt/Reuss (and, where they apply, Hashin–Shtrikman) bounds (theory.md §2.1–§2.4).

    ``degree`` is the Lagrange degree of the correctors; ``method`` and ``rtol`` choose the linear solver
    (:func:`~fem_homog.fem.petsc.singular_solver`). The solve stages are added to ``timings``.
    """
    timings = timings if timings is not None else Timings()
    fractions = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    measured = [fractions[MATRIX], fractions[INCLUSION]]

    def on_cell(matrix, inclusion):
        return phase_function(cell.mesh, cell.cell_tags, {MATRIX: matrix, INCLUSION: inclusion})

    if isinstance(phases, ConductivityPhases):
        problem = "conductivity"
        solution = correctors.conductivity(cell, on_cell(phases.matrix, phases.inclusion), degree=degree,
                                           method=method, rtol=rtol, timings=timings)
        bounds = conductivity_report([phases.matrix, phases.inclusion], measured, solution.tensor)
    else:
        problem = "elasticity"
        (lmbda_m, mu_m), (lmbda_i, mu_i) = phases.matrix, phases.inclusion
        solution = correctors.elasticity(cell, on_cell(lmbda_m, lmbda_i), on_cell(mu_m, mu_i), degree=degree,
                                         method=method, rtol=rtol, timings=timings)
        bounds = elasticity_report([phases.matrix, phases.inclusion], measured, solution.tensor)
    comm = cell.mesh.comm
    return EffectiveTensor(
        problem=problem, solution=solution, bounds=bounds, volume_fraction=fractions[INCLUSION],
        nominal_volume_fraction=cell.geometry.nominal_inclusion_fraction(),
        mesh_cells=cell.mesh.topology.index_map(cell.mesh.topology.dim).size_global, ranks=comm.size,
        memory_mb=peak_memory_mb(comm), timings=timings)
