"""Band diagrams: k-paths through the Brillouin zone, the sweep along them and the connection of bands (theory.md §5.2).

Bands are connected by the overlap of eigenvectors between neighbouring k-points (an assignment that
maximises ``|⟨x_i(k), x_j(k')⟩_M|``), not by sorting frequencies, so crossing bands and complex-frequency
branches keep their identity.

A sweep (:func:`sweep_bands`) can write one file per k-point as soon as it is solved (``store``), so a killed
sweep resumes where it stopped (``resume``), and can split the path into contiguous chunks solved at the same
time by groups of MPI ranks (:class:`KGroups`); either way it returns the same :class:`BandDiagram`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from mpi4py import MPI
from scipy.optimize import linear_sum_assignment

from fem_homog.cells.lattice import check_k_in_zone, high_symmetry_points
from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.units import TWO_PI, to_reduced
from fem_homog.output.results import jsonable
from fem_homog.photonics.bloch import BlochProblem, BlochSolution, Eigenpair

from petsc4py import PETSc


@dataclass(frozen=True)
class KPath:
    """Sampled k-points, their cumulative distance along the path and the labelled vertices."""

    k: np.ndarray
    distance: np.ndarray
    labels: list[tuple[int, str]]


def k_path(path: str | Sequence[Sequence[float]], points_per_segment: int, dim: int,
           lattice: np.ndarray | None = None) -> KPath:
    """Sample a path given by letters (``"GXMG"``; triangular lattice ``"GMKG"``) or by a list of k-points,
    ``points_per_segment`` intervals per segment, vertices included once; ``lattice`` as in
    :mod:`fem_homog.cells.lattice` (default: the unit square/cubic lattice). Errors name the arguments
    ``path`` and ``points_per_segment``."""
    require(points_per_segment >= 1, f"must be >= 1, got {points_per_segment}", argument="points_per_segment")
    lattice = np.eye(dim) if lattice is None else np.asarray(lattice, dtype=float)
    if isinstance(path, str):
        known = high_symmetry_points(lattice)
        for letter in path:
            require(letter in known, f"unknown k-point '{letter}' in {{argument}} for this {dim}D lattice "
                                     f"(known: {', '.join(known)})", argument="path")
        vertices = [known[c] for c in path]
        names = list(path)
    else:
        vertices = [np.asarray(v, dtype=float) for v in path]
        names = ["" for _ in vertices]
    require(len(vertices) >= 1, "is empty", argument="path")
    for v in vertices:
        require(v.shape == (dim,), f"k-point {v.tolist()} must have {dim} components")
        check_k_in_zone(v, lattice)
    ks, labels = [vertices[0]], [(0, names[0])]
    for a, b, name in zip(vertices[:-1], vertices[1:], names[1:]):
        for t in np.arange(1, points_per_segment + 1) / points_per_segment:
            ks.append(a + t * (b - a))
        labels.append((len(ks) - 1, name))
    k = np.array(ks)
    steps = np.linalg.norm(np.diff(k, axis=0), axis=1) if len(k) > 1 else np.zeros(0)
    return KPath(k=k, distance=np.concatenate([[0.0], np.cumsum(steps)]), labels=labels)


# -- the modes at one k-point ------------------------------------------------------------------------------
def merge(found: list, new: list, rtol: float = 1e-7) -> list:
    """Add the pairs of a new solve (another target) to those found before, without counting a frequency
    twice: of each group of equal frequencies, keep as many as the solve that saw most of them (degenerate
    bands stay degenerate)."""
    merged = list(found)
    for p in new:
        same_new = sum(abs(q.omega - p.omega) <= rtol * abs(p.omega) for q in new)
        same_old = sum(abs(q.omega - p.omega) <= rtol * abs(p.omega) for q in merged)
        if same_old < same_new:
            merged.append(p)
    return sorted(merged, key=lambda p: p.omega.real)


def collect_modes(solve: Callable[[int, float], BlochSolution], wanted: int, target: float,
                  max_targets: int = 4) -> tuple[list, dict]:
    """The ``wanted`` lowest physical pairs at or above ``target`` (Ω units): ``solve(nev, target)`` is called
    with a target that moves up past the highest frequency found while too few pairs are found (at most
    ``max_targets`` solves). Returns the pairs (increasing ``Re Ω``) and the summed filter counts; fewer than
    ``wanted`` pairs when the solves did not find them (the caller reports ``wanted − len(pairs)`` as missing)."""
    require(max_targets >= 1, f"must be >= 1, got {max_targets}", argument="max_targets")
    step = max(target, TWO_PI * 0.1)
    pairs, filtered = [], {}
    for _ in range(max_targets):
        sol = solve(wanted + 4, target)
        for key, n in sol.filtered.items():
            filtered[key] = filtered.get(key, 0) + n
        pairs = merge(pairs, sol.pairs)
        if len(pairs) >= wanted:
            break
        target = max([target] + [p.omega.real for p in pairs]) + 0.5 * step
    return pairs[:wanted], filtered


# -- band connection ---------------------------------------------------------------------------------------
def overlap(M: PETSc.Mat, previous: Sequence[Eigenpair], current: Sequence[Eigenpair]) -> np.ndarray:
    """``|x_i^H M x_j| / (‖x_i‖_M ‖x_j‖_M)`` for the pairs of the previous (rows) and this k-point (columns);
    ``M`` is the Gram matrix of the space (:meth:`~fem_homog.photonics.bloch.BlochProblem.unit_mass`)."""
    Mx = [M.createVecLeft() for _ in current]
    for p, y in zip(current, Mx):
        M.mult(p.vector, y)
    norms_now = [np.sqrt(abs(p.vector.dot(y))) for p, y in zip(current, Mx)]
    out = np.zeros((len(previous), len(current)))
    for i, q in enumerate(previous):
        Mq = M.createVecLeft()
        M.mult(q.vector, Mq)
        norm_q = np.sqrt(abs(q.vector.dot(Mq)))
        Mq.destroy()
        for j, y in enumerate(Mx):
            out[i, j] = abs(y.dot(q.vector)) / (norm_q * norms_now[j])
    for y in Mx:
        y.destroy()
    return out


def connect(overlap: np.ndarray) -> np.ndarray:
    """Assignment ``perm`` with new band ``j`` continuing old band ``perm[j]``, maximising total overlap.

    ``overlap[i, j] = |⟨x_i(previous k), x_j(this k)⟩|`` for normalised vectors; unmatched new bands (more
    bands than before) get ``-1``.
    """
    rows, cols = linear_sum_assignment(-np.abs(overlap))
    perm = np.full(overlap.shape[1], -1)
    perm[cols] = rows
    return perm


# -- the sweep ---------------------------------------------------------------------------------------------
@dataclass
class KPointBands:
    """What a sweep found at one k-point of the path: the physical frequencies ``omega`` in units of 2πc/a
    (increasing real part), their residuals and filter counts, and ``previous_band[j]``, the band at the
    previous k-point that band ``j`` continues (``-1``: a new band), and ``missing``, how many of the requested
    bands were not found there. One per-k file of a sweep's ``store``; ``missing`` is written only when it is not
    0, so complete points keep the earlier format and files without it load as 0."""

    index: int
    k: np.ndarray
    omega: list[complex]
    residual: list[float]
    filtered: dict[str, int]
    previous_band: list[int]
    seconds: float
    missing: int = 0

    def to_dict(self) -> dict:
        out = {"index": self.index, "k": self.k, "omega": self.omega, "residual": self.residual,
               "filtered": self.filtered, "previous_band": self.previous_band, "seconds": self.seconds}
        return jsonable({**out, "missing": self.missing} if self.missing else out)

    @classmethod
    def from_dict(cls, data: dict) -> KPointBands:
        return cls(index=data["index"], k=np.asarray(data["k"]), omega=[complex(*w) for w in data["omega"]],
                   residual=data["residual"], filtered=data["filtered"], previous_band=data["previous_band"],
                   seconds=data["seconds"], missing=int(data.get("missing", 0)))


def connected_bands(points: Sequence[KPointBands]) -> list[list[complex | None]]:
    """Follow the ``previous_band`` links: band ``b`` as its frequency at every k-point (``None`` where absent)."""
    ids, bands = [], {}
    for n, point in enumerate(points):
        new_ids = []
        for j, p in enumerate(point.previous_band):
            if n > 0 and 0 <= p < len(ids):
                new_ids.append(ids[p])
            else:
                new_ids.append(len(bands))
                bands[len(bands)] = [None] * len(points)
            bands[new_ids[-1]][n] = point.omega[j]
        ids = new_ids
    return [bands[b] for b in sorted(bands)]


@dataclass
class BandDiagram:
    """The bands along a k-path (frequencies in units of 2πc/a), as written to ``results.json``."""

    path: KPath
    points: list[KPointBands]
    dofs: int
    ranks: int = 1
    k_groups: int = 1

    @property
    def bands(self) -> list[list[complex | None]]:
        """The connected bands (:func:`connected_bands`)."""
        return connected_bands(self.points)

    @property
    def missing(self) -> list[int]:
        """Per k-point, how many of the requested bands were not found (all 0 for a complete diagram)."""
        return [p.missing for p in self.points]

    def missing_report(self) -> str | None:
        """One line naming the k-points with missing bands (None if there are none)."""
        short = [p for p in self.points if p.missing]
        if not short:
            return None
        where = ", ".join(f"k {p.index + 1} {np.round(p.k, 4).tolist()} ({p.missing})" for p in short)
        return (f"{sum(p.missing for p in short)} band(s) missing at {len(short)} of {len(self.points)} "
                f"k-point(s): {where}")

    def to_dict(self) -> dict:
        """``missing`` (per k-point) only when some band is missing."""
        missing = {"missing": self.missing} if any(self.missing) else {}
        return {"k": self.path.k, "k_distance": self.path.distance,
                "labels": [[i, name] for i, name in self.path.labels],
                "omega_a_over_2pi_c": [p.omega for p in self.points], "residuals": [p.residual for p in self.points],
                "filtered": [p.filtered for p in self.points], **missing, "bands": self.bands,
                "dofs": self.dofs,
                "ranks": self.ranks, "k_groups": self.k_groups,
                "timings": {"per_k_point": [p.seconds for p in self.points]}}


@dataclass(frozen=True)
class KGroups:
    """``count`` groups of consecutive ranks of ``world``, each solving a contiguous chunk of the path; this
    rank belongs to group ``index``, whose communicator ``comm`` the cell is meshed on."""

    world: MPI.Comm
    count: int
    index: int
    comm: MPI.Comm

    @classmethod
    def single(cls, comm: MPI.Comm) -> KGroups:
        """One group: all ranks of ``comm`` solve every k-point together."""
        return cls(comm, 1, 0, comm)

    @classmethod
    def split(cls, world: MPI.Comm, count: int = 1) -> KGroups:
        """Split ``world`` into ``count`` groups (argument ``k_groups``: it must divide the number of ranks)."""
        require(count >= 1 and world.size % count == 0,
                f"{{argument}} {count} must divide the number of MPI ranks ({world.size})", argument="k_groups")
        index = world.rank * count // world.size
        return cls(world, count, index, world.Split(index, world.rank))

    def chunks(self, n: int) -> list[list[int]]:
        """Contiguous chunks of a path of ``n`` points, one per group; every chunk after the first starts with
        the previous chunk's last point (its *link*: solved again only to connect the bands across the
        boundary)."""
        bounds = np.linspace(0, n, self.count + 1).round().astype(int)
        return [list(range(max(lo - 1, 0), hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def k_file(store: Path, index: int) -> Path:
    """The file of k-point ``index`` in a sweep's ``store`` folder."""
    return store / f"k_{index:04d}.json"


def sweep_bands(problem: BlochProblem, path: KPath, *, num_bands: int, target: float = 0.0, max_targets: int = 4,
                store: Path | None = None, resume: bool = False, groups: KGroups | None = None) -> BandDiagram:
    """The ``num_bands`` lowest physical bands at or above ``target`` (Ω units) at every point of ``path``,
    connected by eigenvector overlap (theory.md §5.2; :func:`collect_modes` with ``max_targets`` solves).
    A k-point where fewer bands were found gets a warning line and its ``missing`` count
    (:attr:`BandDiagram.missing`); the caller decides whether that is an error.

    ``store``: a folder that gets one file per k-point (:class:`KPointBands`) as soon as it is solved (stale
    files are removed first); with ``resume``, points whose file exists are not solved again. ``groups``:
    ``problem`` lives on this rank's group communicator and every group solves its chunk of the path. Every
    rank returns the whole diagram.
    """
    require(num_bands >= 1, f"must be >= 1, got {num_bands}", argument="num_bands")
    require(max_targets >= 1, f"must be >= 1, got {max_targets}", argument="max_targets")
    require(store is not None or not resume, "needs a store folder to resume from", argument="resume")
    groups = groups or KGroups.single(problem.mesh.comm)
    if store is not None:
        _prepare(store, resume, groups.world)
    indices = groups.chunks(len(path.k))[groups.index]
    solved = _sweep_chunk(problem, path, indices, store, resume, num_bands=num_bands, target=target,
                          max_targets=max_targets)
    points = _collect(groups.world, solved, len(path.k), store)
    return BandDiagram(path, points, dofs=problem.V.dofmap.index_map.size_global, ranks=groups.world.size,
                       k_groups=groups.count)


def _prepare(store: Path, resume: bool, world: MPI.Comm) -> None:
    if world.rank == 0:
        store.mkdir(parents=True, exist_ok=True)
        if not resume:
            for stale in store.glob("k_*.json"):
                stale.unlink()
    world.barrier()


def _sweep_chunk(problem: BlochProblem, path: KPath, indices: list[int], store: Path | None, resume: bool, *,
                 num_bands: int, target: float, max_targets: int) -> list[KPointBands]:
    """Solve the k-points ``indices`` in order, writing each point's file as soon as it is done; returns the
    points (on the group's rank 0; empty elsewhere).

    The first point of a chunk after the first is its link (solved for the eigenvectors only). With ``resume``,
    points whose file exists are skipped, except the one just before the first missing point, which is solved
    again for its eigenvectors (the connection needs them).
    """
    comm = problem.mesh.comm
    first_new = 1 if indices[0] > 0 else 0
    if resume:
        missing = [p for p in range(first_new, len(indices)) if not k_file(store, indices[p]).exists()]
        if not missing:
            return []
        first_new = missing[0]
    solved, previous = [], None
    for position in range(max(first_new - 1, 0), len(indices)):
        i = indices[position]
        start = time.perf_counter()
        pairs, filtered = collect_modes(lambda nev, tgt: problem.solve(path.k[i], nev=nev, target=tgt), num_bands,
                                        target, max_targets)
        seconds = time.perf_counter() - start
        perm = connect(overlap(problem.unit_mass(), previous, pairs)) if previous else np.arange(len(pairs))
        previous = pairs
        if position < first_new or comm.rank != 0:
            continue
        point = KPointBands(index=i, k=path.k[i], omega=[complex(to_reduced(p.omega)) for p in pairs],
                            residual=[p.residual for p in pairs], filtered=filtered,
                            previous_band=[int(p) for p in perm], seconds=seconds,
                            missing=num_bands - len(pairs))
        if store is not None:
            k_file(store, i).write_text(json.dumps(point.to_dict()))
        solved.append(point)
        values = ", ".join(f"{w.real:.5f}" for w in point.omega)
        log(f"  k {i + 1}/{len(path.k)} {np.round(path.k[i], 4).tolist()}: {values}  ({seconds:.2f} s)", comm)
        if point.missing:
            log(f"  warning: k {i + 1}/{len(path.k)} {np.round(path.k[i], 4).tolist()}: {point.missing} of "
                f"{num_bands} bands missing (found {len(pairs)} in {max_targets} solve(s))", comm)
    return solved


def _collect(world: MPI.Comm, solved: list[KPointBands], n: int, store: Path | None) -> list[KPointBands]:
    """All ``n`` points on every rank: those solved by any group, the others read from the store (resumed)."""
    found = {p.index: p for part in world.allgather(solved) for p in part}
    if world.rank == 0:
        for i in range(n):
            if i not in found:
                found[i] = KPointBands.from_dict(json.loads(k_file(store, i).read_text()))
    return world.bcast([found[i] for i in range(n)] if world.rank == 0 else None)
