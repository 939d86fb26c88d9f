"""Complex band structure k(ω) of a photonic crystal: propagating and evanescent Bloch modes at real frequencies.

The story: describe the cell → mesh it periodically → give each phase its ε(Ω) → choose a direction ê (and a
transverse Bloch vector) → at each real frequency evaluate ε(Ω), μ_r(Ω) (a number: loss and dispersion cost
nothing) and solve the quadratic eigenproblem (K0 + k K1 + k² K2) p = 0 for the complex wavenumbers k along ê
→ keep the roots with |Im k| ≤ max_imag_k in the zone, with residuals, classes and energy-flux directions →
connect them into branches across ω → write ``results.json`` and plot Re k and Im k against ω over the real-k
band diagram ω(k) along the same line.

    python drivers/complex_bands.py                                      # rods ε = 8.9, r = 0.2a, TM, along ΓX
    python drivers/complex_bands.py --set cell.dim=1 --set cell.shape='"laminate"' --set cell.fraction=0.4
    python drivers/complex_bands.py --set 'complex.frequencies={start=0.05, stop=0.7, count=27}'

Frequencies are in units of 2πc/a; k in units of 1/a along ê (the zone edge along ΓX is π).
"""

from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config, mesh_from_config
from fem_homog.cli.complex_bands import COMPLEX_ACCEPTS, COMPLEX_DEFAULTS, complex_from_config
from fem_homog.cli.driver import Config, run_driver
from fem_homog.cli.keys import config_keys
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.cli.photonics import polarization_from_config
from fem_homog.core.logging import log
from fem_homog.output.results import write_results
from fem_homog.photonics.bands import BandDiagram
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.complex_bands import ComplexBandProblem, ComplexBands, real_k_bands, sweep_complex_bands

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.2},
    "material": dict(MATERIAL_DEFAULTS),
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "complex": dict(COMPLEX_DEFAULTS),
    "output": {"plot": True},
}
ACCEPTS = COMPLEX_ACCEPTS


def plot(bands: ComplexBands, real_k: BandDiagram | None, path_out: Path) -> None:
    """Re k (left) and |Im k| (right) against ω: the connected branches as lines, the roots coloured by class,
    the real-k band diagram ω(k) (±k) dashed over the left panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"propagating": "C0", "evanescent": "C3", "complex": "C2"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    half = 0.5 * bands.period
    for branch in bands.branches():
        f, k = np.array([p[0] for p in branch]), np.array([p[1] for p in branch])
        cut = np.flatnonzero(np.abs(np.diff(k.real)) > half) + 1  # do not draw across the zone-edge fold
        for fs, ks in zip(np.split(f, cut), np.split(k, cut)):
            axes[0].plot(ks.real, fs, "-", color="0.6", lw=0.8)
        axes[1].plot(np.abs(k.imag), f, "-", color="0.6", lw=0.8)
    for m in bands.modes:
        f = m.omega / (2 * np.pi)
        for k, c in zip(m.k, m.classes):
            axes[0].plot(k.real, f, ".", color=colours[c])
            axes[1].plot(abs(k.imag), f, ".", color=colours[c])
    if real_k is not None:
        s = (real_k.path.k - bands.k_transverse) @ bands.direction
        for band in real_k.bands:
            w = np.array([np.nan if v is None else v.real for v in band])
            axes[0].plot(s, w, "k--", lw=0.8)
            axes[0].plot(-s, w, "k--", lw=0.8)
        axes[0].plot([], [], "k--", lw=0.8, label="ω(k), real k")
        axes[0].legend(loc="lower left")
    for c, colour in colours.items():
        axes[1].plot([], [], ".", color=colour, label=c)
    axes[0].set_xlabel("Re k a")
    axes[1].set_xlabel("|Im k| a")
    axes[0].set_ylabel("ω a/2πc")
    axes[0].set_xlim(-half, half)
    freqs = [m.omega / (2 * np.pi) for m in bands.modes]
    pad = 0.05 * (max(freqs) - min(freqs)) + 1e-3
    axes[0].set_ylim(min(freqs) - pad, max(freqs) + pad)
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)


def main(config: Config, out: Path) -> None:
    polarization = polarization_from_config(config["physics"])
    phases = phases_from_config(config["material"])
    geometry = geometry_from_config(config["cell"])
    options = complex_from_config(config["complex"], geometry.lattice_vectors)
    log(f"complex_bands: {polarization}, direction {np.round(options['direction'], 6).tolist()}, "
        f"{len(options['omegas'])} frequencies, inclusion model '{config['material']['inclusion_model']}'")
    cell = mesh_from_config(geometry, config["mesh"])
    problem = BlochProblem(cell, phases, polarization=polarization, degree=config["fe"]["degree"])
    with config_keys("complex"):
        complex_problem = ComplexBandProblem(problem, options["direction"], options["k_transverse"])
        bands = sweep_complex_bands(complex_problem, options["omegas"], max_imag_k=options["max_imag_k"],
                                    num_modes=options["num_modes"])
        real_k = (real_k_bands(complex_problem, points=options["overlay_points"], target=min(options["omegas"]))
                  if options["overlay_points"] else None)
    overlay = {"real_k_bands": {"k": real_k.path.k, "bands": real_k.bands}} if real_k else {}
    write_results(out, {**bands.to_dict(), **overlay})
    if MPI.COMM_WORLD.rank == 0 and config["output"]["plot"]:
        plot(bands, real_k, out / "complex_bands.png")
    log(f"  results: {out / 'results.json'}  plot: {out / 'complex_bands.png'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
