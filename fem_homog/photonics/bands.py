"""Band diagrams: k-paths through the Brillouin zone, the sweep along them and the connection of bands (theory.md §5.2).

Bands are connected by the overlap of eigenvectors between neighbouring k-points (an assignment that
maximises ``|⟨x_i(k), x_j(k')⟩_M|``), not by sorting frequencies, so crossing bands and complex-frequency
branches keep their identity.

A sweep (:func:`sweep_bands`) can write one file per k-point as soon as it is solved (``store``), so a killed
sweep resumes where it stopped (``resume``), and can split the path into contiguous chunks solved at the same
time by groups of MPI ranks (:class:`KGroups`); either way it returns the same :class:`BandDiagram`. Each file
holds the sweep's settings digest and its k, and a resume refuses files of other settings. Dispersive sweeps
continue the bands from one k-point to the next (:mod:`fem_homog.photonics.continuation`) and fall back to the
full solve where the continuation cannot certify its window.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from mpi4py import MPI
from scipy.optimize import linear_sum_assignment

from fem_homog.cells.lattice import check_k_in_zone, high_symmetry_points
from fem_homog.core.errors import InputError, SolverError, require
from fem_homog.core.logging import log
from fem_homog.core.units import TWO_PI, to_reduced
from fem_homog.output.results import jsonable
from fem_homog.photonics.bloch import BlochProblem, BlochSolution, Eigenpair
from fem_homog.photonics.continuation import SAFETY, Bracket, continue_bands, full_bracket

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


CONTINUED_TOL = 1e-13
"""TOAR tolerance of the continued solves, which skip the Newton refinement: tight enough that the frequencies
equal the refined ones of the full solve to ~1e-11 (at 1e-10 an ill-conditioned pair differed by 2e-10);
the solves are near their shift, so the extra iterations cost little."""


# -- the modes at one k-point ------------------------------------------------------------------------------
def merge(found: list, new: list, rtol: float = 1e-7) -> list:
    """Add the pairs of a new solve (another target) to those found before, without counting a frequency
    twice: of each group of equal frequencies, keep as many as the solve that saw most of them (degenerate
    bands stay degenerate). Equal means within ``rtol`` of the largest frequency of both lists (so the Γ zero
    mode of two solves, at round-off from 0, is one mode)."""
    merged = list(found)
    tol = rtol * max([abs(q.omega) for q in [*found, *new]] + [0.0])
    for p in new:
        same_new = sum(abs(q.omega - p.omega) <= tol for q in new)
        same_old = sum(abs(q.omega - p.omega) <= tol for q in merged)
        if same_old < same_new:
            merged.append(p)
    return sorted(merged, key=lambda p: p.omega.real)


def collect_modes(solve: Callable[[int, float], BlochSolution], wanted: int, target: float,
                  max_targets: int = 4) -> tuple[list, dict]:
    """The ``wanted`` lowest physical pairs at or above ``target`` (Ω units): ``solve(nev, target)`` is called
    with a target that moves up past the highest frequency found while too few pairs are found (at most
    ``max_targets`` solves). Returns the pairs (increasing ``Re Ω``) and the summed filter counts (but ``kernel``,
    the dimension of the gradient space a vector solve removes, once); fewer than
    ``wanted`` pairs when the solves did not find them (the caller reports ``wanted − len(pairs)`` as missing)."""
    require(max_targets >= 1, f"must be >= 1, got {max_targets}", argument="max_targets")
    step = max(target, TWO_PI * 0.1)
    pairs, filtered = [], {}
    for _ in range(max_targets):
        sol = solve(wanted + 4, target)
        for key, n in sol.filtered.items():
            filtered[key] = n if key == "kernel" else filtered.get(key, 0) + n  # a dimension, not a count
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
    bands were not found there, and ``method``: ``"full"`` (:func:`collect_modes`) or ``"continued"``
    (:func:`~fem_homog.photonics.continuation.continue_bands`) with its number of eigensolves ``solves``.
    One per-k file of a sweep's ``store``, with the
    sweep's ``settings`` digest; ``missing`` is written only when it is not 0."""

    index: int
    k: np.ndarray
    omega: list[complex]
    residual: list[float]
    filtered: dict[str, int]
    previous_band: list[int]
    seconds: float
    missing: int = 0
    method: str = "full"
    settings: str = ""
    solves: int = 1

    def to_dict(self) -> dict:
        out = {"index": self.index, "k": self.k, "omega": self.omega, "residual": self.residual,
               "filtered": self.filtered, "previous_band": self.previous_band, "seconds": self.seconds,
               "method": self.method, "solves": self.solves, "settings": self.settings}
        return jsonable({**out, "missing": self.missing} if self.missing else out)

    @classmethod
    def from_dict(cls, data: dict) -> KPointBands:
        return cls(index=data["index"], k=np.asarray(data["k"]), omega=[complex(*w) for w in data["omega"]],
                   residual=data["residual"], filtered=data["filtered"], previous_band=data["previous_band"],
                   seconds=data["seconds"], missing=int(data.get("missing", 0)), method=data.get("method", "full"),
                   settings=data.get("settings", ""), solves=int(data.get("solves", 1)))


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


GAP_RTOL = 1e-3
"""Smallest ``(upper − lower) / midgap`` reported as a complete gap: bands that touch (degenerate at some k-point)
have none, and on practical meshes a degeneracy splits by the discretization error (~1e-3 relative on coarse 3D
meshes), which must not pass for a gap."""


def complete_gaps(frequencies: Sequence[Sequence[complex]], *, floor: float = 0.0,
                  rtol: float = GAP_RTOL) -> list[list[float]]:
    """The complete band gaps over a path (theory.md §5.2): ``frequencies[i]`` are the bands found at k-point ``i``,
    band ``n`` being the ``n``-th lowest ``Re ω ≥ floor`` there (sorted frequencies, not connected bands; ``floor``
    the sweep's target: a solve near a target finds the modes just below it at some k-points only). Each pair of
    consecutive bands ``n, n+1`` with ``lower = max_k Re ω_n(k)`` below ``upper = min_k Re ω_{n+1}(k)`` gives
    ``[lower, upper, (upper − lower) / midgap]``, ``midgap = (lower + upper) / 2`` (gaps of relative width below
    ``rtol`` are touching bands, not gaps); increasing frequency.

    Only bands present at every k-point are compared: where some k-point has fewer bands than others, no gap is
    claimed above its last band (a band missing there could lie in the gap), with a warning line.
    """
    real = [np.sort([x for x in np.real(np.asarray(w, dtype=complex)) if x >= floor]) for w in frequencies]
    if not real:
        return []
    common = min(len(w) for w in real)
    if common < max(len(w) for w in real):
        log(f"  warning: gaps: some k-points have only {common} band(s){' above the target' if floor > 0 else ''}; "
            f"no complete gap above band {common} is claimed")
    gaps = []
    for n in range(common - 1):
        lower, upper = max(float(w[n]) for w in real), min(float(w[n + 1]) for w in real)
        ratio = 2 * (upper - lower) / (upper + lower) if upper + lower > 0 else 0.0
        if ratio > rtol:
            gaps.append([lower, upper, ratio])
    return gaps


@dataclass
class BandDiagram:
    """The bands along a k-path (frequencies in units of 2πc/a), as written to ``results.json``."""

    path: KPath
    points: list[KPointBands]
    dofs: int
    ranks: int = 1
    k_groups: int = 1
    target: float = 0.0
    """The frequency (2πc/a) the sweep searched from: gaps are looked for above it."""

    @property
    def bands(self) -> list[list[complex | None]]:
        """The connected bands (:func:`connected_bands`)."""
        return connected_bands(self.points)

    @property
    def gaps(self) -> list[list[float]]:
        """The complete gaps ``[lower, upper, gap/midgap]`` over the path, above the target (:func:`complete_gaps`)."""
        return complete_gaps([p.omega for p in self.points], floor=self.target)

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
        """``missing`` (per k-point) only when some band is missing; ``gaps`` as :attr:`gaps`."""
        missing = {"missing": self.missing} if any(self.missing) else {}
        return {"k": self.path.k, "k_distance": self.path.distance,
                "labels": [[i, name] for i, name in self.path.labels],
                "omega_a_over_2pi_c": [p.omega for p in self.points], "residuals": [p.residual for p in self.points],
                "filtered": [p.filtered for p in self.points], **missing, "bands": self.bands, "gaps": self.gaps,
                "dofs": self.dofs,
                "ranks": self.ranks, "k_groups": self.k_groups,
                "timings": {"per_k_point": [p.seconds for p in self.points],
                            "method": [p.method for p in self.points],
                            "solves": [p.solves for p in self.points]}}


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
        boundary). The chunks hold equal numbers of solves, links included: each chunk starts with one full
        solve and continues from it (a chunk with a link gets one new point less)."""
        solves = np.linspace(0, n + self.count - 1, self.count + 1).round().astype(int)
        bounds = [0] + [min(b - j + 1, n) for j, b in enumerate(solves) if j > 0]
        return [list(range(max(lo - 1, 0), hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def k_file(store: Path, index: int) -> Path:
    """The file of k-point ``index`` in a sweep's ``store`` folder."""
    return store / f"k_{index:04d}.json"


def settings_digest(settings: dict) -> str:
    """A short digest of everything that determines a sweep's k-points and modes (config tables as given)."""
    return hashlib.sha256(json.dumps(jsonable(settings), sort_keys=True).encode()).hexdigest()[:16]


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename (a killed run never leaves half a file); an
    I/O error is an :class:`InputError` (the other k-groups learn of it, :func:`_agree_on_failure`)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as err:
        raise InputError(f"cannot write the k-point file {path}: {err}") from None


def _check_stored(store: Path, path: KPath, digest: str) -> str | None:
    """Why the k-point files in ``store`` cannot be resumed with these settings (None: they can)."""
    for file in sorted(store.glob("k_*.json")):
        try:
            point = KPointBands.from_dict(json.loads(file.read_text()))
        except (ValueError, KeyError, TypeError) as err:
            return f"k-point file {file} is truncated or corrupt ({type(err).__name__}); delete it to solve it again"
        if point.settings != digest:
            return (f"--resume: {file} was written with other settings (mesh, material, path, bands, ...); "
                    f"use another --out or run without --resume")
        if not (0 <= point.index < len(path.k)) or file != k_file(store, point.index) or \
                not np.allclose(point.k, path.k[point.index], atol=1e-12):
            return f"--resume: {file} holds k = {np.round(point.k, 6).tolist()}, not a point of this path"
    return None


def sweep_bands(problem: BlochProblem, path: KPath, *, num_bands: int, target: float = 0.0, max_targets: int = 4,
                store: Path | None = None, resume: bool = False, groups: KGroups | None = None,
                settings: dict | None = None, continuation: bool = True) -> BandDiagram:
    """The ``num_bands`` lowest physical bands at or above ``target`` (Ω units) at every point of ``path``,
    connected by eigenvector overlap (theory.md §5.2; :func:`collect_modes` with ``max_targets`` solves).
    A k-point where fewer bands were found gets a warning line and its ``missing`` count
    (:attr:`BandDiagram.missing`); the caller decides whether that is an error.

    ``store``: a folder that gets one file per k-point (:class:`KPointBands`, written atomically) as soon as it
    is solved (stale files are removed first); with ``resume``, points whose file exists are not solved again,
    and files written with other ``settings`` (a dict of everything that determines the modes, digested by
    :func:`settings_digest`), for another k or truncated are an :class:`InputError` on every rank.
    ``groups``: ``problem`` lives on this rank's group communicator and every group solves its chunk of the
    path; a failure in one group ends every rank with its message (never a rank left waiting). Every rank
    returns the whole diagram. ``continuation``: continue dispersive bands from the previous k-point
    (:mod:`~fem_homog.photonics.continuation`); False solves every k-point in full.
    """
    require(num_bands >= 1, f"must be >= 1, got {num_bands}", argument="num_bands")
    limit = problem.unit_mass().getSize()[0]
    require(num_bands <= limit, f"must be <= {limit}, the number of modes this discretization has (its reduced "
                                f"dofs), got {num_bands}", argument="num_bands")
    require(max_targets >= 1, f"must be >= 1, got {max_targets}", argument="max_targets")
    require(store is not None or not resume, "needs a store folder to resume from", argument="resume")
    groups = groups or KGroups.single(problem.mesh.comm)
    digest = settings_digest(settings or {})
    if store is not None:
        _prepare(store, resume, groups.world, path, digest)
    indices = groups.chunks(len(path.k))[groups.index]
    try:
        solved, failure = _sweep_chunk(problem, path, indices, store, resume, num_bands=num_bands, target=target,
                                       max_targets=max_targets, digest=digest, continuation=continuation), None
    except (InputError, SolverError) as err:
        solved, failure = [], err
    _agree_on_failure(groups, failure)
    points = _collect(groups.world, solved, len(path.k), store)
    return BandDiagram(path, points, dofs=problem.V.dofmap.index_map.size_global, ranks=groups.world.size,
                       k_groups=groups.count, target=float(to_reduced(target)))


def _prepare(store: Path, resume: bool, world: MPI.Comm, path: KPath, digest: str) -> None:
    """Create ``store``; remove stale files, or (``resume``) check them, on rank 0; every rank gets the verdict."""
    problem = None
    if world.rank == 0:
        try:
            store.mkdir(parents=True, exist_ok=True)
            for stale in store.glob("k_*.json*") if not resume else store.glob("k_*.json.tmp"):
                stale.unlink()
            problem = _check_stored(store, path, digest) if resume else None
        except OSError as err:
            problem = f"cannot use the k-point folder {store}: {err}"
    problem = world.bcast(problem)
    if problem is not None:
        raise InputError(problem)


def _agree_on_failure(groups: KGroups, failure: Exception | None) -> None:
    """Raise on every rank of the world if any k-group failed (before the collectives that would wait for it)."""
    reports = groups.world.allgather(None if failure is None else (type(failure).__name__, str(failure)))
    first = next((r for r in reports if r is not None), None)
    if failure is not None:
        raise failure
    if first is not None:
        kind = InputError if first[0] == "InputError" else SolverError
        raise kind(first[1])


@dataclass
class _Modes:
    """The bands at one k-point, how they were found and the bracket they leave for the next one."""

    pairs: list[Eigenpair]
    filtered: dict[str, int]
    method: str
    bracket: Bracket | None = None
    solves: int = 1


def _modes_at(problem: BlochProblem, k: np.ndarray, previous: _Modes | None, step: float, *, num_bands: int,
              target: float, max_targets: int, continuation: bool) -> _Modes:
    """The bands at ``k``: continued from the ``previous`` k-point (``step = |Δk|`` away; dispersive media with
    ``continuation``) when that is certified, else the full solve (:func:`collect_modes`); ``solves`` counts
    every eigensolve made here (those of a continuation that failed included)."""
    velocity, tried = problem.velocity_bound(), []

    def continued_solve(nev: int, shift: float) -> BlochSolution:
        tried.append(shift)
        return problem.solve(k, nev=nev, target=shift, tol=CONTINUED_TOL, refine=False)

    if continuation and velocity is not None and previous is not None:
        continued = continue_bands(continued_solve, previous.pairs, previous.bracket, wanted=num_bands,
                                   target=target, step=SAFETY * velocity * step)
        if continued is not None:
            return _Modes(continued.pairs, continued.filtered, "continued", continued.bracket, len(tried))
    full: list[BlochSolution] = []

    def solve(nev: int, shift: float) -> BlochSolution:
        full.append(problem.solve(k, nev=nev, target=shift))
        return full[-1]

    pairs, filtered = collect_modes(solve, num_bands, target, max_targets)
    bracket = full_bracket(full[0], target, pairs) if len(full) == 1 else None
    return _Modes(pairs, filtered, "full", bracket, len(tried) + len(full))


def _sweep_chunk(problem: BlochProblem, path: KPath, indices: list[int], store: Path | None, resume: bool, *,
                 num_bands: int, target: float, max_targets: int, digest: str,
                 continuation: bool) -> list[KPointBands]:
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
        step = float(np.linalg.norm(path.k[i] - path.k[indices[position - 1]])) if position > 0 else 0.0
        modes = _modes_at(problem, path.k[i], previous, step, num_bands=num_bands, target=target,
                          max_targets=max_targets, continuation=continuation)
        pairs, filtered, method = modes.pairs, modes.filtered, modes.method
        seconds = time.perf_counter() - start
        perm = connect(overlap(problem.unit_mass(), previous.pairs, pairs)) if previous else np.arange(len(pairs))
        previous = modes
        if position < first_new or comm.rank != 0:
            continue
        point = KPointBands(index=i, k=path.k[i], omega=[complex(to_reduced(p.omega)) for p in pairs],
                            residual=[p.residual for p in pairs], filtered=filtered,
                            previous_band=[int(p) for p in perm], seconds=seconds,
                            missing=num_bands - len(pairs), method=method, settings=digest, solves=modes.solves)
        if store is not None:
            _write_atomically(k_file(store, i), json.dumps(point.to_dict()))
        solved.append(point)
        values = ", ".join(f"{w.real:.5f}" for w in point.omega)
        log(f"  k {i + 1}/{len(path.k)} {np.round(path.k[i], 4).tolist()}: {values}  ({seconds:.2f} s, {method})",
            comm)
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
