"""ε-convergence of periodic homogenization and the boundary layer (theory.md §2.5).

The story: mesh one periodic cell (straight-sided) → solve its correctors χ and A_hom → for every N tile the unit
square with N × N copies of the cell (ε = 1/N) → solve the fine problem −∇·(A(x/ε)∇u) = f, the homogenized
problem with A_hom, and build u₁ = u₀ + ε χ(x/ε)·∇u₀ → measure ‖u − u₀‖ and ‖u − u₁‖ in L² and H¹ on the torus
(periodic) and on the Dirichlet square → fit the slopes against ε → plot them and the boundary layer.

    python drivers/epsilon_convergence.py                                   # N = 2, 4, 8, 16, both problems
    python drivers/epsilon_convergence.py --set 'study.N=[4, 8, 16, 32]' --set study.boundary=dirichlet

The default inclusion is off-centre on purpose: for an inclusion centred in the cell (or any cell symmetric
about its mid-lines) χ_1 vanishes on the lines x₁ ∈ εZ, so u₁ already satisfies the Dirichlet condition to
leading order and the O(√ε) boundary layer hides behind an O(ε) error.

Outputs in ``--out`` (default ``results/epsilon_convergence``): ``results.json``, ``config.toml``,
``errors.png`` (log-log errors with fitted slopes), ``boundary_layer.png`` and ``boundary_layer.bp`` (the error
u − u₁ and log₁₀|∇(u − u₁)| on the Dirichlet square at the largest N).
"""

from pathlib import Path

from mpi4py import MPI

from fem_homog.cli.cells import CELL_DEFAULTS, mesh_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.statics import epsilon_setup
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.output.plotting import plot_fields
from fem_homog.output.results import write_fields, write_results
from fem_homog.statics.epsilon_study import convergence_study, error_fields, plot_errors

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.25, "centre": [0.3, 0.3]},
    "material": {"matrix": 1.0, "inclusion": 10.0},
    "mesh": {"h": 0.125},
    "fe": {"degree": 2},
    "study": {"N": [2, 4, 8, 16], "boundary": "both"},
    "output": {"fields": True, "plot": True},
}


ACCEPTS = {"material.matrix": (list,), "material.inclusion": (list,)}
"""Keys that also take another kind than their default's (see :func:`~fem_homog.cli.driver.run_driver`)."""


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    setup = epsilon_setup(config)
    log(f"epsilon_convergence: {config['cell']['shape']} cell, N = {setup.N}, {comm.size} rank(s)")

    timings = Timings()
    with timings.stage("cell"):  # small: every rank meshes and solves it, so every rank can evaluate χ(x/ε)
        cell = mesh_from_config(setup.geometry, config["mesh"], comm=MPI.COMM_SELF)
    study = convergence_study(cell, setup.phases, N=setup.N, boundaries=setup.boundaries, degree=setup.degree,
                              timings=timings, comm=comm)

    with timings.stage("output"):
        fields = error_fields(study.shown, degree=setup.degree)
        if config["output"]["fields"]:
            write_fields(out / "boundary_layer.bp", fields[:1])
        if config["output"]["plot"]:
            plot_fields(fields, [f.name for f in fields], out / "boundary_layer.png")
            if comm.rank == 0:
                plot_errors(study, out / "errors.png")
    path = write_results(out, study.to_dict())
    log(f"  results: {path}  (plots: {out / 'errors.png'}, {out / 'boundary_layer.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0], accepts=ACCEPTS))
