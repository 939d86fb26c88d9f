"""Effective tensor of a periodic cell: ``A_hom`` (conductivity, permittivity) or ``C_hom`` (elasticity).

The story: describe the cell → mesh it periodically (gmsh, curved for P2) → put the phase coefficients on it →
solve the periodic corrector problems once per load case → integrate the effective tensor (flux and energy
forms) → check it against the Voigt/Reuss and Hashin–Shtrikman bounds → write numbers, fields and a picture.

    python drivers/effective_tensor.py                                   # circle in a square, A_hom
    mpiexec -n 2 python drivers/effective_tensor.py --set physics.problem='"elasticity"'
    python drivers/effective_tensor.py --config drivers/configs/sphere_3d.toml --out results/sphere

Outputs in ``--out`` (default ``results/effective_tensor``): ``results.json``, ``config.toml``,
``correctors.png``, ``correctors.bp`` (VTX, open in ParaView).
"""

from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.statics.bounds import conductivity_report, elasticity_report
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.fem.coefficients import as_phase_value, lame, phase_fractions, phase_function
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.statics import correctors
from fem_homog.core.errors import require
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.output.plotting import plot_fields
from fem_homog.fem.petsc import METHODS

DEFAULTS: Config = {
    "cell": dict(CELL_DEFAULTS),
    "material": {"matrix": 1.0, "inclusion": 10.0,
                 "matrix_E": 1.0, "matrix_nu": 0.3, "inclusion_E": 10.0, "inclusion_nu": 0.3},
    "physics": {"problem": "conductivity"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "solver": {"method": "cg-gamg", "rtol": 1e-10},
    "output": {"fields": True, "plot": True},
}
PROBLEMS = ("conductivity", "elasticity")


def check_inputs(config: Config) -> None:
    """Fail fast, before any meshing, on options that are not geometry."""
    require(config["physics"]["problem"] in PROBLEMS,
            f"unknown physics.problem '{config['physics']['problem']}' (known: {', '.join(PROBLEMS)})")
    require(config["fe"]["degree"] in (1, 2, 3), f"fe.degree must be 1, 2 or 3, got {config['fe']['degree']}")
    require(config["solver"]["method"] in METHODS,
            f"unknown solver.method '{config['solver']['method']}' (known: {', '.join(METHODS)})")
    require(0 < config["solver"]["rtol"] < 1, f"solver.rtol must lie in (0, 1), got {config['solver']['rtol']}")


def solve_conductivity(config: Config, cell, fractions, timings) -> dict:
    dim, mat = cell.mesh.geometry.dim, config["material"]
    phases = [as_phase_value(mat["matrix"], dim, "material.matrix"),
              as_phase_value(mat["inclusion"], dim, "material.inclusion")]
    A = phase_function(cell.mesh, cell.cell_tags, {MATRIX: phases[0], INCLUSION: phases[1]})
    sol = correctors.conductivity(cell, A, degree=config["fe"]["degree"], method=config["solver"]["method"],
                                  rtol=config["solver"]["rtol"], timings=timings)
    bounds = conductivity_report(phases, [fractions[MATRIX], fractions[INCLUSION]], sol.tensor)
    return {"solution": sol, "A_hom": sol.tensor, "A_hom_energy": sol.tensor_energy, "bounds": bounds}


def solve_elasticity(config: Config, cell, fractions, timings) -> dict:
    mat = config["material"]
    pairs = [lame(mat["matrix_E"], mat["matrix_nu"], "material.matrix"),
             lame(mat["inclusion_E"], mat["inclusion_nu"], "material.inclusion")]
    lmbda = phase_function(cell.mesh, cell.cell_tags, {MATRIX: pairs[0][0], INCLUSION: pairs[1][0]})
    mu = phase_function(cell.mesh, cell.cell_tags, {MATRIX: pairs[0][1], INCLUSION: pairs[1][1]})
    sol = correctors.elasticity(cell, lmbda, mu, degree=config["fe"]["degree"],
                                method=config["solver"]["method"], rtol=config["solver"]["rtol"],
                                timings=timings)
    bounds = elasticity_report(pairs, [fractions[MATRIX], fractions[INCLUSION]], sol.tensor)
    return {"solution": sol, "C_hom": sol.tensor, "C_hom_energy": sol.tensor_energy, "bounds": bounds}


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    check_inputs(config)
    problem = config["physics"]["problem"]
    geometry = geometry_from_config(config["cell"])
    log(f"effective_tensor: {problem} on a {geometry.dim}D {config['cell']['shape']} cell, {comm.size} rank(s)")

    timings = correctors.Timings()
    with timings.stage("mesh"):
        cell = mesh_cell(geometry, h=config["mesh"]["h"], order=config["mesh"]["order"],
                         refine=config["mesh"]["refine"], comm=comm)
    fractions = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    n_cells = cell.mesh.topology.index_map(cell.mesh.topology.dim).size_global
    log(f"  mesh: {n_cells} cells, inclusion fraction {fractions[INCLUSION]:.6f}, "
        f"{timings.seconds['mesh']:.2f} s")

    solve = solve_conductivity if problem == "conductivity" else solve_elasticity
    found = solve(config, cell, fractions, timings)
    sol = found.pop("solution")
    key = "A_hom" if problem == "conductivity" else "C_hom"
    log(f"  {sol.dofs} dofs ({sol.reduced_dofs} periodic), {config['solver']['method']} iterations "
        f"{sol.iterations}")
    log(f"  {key} =\n{np.array2string(sol.tensor, precision=8)}")
    log(f"  flux/energy forms agree to {sol.flux_energy_difference:.1e}; "
        f"inside Voigt/Reuss: {found['bounds']['inside_voigt_reuss']}")

    with timings.stage("output"):
        if config["output"]["fields"]:
            write_fields(out / "correctors.bp", sol.correctors)
        if config["output"]["plot"]:
            plot_fields(sol.correctors, [u.name for u in sol.correctors], out / "correctors.png")
    results = {**found, "problem": problem, "volume_fraction": fractions[INCLUSION],
               "nominal_volume_fraction": geometry.nominal_inclusion_fraction(),
               "flux_energy_difference": sol.flux_energy_difference, "dofs": sol.dofs,
               "reduced_dofs": sol.reduced_dofs, "iterations": sol.iterations, "ranks": comm.size,
               "mesh_cells": n_cells, "peak_memory_mb": peak_memory_mb(comm), "timings": timings.seconds}
    path = write_results(out, results)
    log(f"  results: {path}  (fields: {out / 'correctors.bp'}, plot: {out / 'correctors.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
