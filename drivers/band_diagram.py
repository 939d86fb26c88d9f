"""Band diagram of a photonic crystal, with constant or dispersive (Drude/Lorentz) inclusions.

The story: describe the cell → mesh it periodically → give each phase its ε(Ω) → walk the k-path; at each
k-point solve the Bloch eigenproblem (scalar TM/TE Helmholtz on Lagrange elements, or 3D vector Maxwell on
Nédélec elements; EPS for constant media, polynomial PEP for dispersive ones), keep the physical frequencies with
their residuals, connect them to the previous k-point by eigenvector overlap, and write the k-point's file at
once (so a killed sweep resumes with ``--resume``) → assemble ``results.json`` with the complete gaps and plot
Re ω (gaps shaded) and Im ω along the path and the complex ω plane.

    python drivers/band_diagram.py                                  # rods ε = 8.9, r = 0.2a, TM, Γ–X–M–Γ
    python drivers/band_diagram.py --config drivers/configs/drude_rods_tm.toml
    python drivers/band_diagram.py --config drivers/configs/maxwell_diamond_fcc.toml   # 3D Maxwell, fcc
    mpiexec -n 2 python drivers/band_diagram.py --k-groups 2        # two k-points at a time

Frequencies (inputs and outputs) are in units of 2πc/a; k in units of 1/a (X = [π, 0]; a the cubic constant).
"""

from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.cli.cells import CELL_DEFAULTS, GRADING_DEFAULTS, geometry_from_config, mesh_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.keys import config_keys
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.cli.photonics import band_path_from_config, equation_from_config, problem_from_config
from fem_homog.cli.solver import SOLVER_DEFAULTS, method_from_config, mumps_from_config, solver_summary
from fem_homog.core.errors import SolverError
from fem_homog.core.logging import log
from fem_homog.core.units import to_omega
from fem_homog.fem.petsc import mumps_options
from fem_homog.output.results import write_results
from fem_homog.photonics.bands import BandDiagram, KGroups, sweep_bands

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.2},
    "material": dict(MATERIAL_DEFAULTS),
    "physics": {"equation": "scalar", "polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0, **GRADING_DEFAULTS},
    "fe": {"degree": 2},
    "bands": {"path": "GXMG", "points_per_segment": 8, "num_bands": 6, "target": 0.0, "max_targets": 4,
              "allow_missing": False, "continuation": True},
    "solver": dict(SOLVER_DEFAULTS),
    "output": {"plot": True},
}


def plot(diagram: BandDiagram, gaps: list[list[float]], path_out: Path) -> list:
    """Write ``bands.png``; returns the gap spans shaded on the Re ω panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, labels = diagram.path.distance, diagram.path.labels
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for band in diagram.bands:
        have = [n for n, w in enumerate(band) if w is not None]
        w = np.array([band[n] for n in have])
        axes[0].plot(x[have], w.real, ".-")
        axes[1].plot(x[have], w.imag, ".-")
        axes[2].plot(w.real, w.imag, ".")
    spans = [axes[0].axhspan(lower, upper, color="gold", alpha=0.3, lw=0) for lower, upper, _ in gaps]
    for ax in axes[:2]:
        ax.set_xticks([x[i] for i, _ in labels], [("Γ" if n == "G" else n) for _, n in labels])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Re ω a/2πc")
    axes[1].set_ylabel("Im ω a/2πc")
    axes[2].set_xlabel("Re ω a/2πc")
    axes[2].set_ylabel("Im ω a/2πc")
    axes[2].set_title("complex ω plane")
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)
    return spans


def sweep_settings(config: Config) -> Config:
    """What determines the modes of every k-point (a resume must match it): all but output, allow_missing, the
    solution method (bands.continuation, [solver]) and, with grading off (mesh.h_min = 0), the grading keys (so
    k-point files written before they existed still resume)."""
    bands = {key: value for key, value in config["bands"].items() if key not in ("allow_missing", "continuation")}
    mesh = config["mesh"]
    if mesh.get("h_min", 0) == 0:
        mesh = {key: value for key, value in mesh.items() if key not in GRADING_DEFAULTS}
    kept = {key: value for key, value in config.items() if key not in ("output", "solver")}
    return {**kept, "bands": bands, "mesh": mesh}


def main(config: Config, out: Path, resume: bool = False, k_groups: int = 1) -> None:
    with config_keys(k_groups="--k-groups"):
        groups = KGroups.split(MPI.COMM_WORLD, k_groups)
    bands, degree = config["bands"], config["fe"]["degree"]
    phases = phases_from_config(config["material"])
    geometry = geometry_from_config(config["cell"], crystals=True)
    equation = equation_from_config(config["physics"], geometry, degree=degree)
    method = method_from_config(config["solver"], equation=equation)
    mumps = mumps_from_config(config["solver"], equation=equation)
    path = band_path_from_config(bands, geometry)
    log(f"band_diagram: {equation}, {len(path.k)} k-points, {k_groups} k-group(s) of {groups.comm.size} "
        f"rank(s), inclusion model '{config['material']['inclusion_model']}'")
    cell = mesh_from_config(geometry, config["mesh"], comm=groups.comm)
    problem = problem_from_config(equation, cell, phases, degree=degree, method=method)
    with config_keys("bands"), mumps_options(mumps) as report:
        diagram = sweep_bands(problem, path, num_bands=bands["num_bands"], target=float(to_omega(bands["target"])),
                              max_targets=bands["max_targets"], store=out / "kpoints", resume=resume, groups=groups,
                              settings=sweep_settings(config), continuation=bands["continuation"])
    missing = diagram.missing_report()
    if missing and not bands["allow_missing"]:
        raise SolverError(f"{missing}; raise bands.max_targets, or keep what was found with --resume --set "
                          f"bands.allow_missing=true")
    if missing:
        log(f"  warning: {missing} (bands.allow_missing = true)")
    results = {**diagram.to_dict(), "solver": solver_summary(method, report)}
    for lower, upper, ratio in results["gaps"]:
        log(f"  complete gap {lower:.5f}–{upper:.5f} (gap/midgap {100 * ratio:.2f} %)")
    write_results(out, results)
    if MPI.COMM_WORLD.rank == 0 and config["output"]["plot"]:
        plot(diagram, results["gaps"], out / "bands.png")
    log(f"  results: {out / 'results.json'}  plot: {out / 'bands.png'}")


FLAGS = {"--resume": {"action": "store_true", "help": "keep the k-point files already in --out and do the rest"},
         "--k-groups": {"type": int, "default": 1, "help": "solve this many k-points at a time, each on "
                                                           "ranks/k-groups ranks"}}

if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0], flags=FLAGS))
