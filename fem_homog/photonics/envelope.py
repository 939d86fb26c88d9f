"""A line source in a finite crystal: the HFH envelope model against the full wave (theory.md §8–§9).

The comparison, step by step:

1. :func:`envelope_model` — the HFH model of one Bloch mode at a zone point (``T, Ω₀, D, U₀`` from
   :func:`~fem_homog.photonics.hfh.hfh_at_point`), its star (:func:`star_modes`: X and Y on a square lattice)
   and the drive frequency near ``Re Ω₀``;
2. :func:`compare_with_full_wave` — the full wave of the source in the microstructured crystal with PMLs, with
   the very phases and polarization of the HFH model's Bloch problem; the envelope ``f_s`` of every star point
   on the same domain without microstructure and the reconstruction ``u ≈ Σ f_s U₀_s``
   (:func:`hfh_field`); the metrics of theory.md §9 in a :class:`FiniteCrystalResult`.

Coordinates are in periods (the crystal occupies ``[0, n₁] × [0, n₂]``); ``Ω = ωa/c``, and a *reduced*
frequency is ``a/λ = Ω/2π``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from fem_homog.cells.crystal_mesh import CrystalMesh, mesh_box
from fem_homog.cells.geometry import CellGeometry
from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.core.units import to_omega, to_reduced
from fem_homog.fem.evaluation import bloch_values, interpolate_values, point_values
from fem_homog.output.plotting import plot_fields
from fem_homog.output.results import jsonable, peak_memory_mb
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.classification import classify, star
from fem_homog.photonics.crystal import (
    amplitude_factor,
    comparison_cells,
    diagonal_to_axis_ratio,
    envelope_error,
    interior_indicator,
    pattern_correlation,
    reconstruct,
    relative_l2_error,
    solve_envelope,
    solve_full_wave,
)
from fem_homog.photonics.edge import EdgeOffsets, edge_offsets, given_offsets, ribbon_supported, solve_edge_envelope
from fem_homog.photonics.helmholtz import PointSource, PointSources
from fem_homog.photonics.hfh import HFHResult

import dolfinx.fem

SOURCE_KINDS = ("point", "periodic")
EDGE_BAND = 2.0
"""Cells the metrics leave out at the crystal edge (and, for a point source, around the source)."""


@dataclass(frozen=True)
class CrystalSource:
    """The line source driving the crystal, and its frequency.

    Attributes
    ----------
    position
        ``x_s``, inside the crystal.
    kind
        ``"point"``: one source at ``x_s``; ``"periodic"``: one in every crystal cell, ``x_s + n``, with the
        phase ``e^{−ik₀·n}`` that adds the responses of the mode at ``k₀`` coherently.
    frequency
        The reduced drive frequency ``a/λ``; 0 drives at ``Re(Ω₀)/2π · (1 + relative_detuning)``.
    relative_detuning
        See ``frequency``.
    """

    position: tuple[float, ...]
    kind: str = "point"
    frequency: float = 0.0
    relative_detuning: float = 0.002

    def __post_init__(self) -> None:
        require(self.kind in SOURCE_KINDS, f"unknown {{argument}} '{self.kind}' (known: {', '.join(SOURCE_KINDS)})",
                argument="kind")
        require(self.frequency >= 0.0, f"must be positive (or 0: near the mode), got {self.frequency}",
                argument="frequency")

    @property
    def periodic(self) -> bool:
        return self.kind == "periodic"

    def reduced_frequency(self, omega0: complex) -> float:
        """The drive ``a/λ``: ``frequency``, or ``Re(Ω₀)/2π · (1 + relative_detuning)``."""
        frequency = self.frequency or float(to_reduced(omega0.real) * (1 + self.relative_detuning))
        require(frequency > 0, f"must be positive, got {frequency}", argument="frequency")
        return frequency

    def full_wave_source(self, k0: np.ndarray, counts: Sequence[int]) -> PointSource | PointSources:
        """The point source, or the periodic array ``x_s + n`` with amplitudes ``e^{−ik₀·n}`` over the
        ``counts`` cells."""
        if not self.periodic:
            return PointSource(self.position)
        n = np.array([(i, j) for i in range(counts[0]) for j in range(counts[1])], dtype=float)
        offset = np.asarray(self.position) - np.floor(self.position)
        return PointSources(offset + n, np.exp(-1j * n @ k0))


MINIMUM_CELLS = {"point": 8, "periodic": 5}
"""Cells per axis the comparison needs: :data:`EDGE_BAND` at each edge, and for a point source a disc of
:data:`EDGE_BAND` around it and the annulus ``EDGE_BAND ≤ r ≤ n/2 − 1`` of the directionality."""


def check_crystal(counts: Sequence[int], source: CrystalSource) -> None:
    """The comparison needs :data:`MINIMUM_CELLS` per axis, the source inside the crystal
    ``[0, n₁] × [0, n₂]`` and at least one cell farther than :data:`EDGE_BAND` from the edge (and from a point
    source) for the envelope error. Checked before any solve.

    Raises
    ------
    InputError
        Naming ``counts`` or ``position``.
    """
    require(len(counts) == 2, f"must be the two cell counts of a 2D crystal, got {list(counts)}", argument="counts")
    minimum = MINIMUM_CELLS[source.kind]
    around = " and a disc of 2 cells around the source" if not source.periodic else ""
    require(min(counts) >= minimum, f"{{argument}} must be >= {minimum} for a {source.kind} source (the "
                                    f"comparison leaves out 2 cells at the edges{around}), got "
                                    f"{counts[0]} × {counts[1]}", argument="counts")
    x = source.position
    require(len(x) == 2 and 0 < x[0] < counts[0] and 0 < x[1] < counts[1],
            f"{{argument}} {list(x)} must lie inside the crystal [0, {counts[0]}] × [0, {counts[1]}]",
            argument="position")
    index = np.stack(np.meshgrid(*[np.arange(n) for n in counts], indexing="ij"), axis=-1).reshape(-1, 2)
    kept = comparison_cells(index + 0.5, np.zeros(2), np.asarray(counts, dtype=float),
                            None if source.periodic else x, edge_band=EDGE_BAND)
    require(bool(kept.any()), f"no crystal cell lies farther than {EDGE_BAND:g} cells from both the edge and the "
                              f"source at {list(x)}: move {{argument}} towards the middle", argument="position")


# ----------------------------------------------------------------------------------------------------------
# The HFH model of the drive
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StarMode:
    """A member of the star of ``k₀``: its wave vector, its tensor ``R T Rᵀ`` and its Bloch mode."""

    k: np.ndarray
    T: np.ndarray
    U0: dolfinx.fem.Function


def symmetric_under_lattice(geometry: CellGeometry) -> bool:
    """One centred circle, or a centred square aligned with the axes: the cell has the square lattice's
    symmetry, so the star images of a mode are modes too."""
    if geometry.kind != "inclusions" or len(geometry.inclusions) != 1 or geometry.lattice != "square":
        return False
    inc = geometry.inclusions[0]
    centred = np.allclose(inc.centre, 0.5 * geometry.size) and np.allclose(geometry.size, geometry.size[0])
    return centred and (inc.shape == "circle" or (inc.shape == "square" and inc.angle % 90.0 == 0.0))


def star_modes(hfh: HFHResult, geometry: CellGeometry) -> list[StarMode]:
    """The star of ``k₀`` (theory.md §8.6) with the image modes ``U₀(Rᵀ(y − c) + c)`` about the cell centre
    ``c``; ``k₀`` alone if the cell lacks the lattice's symmetry."""
    U0 = hfh.U0[0]
    if not symmetric_under_lattice(geometry):
        log("  the cell lacks the square lattice's symmetry: the envelope uses k0 alone, not its star")
        return [StarMode(hfh.k0, hfh.T, U0)]
    centre = 0.5 * geometry.size
    modes = []
    for member in star(hfh.k0, hfh.T, geometry.lattice_vectors):
        R = member["R"]
        image = U0 if np.allclose(R, np.eye(len(R))) else interpolate_values(
            U0.function_space, lambda y, R=R: point_values(U0, (y[:, :2] - centre) @ R + centre))
        modes.append(StarMode(np.asarray(member["k"]), member["T"], image))
    return modes


@dataclass(frozen=True)
class EnvelopeModel:
    """The HFH model of the drive: the mode, its star members that the source excites (the whole star for a
    point source, ``k₀`` for the periodic one), the reduced drive frequency, the type of ``T`` and, for the
    periodic source, the effective crystal edge of the envelope (:func:`resolve_edge`; None: not yet resolved)."""

    hfh: HFHResult
    modes: list[StarMode]
    frequency: float
    classification: dict
    edge: EdgeOffsets | None = None

    @property
    def omega(self) -> float:
        """The drive ``Ω``."""
        return float(to_omega(self.frequency))

    @property
    def detuning(self) -> complex:
        """``Ω² − Ω₀²``."""
        return self.omega**2 - self.hfh.omega0**2


def envelope_model(hfh: HFHResult, geometry: CellGeometry, source: CrystalSource, *,
                   parabolic_tol: float = 0.05) -> EnvelopeModel:
    """The star, drive frequency and classification (:func:`~fem_homog.photonics.classification.classify`
    with ``parabolic_tol``) of the HFH model ``hfh`` of the cell ``geometry``.

    Raises
    ------
    InputError
        If the mode has no tensor ``T`` (a repeated or nearby eigenvalue: argument ``band``), or the drive
        frequency is not positive (argument ``frequency``).
    """
    require(hfh.T is not None, f"the finite-crystal comparison needs a simple eigenvalue with a tensor T; the "
                               f"mode at k0 = {np.round(hfh.k0, 4).tolist()} is '{hfh.case}' (choose another "
                               "{argument})", argument="band")
    frequency = source.reduced_frequency(hfh.omega0)
    modes = star_modes(hfh, geometry)
    return EnvelopeModel(hfh, modes[:1] if source.periodic else modes, frequency, classify(hfh.T, parabolic_tol))


# ----------------------------------------------------------------------------------------------------------
# Envelopes and reconstruction
# ----------------------------------------------------------------------------------------------------------

def hfh_field(crystal: CrystalMesh, model: EnvelopeModel, source: CrystalSource, V: dolfinx.fem.FunctionSpace,
              *, h: float) -> tuple[dolfinx.fem.Function, list[dolfinx.fem.Function]]:
    """The envelopes ``f_s`` of the star members on a domain without microstructure (element size ``h``) and the
    reconstruction ``Σ f_s U₀_s`` on the full-wave space ``V`` (theory.md §9): for a point source on the
    crystal's domain with the same PMLs, for the periodic source on the crystal with the leaky edge ``f + δ ∂_n f = 0``
    (the reconstruction is 0 outside the crystal)."""
    if source.periodic:
        terms = _periodic_envelope(crystal, model, source.position, h)
        return reconstruct(V, terms, within=(crystal.crystal_lower, crystal.crystal_upper)), [terms[0][0]]
    terms = _point_envelopes(crystal, model, source.position, h)
    return reconstruct(V, terms), [f for f, _, _ in terms]


def _point_envelopes(crystal: CrystalMesh, model: EnvelopeModel, xs: tuple[float, ...], h: float) -> list:
    """Per star member the envelope of the point source (theory.md §8 source term, amplitude ``U₀(x_s)/D``),
    with the reconstruction's ``(f, U₀, k)``."""
    box = mesh_box(crystal.lower, crystal.upper, pml_width=crystal.pml_width, h=h, source=xs, h_source=0.05)
    terms = []
    for mode in model.modes:
        f = solve_envelope(box, mode.T, model.detuning, PointSource(xs, _amplitude(model, mode, xs))).u
        terms.append((f, mode.U0, mode.k))
    return terms


def _amplitude(model: EnvelopeModel, mode: StarMode, xs: Sequence[float]) -> complex:
    """``a = U₀(x_s)/D`` (theory.md §8.6, source term), with a warning when ``|U₀(x_s)|`` is below 5 % of
    ``max |U₀|``: the source sits near a nodal line and the leading-order response nearly vanishes."""
    at_source = bloch_values(mode.U0, np.array([xs]), mode.k)[0]
    comm = mode.U0.function_space.mesh.comm
    peak = comm.allreduce(np.abs(model.modes[0].U0.x.array).max(initial=0.0), op=max)
    if abs(at_source) < 0.05 * peak:
        log(f"  warning: |U0(x_s)| = {abs(at_source):.2g} is < 5 % of max |U0| = {peak:.2g} at k = "
            f"{np.round(mode.k, 4).tolist()}: the source sits near a nodal line of the mode and the "
            "leading-order HFH response (∝ U0(x_s)) nearly vanishes; move the source")
    return at_source / model.hfh.D[0, 0]


def _periodic_envelope(crystal: CrystalMesh, model: EnvelopeModel, xs: tuple[float, ...], h: float) -> list:
    """The envelope of the periodically repeated source (theory.md §9.1): one source per unit cell is, on the
    macro scale, the uniform density ``U₀(y_s)/D`` over the crystal, only the ``k₀`` member of the star is
    excited, and the crystal edge holds the band-edge envelope at the effective edge,
    ``f + δ_j ∂_n f = 0`` (:func:`~fem_homog.photonics.edge.solve_edge_envelope`; ``f = 0`` if the model has no
    offsets). The box is meshed as the crystal shrunk by one element with a frame of one element, all
    physical, so that its outer boundary is the crystal's edge."""
    mode = model.modes[0]
    box = mesh_box(crystal.crystal_lower + h, crystal.crystal_upper - h, pml_width=h, h=h)
    density = _amplitude(model, mode, np.asarray(xs) - np.floor(xs))
    offsets = model.edge.delta if model.edge is not None else [0.0] * crystal.dim
    f = solve_edge_envelope(box, mode.T, model.detuning, density, offsets)
    return [(f, mode.U0, mode.k)]


EdgeOffset = str | complex | Sequence[complex] | EdgeOffsets
"""The effective edge of the periodic-source envelope: ``"auto"`` (ribbon resonances,
:func:`~fem_homog.photonics.edge.edge_offsets`), one number or one per axis (``0``: ``f = 0`` on the geometric
edge), or offsets already computed."""


def resolve_edge(problem: BlochProblem, hfh: HFHResult, geometry: CellGeometry | None,
                 edge_offset: EdgeOffset = "auto") -> EdgeOffsets:
    """The offsets ``δ_j`` of ``edge_offset`` (theory.md §9.1). ``"auto"`` on a cell the ribbon estimate cannot
    treat (:func:`~fem_homog.photonics.edge.ribbon_supported`) falls back to ``f = 0``, with a warning."""
    if isinstance(edge_offset, EdgeOffsets):
        return edge_offset
    if isinstance(edge_offset, str):
        require(edge_offset == "auto", f"must be 'auto' or numbers, got '{edge_offset}'", argument="edge_offset")
        reason = ribbon_supported(geometry, hfh.k0)
        if reason is None:
            return edge_offsets(problem, hfh, geometry)
        log(f"  warning: no edge offsets for this crystal ({reason}): the periodic-source envelope uses f = 0 on "
            "the geometric crystal edge, whose error does not fall towards the band edge (theory.md §9.1)")
        return given_offsets(0.0)
    return given_offsets(edge_offset)


# ----------------------------------------------------------------------------------------------------------
# The comparison
# ----------------------------------------------------------------------------------------------------------

@dataclass
class FiniteCrystalResult:
    """The numbers of a finite-crystal comparison (frequencies reduced, ``a/λ``).

    Attributes
    ----------
    error_l2
        ``‖u_HFH − u‖/‖u‖`` in the crystal interior (:func:`~fem_homog.photonics.crystal.interior_indicator`).
    pattern_correlation
        :func:`~fem_homog.photonics.crystal.pattern_correlation` of the two fields there.
    amplitude_factor
        :func:`~fem_homog.photonics.crystal.amplitude_factor`: ``c`` with ``c u_HFH ≈ u`` there (1 when the
        HFH amplitude is right).
    envelope_error
        :func:`~fem_homog.photonics.crystal.envelope_error` of the first star member.
    classification
        :func:`~fem_homog.photonics.classification.classify` of ``T``.
    diagonal_to_axis_ratio
        ``{"full_wave", "hfh"}`` energy along the diagonals over that along the axes (point source), or None.
    case, k0, omega0, T, D
        The HFH model (``omega0`` reduced, ``D`` its ``1 × 1`` normalisation).
    star
        The wave vectors of the star members in the envelope model.
    frequency, detuning
        The reduced drive frequency and ``Ω² − Ω₀²``.
    source
        ``x_s``.
    edge
        The periodic source's effective crystal edge (:class:`~fem_homog.photonics.edge.EdgeOffsets` as a
        dict), or None (point source).
    dofs
        ``{"full_wave", "envelope", "cell"}``.
    ranks, timings, memory_mb
        MPI ranks, seconds per stage, peak memory (:func:`~fem_homog.output.results.peak_memory_mb`).
    """

    error_l2: float
    pattern_correlation: float
    amplitude_factor: complex
    envelope_error: float
    classification: dict
    diagonal_to_axis_ratio: dict[str, float] | None
    case: str
    k0: np.ndarray
    omega0: complex
    T: np.ndarray
    D: complex
    star: list[np.ndarray]
    frequency: float
    detuning: complex
    source: list[float]
    edge: dict | None
    dofs: dict[str, int]
    ranks: int
    timings: dict[str, float]
    memory_mb: dict[str, float]

    def to_dict(self) -> dict:
        """JSON-ready: complex numbers as ``[re, im]``, arrays as lists."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


@dataclass
class FiniteCrystalComparison:
    """The full wave, the HFH field ``Σ f_s U₀_s`` (both on the crystal's full-wave space) and the numbers."""

    full_wave: dolfinx.fem.Function
    hfh: dolfinx.fem.Function
    result: FiniteCrystalResult


def compare_with_full_wave(crystal: CrystalMesh, problem: BlochProblem, model: EnvelopeModel,
                           source: CrystalSource, *, h_envelope: float, degree: int = 2,
                           timings: Timings | None = None, edge_offset: EdgeOffset = "auto") -> FiniteCrystalComparison:
    """Solve the full wave of ``source`` in ``crystal`` (:func:`~fem_homog.photonics.crystal.solve_full_wave`
    with the phases and polarization of ``problem``, the Bloch problem of the HFH model, so both see the same
    ε and μ_r), build the HFH field (:func:`hfh_field`, envelopes on a mesh of size ``h_envelope``) and compare.

    ``crystal`` is a tiled crystal of the cell (:func:`~fem_homog.cells.crystal_mesh.tile_crystal`); its
    ``counts`` and the source must pass :func:`check_crystal`. For the periodic source the envelope's crystal
    edge is ``model.edge`` or, if None, :func:`resolve_edge` of ``edge_offset``. The stages ``full_wave`` and
    ``envelope_and_reconstruction`` are added to ``timings``, whose stages the result reports.
    """
    check_crystal(crystal.counts, source)
    timings = timings if timings is not None else Timings()
    hfh = model.hfh
    if source.periodic and model.edge is None:
        with timings.stage("edge_offsets"):
            model = replace(model, edge=resolve_edge(problem, hfh, crystal.geometry, edge_offset))
    with timings.stage("full_wave"):
        full = solve_full_wave(crystal, model.omega, source.full_wave_source(hfh.k0, crystal.counts),
                               phases=problem.phases, polarization=problem.polarization, degree=degree)
    log(f"  full wave: {full.dofs} dofs, {timings.seconds['full_wave']:.1f} s")
    with timings.stage("envelope_and_reconstruction"):
        u_hfh, envelopes = hfh_field(crystal, model, source, full.u.function_space, h=h_envelope)
    result = FiniteCrystalResult(
        **_metrics(crystal, model, source, full.u, u_hfh, envelopes[0]),
        classification=model.classification, case=hfh.case, k0=hfh.k0, omega0=complex(to_reduced(hfh.omega0)),
        T=hfh.T, D=hfh.D[0, 0], star=[mode.k for mode in model.modes], frequency=model.frequency,
        detuning=model.detuning, source=list(source.position),
        edge=model.edge.to_dict() if source.periodic else None,
        dofs={"full_wave": full.dofs, "envelope": envelopes[0].function_space.dofmap.index_map.size_global,
              "cell": problem.V.dofmap.index_map.size_global},
        ranks=crystal.mesh.comm.size, timings=dict(timings.seconds), memory_mb=peak_memory_mb(crystal.mesh.comm))
    full.u.name, u_hfh.name = "u_full_wave", "u_hfh"
    return FiniteCrystalComparison(full.u, u_hfh, result)


def _metrics(crystal: CrystalMesh, model: EnvelopeModel, source: CrystalSource, u: dolfinx.fem.Function,
             u_hfh: dolfinx.fem.Function, f: dolfinx.fem.Function) -> dict:
    """theory.md §9's comparison of the full wave ``u`` and the HFH field in the crystal interior (without the
    disc around a point source), the first envelope ``f`` against the demodulated ``u``, and the
    directionality of both fields (point source)."""
    xs, first = source.position, model.modes[0]
    interior = interior_indicator(crystal, xs, source_radius=0.0 if source.periodic else EDGE_BAND,
                                  edge_band=EDGE_BAND)
    reach = min(crystal.counts) / 2 - 1
    ratio = None if source.periodic else {
        name: diagonal_to_axis_ratio(field, xs, r_min=EDGE_BAND, r_max=reach)
        for name, field in (("full_wave", u), ("hfh", u_hfh))}
    return {"error_l2": relative_l2_error(u_hfh, u, interior),
            "pattern_correlation": pattern_correlation(u, u_hfh, interior),
            "amplitude_factor": amplitude_factor(u, u_hfh, interior),
            "envelope_error": envelope_error(u, f, first.U0, first.k, crystal, None if source.periodic else xs,
                                             edge_band=EDGE_BAND),
            "diagonal_to_axis_ratio": ratio}


def plot_comparison(comparison: FiniteCrystalComparison, folder: Path) -> None:
    """``folder/abs_u.png`` and ``folder/re_u.png``: ``|u|`` and ``Re u`` of the full wave and the HFH field side by
    side, with the full wave's range for both (the envelope's point source is log-singular on its own mesh)."""
    full, u_hfh = comparison.full_wave, comparison.hfh
    V = full.function_space
    panels = []
    for field in (full, u_hfh):
        magnitude = dolfinx.fem.Function(V)
        magnitude.x.array[:] = np.abs(field.x.array)
        panels.append(magnitude)
    top = V.mesh.comm.allreduce(np.abs(full.x.array).max(initial=0.0), op=max)
    plot_fields(panels, ["|u| full wave", "|u| HFH"], folder / "abs_u.png", clim=(0.0, top), cmap="inferno")
    plot_fields([full, u_hfh], ["Re u full wave", "Re u HFH"], folder / "re_u.png", clim=(-top, top))
