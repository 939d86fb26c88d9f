"""Permeability K of a periodic porous cell from Stokes cell problems (Stokes→Darcy, theory.md §4).

The story: describe the cell (the inclusions are solid obstacles, the matrix is fluid) → mesh it periodically
(gmsh, curved for P2) → check that the fluid is connected and crosses the cell → solve one periodic Stokes
problem per unit body force e_k with Taylor–Hood P2/P1 and no slip on the obstacles → integrate K in the
mean-velocity and the dissipation forms → write numbers, velocity fields and a picture.

    python drivers/permeability.py                                          # square array of cylinders
    python drivers/permeability.py --set cell.shape=laminate --set cell.fraction=0.4   # flow between plates
    mpiexec -n 2 python drivers/permeability.py --config drivers/configs/spheres_darcy_3d.toml

Outputs in ``--out`` (default ``results/permeability``): ``results.json``, ``config.toml``, ``velocity.png``,
``velocity.bp`` and ``pressure.bp`` (VTX, open in ParaView).
"""

from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.statics import darcy
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.core.errors import require
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.output.plotting import plot_fields

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.25},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "solver": {"method": "mumps", "rtol": 1e-8},
    "output": {"fields": True, "plot": True},
}


def check_inputs(config: Config) -> None:
    """Fail fast, before any meshing, on options that are not geometry."""
    require(config["fe"]["degree"] in (2, 3),
            f"fe.degree (Taylor-Hood velocity degree) must be 2 or 3, got {config['fe']['degree']}")
    require(config["solver"]["method"] in darcy.METHODS,
            f"unknown solver.method '{config['solver']['method']}' (known: {', '.join(darcy.METHODS)})")
    require(0 < config["solver"]["rtol"] < 1, f"solver.rtol must lie in (0, 1), got {config['solver']['rtol']}")


def summary(sol: darcy.Permeability) -> dict:
    """The numbers of ``results.json`` that describe K itself."""
    eigenvalues = np.linalg.eigvalsh(0.5 * (sol.tensor + sol.tensor.T))
    flowing = len(eigenvalues) - len(sol.blocked_directions)
    return {"K": sol.tensor, "K_dissipation": sol.tensor_dissipation, "form_difference": sol.form_difference,
            "asymmetry": sol.asymmetry, "eigenvalues": eigenvalues,
            "positive_definite": bool(eigenvalues.min() > 0 and not len(sol.blocked_directions)),
            "blocked_directions": sol.blocked_directions, "flowing_directions": flowing,
            "divergence": sol.divergence}


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    check_inputs(config)
    geometry = geometry_from_config(config["cell"])
    log(f"permeability: {geometry.dim}D {config['cell']['shape']} cell, solid inclusions, {comm.size} rank(s)")

    timings = Timings()
    with timings.stage("mesh"):
        cell = mesh_cell(geometry, h=config["mesh"]["h"], order=config["mesh"]["order"],
                         refine=config["mesh"]["refine"], comm=comm)
    n_cells = cell.mesh.topology.index_map(cell.mesh.topology.dim).size_global
    log(f"  mesh: {n_cells} cells, {timings.seconds['mesh']:.2f} s")

    sol = darcy.permeability(cell, degree=config["fe"]["degree"], method=config["solver"]["method"],
                             rtol=config["solver"]["rtol"], timings=timings)
    found = summary(sol)
    log(f"  solid fraction {sol.solid_fraction:.6f}; {sol.dofs} dofs ({sol.reduced_dofs} periodic, no-slip), "
        f"{config['solver']['method']} iterations {sol.iterations}")
    log(f"  K =\n{np.array2string(sol.tensor, precision=8)}")
    log(f"  mean-velocity/dissipation forms agree to {sol.form_difference:.1e}, asymmetry {sol.asymmetry:.1e}")
    for e in sol.blocked_directions:
        log(f"  no flow along {np.round(e, 6).tolist()}: the solid blocks every fluid path in that direction")

    with timings.stage("output"):
        if config["output"]["fields"]:
            write_fields(out / "velocity.bp", sol.velocities)
            write_fields(out / "pressure.bp", sol.pressures)
        if config["output"]["plot"]:
            plot_fields(sol.velocities, [f"speed of w_{k + 1}" for k in range(len(sol.velocities))],
                        out / "velocity.png")
    results = {**found, "solid_fraction": sol.solid_fraction,
               "nominal_solid_fraction": geometry.nominal_inclusion_fraction(), "dofs": sol.dofs,
               "reduced_dofs": sol.reduced_dofs, "iterations": sol.iterations, "ranks": comm.size,
               "mesh_cells": n_cells, "peak_memory_mb": peak_memory_mb(comm), "timings": timings.seconds}
    path = write_results(out, results)
    log(f"  results: {path}  (fields: {out / 'velocity.bp'}, plot: {out / 'velocity.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
