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

from fem_homog.cli.cells import CELL_DEFAULTS, mesh_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.statics import permeability_setup
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.output.plotting import plot_fields
from fem_homog.output.results import write_fields, write_results
from fem_homog.statics.darcy import permeability

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.25},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "solver": {"method": "mumps", "rtol": 1e-8},
    "output": {"fields": True, "plot": True},
}


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    setup = permeability_setup(config)
    log(f"permeability: {setup.geometry.dim}D {config['cell']['shape']} cell, solid inclusions, "
        f"{comm.size} rank(s)")

    timings = Timings()
    with timings.stage("mesh"):
        cell = mesh_from_config(setup.geometry, config["mesh"], comm=comm)
    log(f"  mesh: {timings.seconds['mesh']:.2f} s")

    sol = permeability(cell, degree=setup.degree, method=setup.method, rtol=setup.rtol, timings=timings)
    log(f"  {sol.mesh_cells} cells, solid fraction {sol.solid_fraction:.6f}; {sol.dofs} dofs ({sol.reduced_dofs} "
        f"periodic, no-slip), {setup.method} iterations {sol.iterations}")
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
    path = write_results(out, sol.to_dict())
    log(f"  results: {path}  (fields: {out / 'velocity.bp'}, plot: {out / 'velocity.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
