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

import numpy as np
from mpi4py import MPI

from fem_homog.statics import correctors, epsilon_study
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.cells.meshing import mesh_cell
from fem_homog.fem.coefficients import as_phase_value, phase_function
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.core.errors import require
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.output.plotting import plot_fields

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.25, "centre": [0.3, 0.3]},
    "material": {"matrix": 1.0, "inclusion": 10.0},
    "mesh": {"h": 0.125},
    "fe": {"degree": 2},
    "study": {"N": [2, 4, 8, 16], "boundary": "both"},
    "output": {"fields": True, "plot": True},
}
EXPECTED = {"torus": {"L2_u0": 1.0, "H1_u0": 0.0, "H1_u1": 1.0},
            "dirichlet": {"L2_u0": 1.0, "H1_u0": 0.0, "H1_u1": 0.5}}
"""Slopes of log(error) against log(ε) predicted by theory.md §2.5."""
LABELS = {"L2_u0": "L² ‖u − u₀‖", "H1_u0": "H¹ ‖∇(u − u₀)‖", "L2_u1": "L² ‖u − u₁‖", "H1_u1": "H¹ ‖∇(u − u₁)‖"}


def check_inputs(config: Config) -> list[str]:
    """Validate the study options; return the boundary problems to run."""
    study = config["study"]
    N = study["N"]
    require(isinstance(N, list) and len(N) >= 2 and all(isinstance(n, int) and n >= 1 for n in N),
            f"study.N must list at least two positive integers (cells per side), got {N}")
    require(len(set(N)) == len(N), f"study.N must not repeat a value, got {N}")
    boundary = study["boundary"]
    known = [*epsilon_study.BOUNDARIES, "both"]
    require(boundary in known, f"unknown study.boundary '{boundary}' (known: {', '.join(known)})")
    require(config["fe"]["degree"] in (1, 2, 3), f"fe.degree must be 1, 2 or 3, got {config['fe']['degree']}")
    require(config["cell"]["dim"] == 2, "the ε-convergence study runs on the unit square (cell.dim = 2)")
    return list(epsilon_study.BOUNDARIES) if boundary == "both" else [boundary]


def run_boundary(config: Config, cell, cell_solution, phases: dict, boundary: str) -> tuple[dict, object]:
    """All N for one boundary problem: the result block and the point at the largest N."""
    points = []
    for n in sorted(config["study"]["N"]):
        point = epsilon_study.epsilon_point(cell, cell_solution.correctors, phases, cell_solution.tensor, n,
                                            boundary, degree=config["fe"]["degree"])
        log(f"  {boundary} N = {n:3d}: {point.dofs} dofs, " +
            ", ".join(f"{k} {v:.3e}" for k, v in point.errors.items()))
        points.append(point)
    slopes = epsilon_study.fitted_slopes(points)
    log(f"  {boundary} slopes: " + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items()) +
        f" (theory {EXPECTED[boundary]})")
    block = {"N": [p.n for p in points], "epsilon": [p.epsilon for p in points],
             "errors": {k: [p.errors[k] for p in points] for k in epsilon_study.ERRORS},
             "slopes": slopes, "expected_slopes": EXPECTED[boundary], "dofs": [p.dofs for p in points],
             "iterations": [p.iterations for p in points]}
    return block, points[-1]


def plot_errors(blocks: dict[str, dict], path: Path) -> None:
    """Log-log errors against ε, one panel per boundary problem, fitted slopes in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(blocks), figsize=(5.5 * len(blocks), 4.5), squeeze=False)
    for ax, (boundary, block) in zip(axes[0], blocks.items()):
        eps = np.array(block["epsilon"])
        for key, marker in zip(epsilon_study.ERRORS, "osD^"):
            ax.loglog(eps, block["errors"][key], marker=marker,
                      label=f"{LABELS[key]}  slope {block['slopes'][key]:.2f}")
        ax.set_title(f"{boundary}: theory H¹(u − u₁) slope {EXPECTED[boundary]['H1_u1']:g}")
        ax.set_xlabel("ε = 1/N")
        ax.set_ylabel("relative error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(config: Config, out: Path) -> None:
    comm = MPI.COMM_WORLD
    boundaries = check_inputs(config)
    geometry = geometry_from_config(config["cell"])
    phases = {MATRIX: as_phase_value(config["material"]["matrix"], 2, "material.matrix"),
              INCLUSION: as_phase_value(config["material"]["inclusion"], 2, "material.inclusion")}
    log(f"epsilon_convergence: {config['cell']['shape']} cell, N = {config['study']['N']}, {comm.size} rank(s)")

    timings = correctors.Timings()
    with timings.stage("cell"):  # small: every rank solves it, so every rank can evaluate χ(x/ε)
        cell = mesh_cell(geometry, h=config["mesh"]["h"], order=1, comm=MPI.COMM_SELF)
        A = phase_function(cell.mesh, cell.cell_tags, phases)
        cell_solution = correctors.conductivity(cell, A, degree=config["fe"]["degree"], method="mumps")
    log(f"  A_hom =\n{np.array2string(cell_solution.tensor, precision=8)}")

    blocks, last = {}, {}
    for boundary in boundaries:
        with timings.stage(boundary):
            blocks[boundary], last[boundary] = run_boundary(config, cell, cell_solution, phases, boundary)

    with timings.stage("output"):
        shown = last.get("dirichlet") or last["torus"]
        fields = epsilon_study.error_fields(shown, degree=config["fe"]["degree"])
        if config["output"]["fields"]:
            write_fields(out / "boundary_layer.bp", fields[:1])
        if config["output"]["plot"]:
            plot_fields(fields, [f.name for f in fields], out / "boundary_layer.png")
            if comm.rank == 0:
                plot_errors(blocks, out / "errors.png")
    results = {"A_hom": cell_solution.tensor, **blocks, "ranks": comm.size,
               "peak_memory_mb": peak_memory_mb(comm), "timings": timings.seconds}
    path = write_results(out, results)
    log(f"  results: {path}  (plots: {out / 'errors.png'}, {out / 'boundary_layer.png'})")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
