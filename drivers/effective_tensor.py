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

from fem_homog.cli.cells import CELL_DEFAULTS, mesh_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.statics import effective_tensor_setup
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.output.plotting import plot_fields
from fem_homog.output.results import write_fields, write_results
from fem_homog.statics.effective import effective_tensor

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


ACCEPTS = {"material.matrix": (list,), "material.inclusion": (list,)}
"""Keys that also take another kind than their default's (see :func:`~fem_homog.cli.driver.run_driver`)."""


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    setup = effective_tensor_setup(config)
    problem = config["physics"]["problem"]
    log(f"effective_tensor: {problem} on a {setup.geometry.dim}D {config['cell']['shape']} cell, "
        f"{comm.size} rank(s)")

    timings = Timings()
    with timings.stage("mesh"):
        cell = mesh_from_config(setup.geometry, config["mesh"], comm=comm)
    result = effective_tensor(cell, setup.phases, degree=setup.degree, method=setup.method, rtol=setup.rtol,
                              timings=timings)
    sol = result.solution
    log(f"  mesh: {result.mesh_cells} cells, inclusion fraction {result.volume_fraction:.6f}, "
        f"{timings.seconds['mesh']:.2f} s")
    log(f"  {sol.dofs} dofs ({sol.reduced_dofs} periodic), {setup.method} iterations {sol.iterations}")
    log(f"  {sol.name} =\n{np.array2string(sol.tensor, precision=8)}")
    log(f"  flux/energy forms agree to {sol.flux_energy_difference:.1e}; "
        f"inside Voigt/Reuss: {result.bounds['inside_voigt_reuss']}")

    with timings.stage("output"):
        if config["output"]["fields"]:
            write_fields(out / "correctors.bp", sol.correctors)
        if config["output"]["plot"]:
            plot_fields(sol.correctors, [u.name for u in sol.correctors], out / "correctors.png")
    path = write_results(out, result.to_dict())
    log(f"  results: {path}  (fields: {out / 'correctors.bp'}, plot: {out / 'correctors.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0], accepts=ACCEPTS))
