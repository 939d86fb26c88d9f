"""Ensembles of random windows solved on MPI sub-communicators (theory.md §3).

The ranks of ``comm`` are split into ``groups`` sub-communicators; sample ``m`` of every window size goes to
group ``m mod groups``, which generates it from its own seed (:meth:`fem_homog.cells.random_media.Medium.sample`,
independent of the rank count), meshes it over the group's ranks and computes its apparent tensors. The
tensors are then gathered on every rank, in sample order, so the result does not depend on ``groups`` or on
the number of ranks (up to the linear-solver tolerance). A failure in one group (bad input, solver) is agreed
on by all ranks before the gather, so every rank raises it instead of waiting for the failed group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np
from mpi4py import MPI

from fem_homog.cells.random_media import Medium
from fem_homog.cells.rve_mesh import mesh_window
from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.parallel import agreed
from fem_homog.core.timing import Timings
from fem_homog.fem.coefficients import PhaseValue, phase_function
from fem_homog.statics.apparent import apparent_tensors

import dolfinx.fem


@dataclass(frozen=True)
class WindowOptions:
    """Mesh and solver options for every window: ``cells_per_voxel`` and ``grading`` (voxel windows), ``h`` and
    ``order``
    (disk/sphere windows, :func:`~fem_homog.cells.rve_mesh.mesh_window`), the Lagrange ``degree`` and the linear
    solver ``method``/``rtol`` (:func:`~fem_homog.statics.apparent.apparent_tensors`)."""

    cells_per_voxel: int = 2
    grading: float = 1.0
    h: float = 0.1
    order: int = 1
    degree: int = 1
    method: str = "cg-gamg"
    rtol: float = 1e-10

    def refined(self) -> WindowOptions:
        """The same options on a mesh twice as fine (twice the cells per voxel, half ``h``)."""
        return replace(self, cells_per_voxel=2 * self.cells_per_voxel, h=0.5 * self.h)


@dataclass(frozen=True)
class SampleResult:
    """Apparent tensors of one realization, with its mesh size and wall-clock seconds."""

    tensors: dict[str, np.ndarray]
    cells: int
    dofs: int
    seconds: float


@dataclass
class SizeResult:
    """All samples of one window size, in sample order: ``tensors[boundary]`` has shape ``(n, d, d)``."""

    size: float
    samples: list[SampleResult]

    @property
    def tensors(self) -> dict[str, np.ndarray]:
        return {b: np.array([s.tensors[b] for s in self.samples]) for b in self.samples[0].tensors}


def split(comm: MPI.Comm, groups: int) -> tuple[MPI.Comm, int]:
    """Split ``comm`` into ``groups`` contiguous blocks of ranks; return this rank's block and its number."""
    require(1 <= groups <= comm.size, f"must lie in [1, {comm.size}] (the number of ranks), got {groups}",
            argument="groups")
    color = comm.rank * groups // comm.size
    return comm.Split(color, comm.rank), color


def solve_sample(medium: Medium, size: float, index: int, seed: int, values: Mapping[int, PhaseValue],
                 boundaries: Sequence[str], options: WindowOptions, comm: MPI.Comm) -> SampleResult:
    """Generate, mesh and solve realization ``index`` on ``comm``.

    ``values`` maps every phase tag of the realization to its conductivity (an
    :class:`~fem_homog.core.errors.InputError` about ``values`` names the tags it misses).
    """
    timings = Timings()
    with timings.stage("sample"):
        sample = medium.sample(size, index, seed)
        window = mesh_window(sample, comm=comm, cells_per_voxel=options.cells_per_voxel, grading=options.grading,
                             h=options.h, order=options.order)
        present = set().union(*comm.allgather({int(t) for t in np.unique(window.cell_tags.values)}))
        missing = present - set(values)
        require(not missing, f"no phase value for the phase tag(s) {sorted(missing)} (see {{argument}})",
                argument="values")
        A = phase_function(window.mesh, window.cell_tags, {t: values[t] for t in present})
        tensors = apparent_tensors(window, A, list(boundaries), degree=options.degree, method=options.method,
                                   rtol=options.rtol)
        dofs = dolfinx.fem.functionspace(window.mesh, ("Lagrange", options.degree)).dofmap.index_map.size_global
    return SampleResult(tensors=tensors, cells=window.num_cells, dofs=dofs, seconds=timings.seconds["sample"])


def run(medium: Medium, sizes: Sequence[float], samples: int, seed: int, values: Mapping[int, PhaseValue],
        boundaries: Sequence[str], options: WindowOptions = WindowOptions(), *, groups: int = 1,
        comm: MPI.Comm = MPI.COMM_WORLD) -> list[SizeResult]:
    """Apparent tensors of ``samples`` realizations at every window size, ``groups`` samples at a time.

    Returns one :class:`SizeResult` per size, identical on every rank of ``comm``.
    """
    require(samples >= 1, f"must be >= 1, got {samples}", argument="samples")
    sub, color = split(comm, groups)
    results = []
    try:
        for size in sizes:
            count = medium.available(size, samples)
            local = {}
            with agreed(comm):  # a failure in one group raises on every rank, never leaves the others waiting
                for m in range(color, count, groups):
                    local[m] = solve_sample(medium, size, m, seed, values, boundaries, options, sub)
                    log(f"  R = {size:g}, sample {m + 1}/{count} (group {color}): {local[m].dofs} dofs, "
                        f"{local[m].seconds:.2f} s", sub)
            merged = {}
            for part in comm.allgather(local if sub.rank == 0 else {}):
                merged.update(part)
            results.append(SizeResult(size=float(size), samples=[merged[m] for m in sorted(merged)]))
    finally:
        sub.Free()
    return results
