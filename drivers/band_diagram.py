"""Band diagram of a photonic crystal, with constant or dispersive (Drude/Lorentz) inclusions.

The story: describe the cell → mesh it periodically → give each phase its ε(Ω) → walk the k-path; at each
k-point solve the Bloch eigenproblem (EPS for constant media, polynomial PEP for dispersive ones), keep the
physical frequencies with their residuals, connect them to the previous k-point by eigenvector overlap, and
write the k-point's file at once (so a killed sweep resumes with ``--resume``) → assemble ``results.json`` and
plot Re ω and Im ω along the path and the complex ω plane.

    python drivers/band_diagram.py                                  # rods ε = 8.9, r = 0.2a, TM, Γ–X–M–Γ
    python drivers/band_diagram.py --config drivers/configs/drude_rods_tm.toml
    mpiexec -n 2 python drivers/band_diagram.py --k-groups 2        # two k-points at a time

Frequencies (inputs and outputs) are in units of 2πc/a; k in units of 1/a (X = [π, 0]).
"""

import json
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_homog.photonics.bands import collect_modes, connect, k_path
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.slots import POLARIZATIONS
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.meshing import mesh_cell
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.core.errors import require
from fem_homog.output.results import jsonable, write_results
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.core.units import to_omega, to_reduced

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "radius": 0.2},
    "material": dict(MATERIAL_DEFAULTS),
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "refine": 0},
    "fe": {"degree": 2},
    "bands": {"path": "GXMG", "points_per_segment": 8, "num_bands": 6, "target": 0.0, "max_targets": 4},
    "output": {"plot": True},
}


def solve_k_point(problem: BlochProblem, k: np.ndarray, bands: dict) -> tuple[list, dict]:
    """The ``num_bands`` lowest physical pairs at or above ``bands.target`` (see :func:`collect_modes`)."""
    return collect_modes(lambda nev, target: problem.solve(k, nev=nev, target=target), bands["num_bands"],
                         float(to_omega(bands["target"])), bands["max_targets"])


def overlap(problem: BlochProblem, previous: list, current: list) -> np.ndarray:
    """``|x_i^H M x_j| / (‖x_i‖_M ‖x_j‖_M)`` with the unit mass matrix of the periodic space."""
    M = problem.unit_mass()
    Mx = [M.createVecLeft() for _ in current]
    for p, y in zip(current, Mx):
        M.mult(p.vector, y)
    norms_now = [np.sqrt(abs(p.vector.dot(y))) for p, y in zip(current, Mx)]
    O = np.zeros((len(previous), len(current)))
    for i, q in enumerate(previous):
        Mq = M.createVecLeft()
        M.mult(q.vector, Mq)
        norm_q = np.sqrt(abs(q.vector.dot(Mq)))
        for j, y in enumerate(Mx):
            O[i, j] = abs(y.dot(q.vector)) / (norm_q * norms_now[j])
    return O


def k_file(out: Path, index: int) -> Path:
    return out / "kpoints" / f"k_{index:04d}.json"


def chunks(n: int, groups: int) -> list[list[int]]:
    """Contiguous chunks of the path, one per k-group; every chunk after the first starts with the previous
    chunk's last point (its *link*: solved again only to connect the bands across the boundary)."""
    bounds = np.linspace(0, n, groups + 1).round().astype(int)
    return [list(range(max(lo - 1, 0), hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def sweep(problem: BlochProblem, path, indices: list[int], out: Path, bands: dict, resume: bool) -> None:
    """Solve the k-points ``indices`` in order and write one file per point as soon as it is done.

    With ``resume``, points whose file exists are skipped, except the one just before the first missing
    point, which is solved again for its eigenvectors (the connection needs them).
    """
    link = indices[0] > 0
    first_new = 1 if link else 0
    if resume:
        missing = [p for p in range(first_new, len(indices)) if not k_file(out, indices[p]).exists()]
        if not missing:
            return
        first_new = missing[0]
    previous = None
    for position in range(max(first_new - 1, 0), len(indices)):
        i = indices[position]
        start = time.perf_counter()
        pairs, filtered = solve_k_point(problem, path.k[i], bands)
        seconds = time.perf_counter() - start
        perm = connect(overlap(problem, previous, pairs)) if previous else np.arange(len(pairs))
        previous = pairs
        if position < first_new or problem.mesh.comm.rank != 0:
            continue
        record = {"index": i, "k": path.k[i], "omega": [complex(to_reduced(p.omega)) for p in pairs],
                  "residual": [p.residual for p in pairs], "filtered": filtered, "previous_band": perm,
                  "seconds": seconds}
        k_file(out, i).write_text(json.dumps(jsonable(record)))
        values = ", ".join(f"{complex(to_reduced(p.omega)).real:.5f}" for p in pairs)
        print(f"  k {i + 1}/{len(path.k)} {np.round(path.k[i], 4).tolist()}: {values}  ({seconds:.2f} s)",
              flush=True)


def connected_bands(records: list[dict]) -> list[list]:
    """Follow ``previous_band`` links: band ``b`` as its frequency at every k-point (``None`` where absent)."""
    ids, bands = [], {}
    for n, record in enumerate(records):
        perm = record["previous_band"]
        new_ids = []
        for j, p in enumerate(perm):
            if n > 0 and 0 <= p < len(ids):
                new_ids.append(ids[p])
            else:
                new_ids.append(len(bands))
                bands[len(bands)] = [None] * len(records)
            bands[new_ids[-1]][n] = record["omega"][j]
        ids = new_ids
    return [bands[b] for b in sorted(bands)]


def assemble(out: Path, path, dofs: int, ranks: int, k_groups: int) -> dict:
    """``results.json`` from the per-k-point files."""
    records = [json.loads(k_file(out, i).read_text()) for i in range(len(path.k))]
    return {"k": path.k, "k_distance": path.distance, "labels": [[i, name] for i, name in path.labels],
            "omega_a_over_2pi_c": [r["omega"] for r in records],
            "residuals": [r["residual"] for r in records], "filtered": [r["filtered"] for r in records],
            "bands": connected_bands(records), "dofs": dofs, "ranks": ranks, "k_groups": k_groups,
            "timings": {"per_k_point": [r["seconds"] for r in records]}}


def plot(results: dict, path_out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.asarray(results["k_distance"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for band in results["bands"]:
        have = [n for n, w in enumerate(band) if w is not None]
        w = np.array([complex(*band[n]) for n in have])
        axes[0].plot(x[have], w.real, ".-")
        axes[1].plot(x[have], w.imag, ".-")
        axes[2].plot(w.real, w.imag, ".")
    for ax in axes[:2]:
        ax.set_xticks([x[i] for i, _ in results["labels"]], [("Γ" if n == "G" else n) for _, n in results["labels"]])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Re ω a/2πc")
    axes[1].set_ylabel("Im ω a/2πc")
    axes[2].set_xlabel("Re ω a/2πc")
    axes[2].set_ylabel("Im ω a/2πc")
    axes[2].set_title("complex ω plane")
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)


def main(config: Config, out: Path, resume: bool = False, k_groups: int = 1) -> None:
    world = MPI.COMM_WORLD
    require(config["physics"]["polarization"] in POLARIZATIONS,
            f"unknown physics.polarization '{config['physics']['polarization']}' (known: TM, TE)")
    require(k_groups >= 1 and world.size % k_groups == 0,
            f"--k-groups {k_groups} must divide the number of MPI ranks ({world.size})")
    bands = config["bands"]
    require(bands["num_bands"] >= 1, f"bands.num_bands must be >= 1, got {bands['num_bands']}")
    phases = phases_from_config(config["material"])
    geometry = geometry_from_config(config["cell"])
    path = k_path(bands["path"], bands["points_per_segment"], geometry.dim, geometry.lattice_vectors)
    if world.rank == 0:
        (out / "kpoints").mkdir(parents=True, exist_ok=True)
        if not resume:
            for stale in (out / "kpoints").glob("k_*.json"):
                stale.unlink()
    world.barrier()

    group = world.rank * k_groups // world.size
    comm = world.Split(group, world.rank)
    log(f"band_diagram: {config['physics']['polarization']}, {len(path.k)} k-points, {k_groups} k-group(s) of "
        f"{comm.size} rank(s), inclusion model '{config['material']['inclusion_model']}'")
    cell = mesh_cell(geometry, h=config["mesh"]["h"], order=config["mesh"]["order"],
                     refine=config["mesh"]["refine"], comm=comm)
    problem = BlochProblem(cell, phases, polarization=config["physics"]["polarization"],
                           degree=config["fe"]["degree"])
    sweep(problem, path, chunks(len(path.k), k_groups)[group], out, bands, resume)
    world.barrier()
    results = assemble(out, path, problem.V.dofmap.index_map.size_global, world.size, k_groups) \
        if world.rank == 0 else {}
    write_results(out, results)
    if world.rank == 0 and config["output"]["plot"]:
        plot(jsonable(results), out / "bands.png")
    log(f"  results: {out / 'results.json'}  plot: {out / 'bands.png'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0], flags={
        "--resume": {"action": "store_true", "help": "keep the k-point files already in --out and do the rest"},
        "--k-groups": {"type": int, "default": 1, "help": "solve this many k-points at a time, each on "
                                                          "ranks/k-groups ranks"}}))
