"""High-frequency homogenization: the effective tensor of a Bloch mode at a Brillouin-zone point.

The story: describe the cell → mesh it periodically → give each phase its ε(Ω) (μ_r(Ω)) → at the zone point
find the chosen band and its neighbours, decide the case (simple, repeated, nearby, interior, low-frequency)
→ solve the corrector problems and assemble the tensor T (Ω² ≈ Ω0² + T_ij κ_i κ_j) or the coupled model →
classify the effective operator (elliptic / parabolic / hyperbolic) and its star → check the asymptotic
dispersion against the exact bands around the point (plot, and the error's log-log slope) → write the fields.
The cell is meshed with its mirror symmetry where it has one (``mesh.symmetric``), so symmetry-protected pairs
(M, K) stay exactly degenerate whatever ``mesh.h``.

    python drivers/hfh.py                                         # rods ε = 8.9, r = 0.2a, TM, X, band 1
    python drivers/hfh.py --config drivers/configs/hfh_drude_square_rods_tm.toml
    python drivers/hfh.py --config drivers/configs/hfh_drude_square_rods_tm.toml --set hfh.path='"GXMG"' \
                          --set hfh.band=3
    mpiexec -n 2 python drivers/hfh.py --set hfh.point='"M"' --set hfh.band=2
    mpiexec -n 2 python drivers/hfh.py --set cell.dim=3 --set cell.shape='"sphere"' --set cell.radius=0.3 \
                          --set solver.method='"iterative"'     # large 3D cells: no factorization

Frequencies in units of 2πc/a (inputs and ``omega0``); T in non-dimensional units (cell = 1, Ω = ωa/c).
"""

from pathlib import Path

import numpy as np

from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config, mesh_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.keys import config_keys
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.cli.photonics import (
    hfh_path_from_config,
    point_from_config,
    polarization_from_config,
    problem_from_config,
    selection_from_config,
)
from fem_homog.cli.solver import SOLVER_DEFAULTS, method_from_config, mumps_from_config, solver_summary
from fem_homog.core.logging import log
from fem_homog.core.parallel import on_root
from fem_homog.core.timing import Timings
from fem_homog.fem.petsc import mumps_options
from fem_homog.output.plotting import plot_fields
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.photonics.hfh import hfh_at_point
from fem_homog.photonics.hfh_path import ModelSummary, asymptotic_check, path_study, plot_asymptotics, plot_path_study

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.2},
    "material": dict(MATERIAL_DEFAULTS),
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0, "symmetric": True},
    "fe": {"degree": 2},
    "hfh": {"point": "X", "band": 1, "target": 0.0, "search_from": 0.0, "cluster_tol": 0.02,
            "repeated_tol": 1e-5, "parabolic_tol": 0.05, "kappa_max": 0.4, "check_points": 5,
            "path": "", "path_points": 12, "path_bands": 0},
    "solver": dict(SOLVER_DEFAULTS),
    "output": {"plot": True},
}


def main(config: Config, out: Path) -> None:
    polarization = polarization_from_config(config["physics"])
    hfh, plots = config["hfh"], config["output"]["plot"]
    phases = phases_from_config(config["material"])
    geometry = geometry_from_config(config["cell"])
    lattice = geometry.lattice_vectors
    k0 = point_from_config(hfh["point"], lattice)
    selection = selection_from_config(hfh)
    study_path = hfh_path_from_config(hfh, geometry)
    method = method_from_config(config["solver"], equation=polarization)
    mumps = mumps_from_config(config["solver"])
    log(f"hfh: {polarization}, solver {method}, k0 = {np.round(k0, 6).tolist()}, "
        f"{'target' if selection.target else 'band'} {hfh['target'] if selection.target else hfh['band']}")
    timings = Timings()
    with timings.stage("mesh_and_setup"):
        cell = mesh_from_config(geometry, config["mesh"])
        problem = problem_from_config(polarization, cell, phases, degree=config["fe"]["degree"], method=method)
    with config_keys("hfh", bands="hfh.path_bands"), mumps_options(mumps) as report:
        with timings.stage("hfh"):
            result = hfh_at_point(problem, k0, selection)
        summary = ModelSummary(result, lattice, hfh["parabolic_tol"])
        summary.report()
        numbers = summary.to_dict()
        if study_path is not None:
            path, bands = study_path
            with timings.stage("path"):
                study = path_study(problem, path, bands=bands, selection=selection, lattice=lattice,
                                   parabolic_tol=hfh["parabolic_tol"])
            numbers["path"] = study.to_dict()
            if plots:
                on_root(cell.mesh.comm, lambda: plot_path_study(study, hfh["kappa_max"], out / "hfh_path.png"),
                        broadcast=False)
        with timings.stage("asymptotic_check"):
            check = asymptotic_check(problem, result, lattice=lattice, kappa_max=hfh["kappa_max"],
                                     check_points=hfh["check_points"])
    numbers["asymptotics"] = check.to_dict()
    write_results(out, {**numbers, "dofs": problem.V.dofmap.index_map.size_global, "ranks": cell.mesh.comm.size,
                        "solver": solver_summary(method, report), "timings": timings.seconds,
                        "memory_mb": peak_memory_mb()})
    fields = result.named_fields()
    write_fields(out / "hfh_fields.bp", fields)
    if plots:
        if check.comparisons:
            on_root(cell.mesh.comm, lambda: plot_asymptotics(check, result, out / "hfh_asymptotics.png"),
                    broadcast=False)
        if cell.mesh.geometry.dim > 1:
            plot_fields(fields[:3], [f"Re {f.name}" for f in fields[:3]], out / "hfh_fields.png")
    log(f"  results: {out / 'results.json'}  plots: {out / 'hfh_asymptotics.png'}, {out / 'hfh_fields.png'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
