"""Finite crystal with PMLs: a line source in an N×M crystal, full wave against the HFH envelope model.

The story: describe the cell and its dispersive rods → compute the HFH model of the chosen Bloch mode at the
zone point (T, Ω0, D, U0) and its star (X and Y on a square lattice) → tile the N×M crystal with margin and
PMLs and solve the full wave for a line source at a real drive frequency near Re ω0 → solve the envelope
equation of every star point on the same domain without microstructure and rebuild u ≈ Σ f U0 → compare:
relative L² error in the crystal interior, the cellwise demodulated envelope, and the directionality (field
energy along the diagonals over that along the axes) → write both fields and side-by-side pictures → with
study.detunings, repeat the comparison at each detuning towards the band edge (and, for the periodic source, in
an N×N Bloch supercell without crystal edges) and fit the error's rate in |κ|.

    python drivers/finite_crystal.py                     # 14×14 square Drude rods, TM, X point: X-shaped emission
    python drivers/finite_crystal.py --config drivers/configs/finite_crystal_te.toml   # circular rods, TE: axes
    mpiexec -n 2 python drivers/finite_crystal.py --set crystal.nx=10 --set crystal.ny=10
    python drivers/finite_crystal.py --set 'source.kind="periodic"' --set 'study.detunings=[0.04, 0.02, 0.01]'

Frequencies in units of 2πc/a; lengths in periods (the crystal occupies [0, nx] × [0, ny]).
"""

from pathlib import Path

import numpy as np

from fem_homog.cells.crystal_mesh import tile_crystal
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.cells import CELL_DEFAULTS
from fem_homog.cli.crystal import finite_crystal_setup, solve_keys
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.materials import MATERIAL_DEFAULTS
from fem_homog.core.logging import log
from fem_homog.core.parallel import on_root
from fem_homog.core.timing import Timings
from fem_homog.core.units import to_reduced
from fem_homog.output.results import write_fields, write_results
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.envelope import compare_with_full_wave, envelope_model, plot_comparison, resolve_edge
from fem_homog.photonics.envelope_study import finite_crystal_study, plot_convergence, supercell_study
from fem_homog.photonics.hfh import hfh_at_point

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "shape": "square", "side": 0.5},
    "material": {**MATERIAL_DEFAULTS, "inclusion_model": "drude", "omega_p": 1.0, "gamma": 0.01},
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "h_envelope": 0.2},
    "fe": {"degree": 2},
    "hfh": {"point": "X", "band": 1, "target": 0.0, "search_from": 0.3, "cluster_tol": 0.02,
            "repeated_tol": 1e-5, "parabolic_tol": 0.05},
    "crystal": {"nx": 14, "ny": 14, "margin": 1.0, "pml_width": 2.0, "edge_offset": "auto"},
    "source": {"kind": "point", "position": [], "frequency": 0.0, "relative_detuning": 0.002},
    "study": {"detunings": [], "supercell": 0},
    "output": {"plot": True},
}


def main(config: Config, out: Path) -> None:
    setup = finite_crystal_setup(config)
    timings = Timings()
    with solve_keys(), timings.stage("hfh"):
        cell = mesh_cell(setup.geometry, h=setup.h, order=setup.order)
        problem = BlochProblem(cell, setup.phases, polarization=setup.polarization, degree=setup.degree)
        hfh = hfh_at_point(problem, setup.k0, setup.selection)
        model = envelope_model(hfh, setup.geometry, setup.source, parabolic_tol=setup.parabolic_tol)
        edge = resolve_edge(problem, hfh, setup.geometry, setup.edge_offset) if setup.source.periodic else None
    nx, ny = setup.counts
    log(f"finite_crystal: {nx}×{ny} rods, {setup.polarization}, HFH at {setup.point}: "
        f"ω0 a/2πc = {complex(to_reduced(hfh.omega0)):.5f}, T = {np.round(hfh.T, 4).tolist()} "
        f"({model.classification['type']}); drive ω a/2πc = {model.frequency:.5f}, "
        f"source at {list(setup.source.position)}")

    with timings.stage("crystal_mesh"):
        crystal = tile_crystal(setup.geometry, setup.counts, margin=setup.margin, pml_width=setup.pml_width,
                               h=setup.h, order=setup.order)
    with solve_keys():
        comparison = compare_with_full_wave(crystal, problem, model, setup.source, h_envelope=setup.h_envelope,
                                            degree=setup.degree, timings=timings, edge_offset=edge or "auto")
    result = comparison.result
    numbers = result.to_dict()
    ratio = result.diagonal_to_axis_ratio
    log(f"  error_l2 {result.error_l2:.3f}, envelope error {result.envelope_error:.3f}, pattern "
        f"correlation {result.pattern_correlation:.3f}"
        + ("" if ratio is None else f", diagonal/axis energy: full wave {ratio['full_wave']:.2f}, "
                                    f"HFH {ratio['hfh']:.2f}"))

    write_fields(out / "fields.bp", [comparison.full_wave, comparison.hfh])
    if config["output"]["plot"]:
        plot_comparison(comparison, out)
    del comparison
    if setup.detunings:
        with solve_keys(), timings.stage("study"):
            studies = [finite_crystal_study(crystal, problem, hfh, setup.geometry, setup.source, setup.detunings,
                                            h_envelope=setup.h_envelope, degree=setup.degree,
                                            parabolic_tol=setup.parabolic_tol, edge_offset=edge or "auto")]
            if setup.source.periodic:
                studies.append(supercell_study(problem, hfh, setup.source, setup.counts, setup.detunings,
                                               size=setup.supercell))
        numbers["convergence"] = {**studies[0].to_dict(), **{s.domain: s.to_dict() for s in studies[1:]}}
        numbers["timings"]["study"] = timings.seconds["study"]
        if config["output"]["plot"]:
            on_root(crystal.mesh.comm, lambda: plot_convergence(studies, out / "convergence.png"), broadcast=False)
    write_results(out, numbers)
    log(f"  results: {out / 'results.json'}  plots: {out / 'abs_u.png'}, {out / 're_u.png'}  fields: "
        f"{out / 'fields.bp'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
