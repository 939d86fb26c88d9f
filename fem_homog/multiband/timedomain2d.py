"""2D time domain: a pulse crossing the straight interface ``x = 0`` between a homogeneous medium (``x < 0``) and
the laminate (``x > 0``), solved with dolfinx for the 2D real-space model and for the fine-scale layers
(theory.md §10.5, §10.7).

Frame: ``x`` normal to the interface, ``y`` along it; a strip ``0 < y < H`` with mirror walls (``∂_y u = 0``:
natural for the second-order terms, imposed by Nitsche's terms for the fourth-order ones), on which the
transverse mode ``cos(k_2 y)``, ``k_2 = mπ/H``, is the superposition of two plane waves at ``±θ``,
``sin θ = k_2 c_h/ω`` (``m = 0``: normal incidence). Layers ``parallel`` to the interface stack along ``x``;
layers ``normal`` to it stack along ``y``, with both walls at the centre of a layer (mirror planes of the
laminate), so ``H`` is a whole number of periods.

Model (single band, 2D ``R_2`` or ``R_4`` of :func:`fem_homog.multiband.oblique.fit`): with ``C[a, b, m]`` the
coefficient of ``k_x^{2a} k_y^{2b} ω^{2m}`` (:func:`~fem_homog.multiband.oblique.normal_first`), the Lagrangian
terms ``(∂_x^a ∂_y^b u)²`` give ``M ü + K u = 0`` with

    K(u, v) = Σ_{a+b=1} ∫ C[a,b,0] ∂^{ab}u ∂^{ab}v + B_W(u, v),   W = [[C[2,0,0], C[1,1,0]/2], [·, C[0,2,0]]],
    M(u, v) = ∫ −C[0,0,1] u v + Σ_{a+b=1} ∫ −C[a,b,1] ∂^{ab}u ∂^{ab}v + B_W(u, v),   W from −C[·,·,1],

``B_W`` the C0 interior-penalty form of ``∫ Σ_ij W_ij ∂_ij u ∂_ij v`` on Q2
(:func:`fem_homog.forms.interior_penalty.hessian_form_2d`): broken Hessian term, minus
``{(W∘∇²u)_nn}[[∂_n v]]`` and its transpose, plus ``α {W_nn} / h_n [[∂_n u]][[∂_n v]]`` (``h_n`` the cell size
normal to the facet) on the facets inside the metamaterial and, with ``[[∂_n u]] → ∂_n u``, on the walls. As in
1D (:mod:`fem_homog.multiband.timedomain`), the interface carries no facet term: the natural mixed-order
conditions. On the rectangular Q2 grid a field uniform in ``y`` reproduces the 1D discretization exactly.
Fine scale: ``M = ∫ ρ u v``, ``K = ∫ E ∇u·∇v`` on the resolved layers. Both are integrated by Newmark's average
acceleration (:func:`~fem_homog.multiband.timedomain.newmark`), which conserves ``½ vᵀMv + ½ uᵀKu`` to round-off.
Serial by design (``MPI.COMM_SELF``, scipy's sparse LU).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.interpolate
from mpi4py import MPI

from fem_homog.core.errors import require
from fem_homog.core.logging import log
from fem_homog.core.timing import Timings
from fem_homog.forms import real_space
from fem_homog.multiband import oblique, plots, scattering
from fem_homog.multiband.fem1d import assemble_real, line_nodes, piecewise, stack
from fem_homog.multiband.modematching import TransverseProblem
from fem_homog.multiband.scattering import Media
from fem_homog.multiband.timedomain import (
    History,
    PulseDiscretization,
    PulseOptions,
    PulseStudy,
    RunReport,
    newmark,
    pulse_differences,
    spectral_transmission,
)
from fem_homog.output.results import write_fields

import basix.ufl
import dolfinx.fem
import dolfinx.mesh
import ufl

HESSIAN = ((2, 0), (1, 1), (0, 2))
GRADIENT = ((1, 0), (0, 1))


def rectangle_mesh(xs: np.ndarray, ys: np.ndarray) -> dolfinx.mesh.Mesh:
    """The quadrilateral tensor grid with nodes ``xs × ys``."""
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    points = np.column_stack([X.ravel(), Y.ravel()])
    index = np.arange(points.shape[0]).reshape(len(xs), len(ys))
    cells = np.column_stack([index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[:-1, 1:].ravel(),
                             index[1:, 1:].ravel()]).astype(np.int64)
    element = basix.ufl.element("Lagrange", "quadrilateral", 1, shape=(2,))
    return dolfinx.mesh.create_mesh(MPI.COMM_SELF, cells, element, points)


def _cell_extent(mesh: dolfinx.mesh.Mesh, axis: int) -> dolfinx.fem.Function:
    """DG0 width of each cell along ``axis``."""
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    coords = mesh.geometry.x[mesh.geometry.dofmaps[0][:n], axis]
    f = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("DG", 0)))
    f.x.array[:n] = coords.max(axis=1) - coords.min(axis=1)
    return f


def _walls(mesh: dolfinx.mesh.Mesh, height: float) -> ufl.Measure:
    """``ds`` over the walls ``y = 0`` and ``y = height``."""
    fdim = mesh.topology.dim - 1
    facets = dolfinx.mesh.locate_entities_boundary(
        mesh, fdim, lambda x: np.isclose(x[1], 0.0) | np.isclose(x[1], height))
    tags = dolfinx.mesh.meshtags(mesh, fdim, facets, np.ones(len(facets), dtype=np.int32))
    return ufl.Measure("ds", domain=mesh, subdomain_data=tags)(1)


def model_parts(C2: np.ndarray, orientation: str) -> tuple[dict, dict]:
    """Stiffness and mass coefficients ``{(a, b): value}`` (``x`` normal) of a single-band 2D model of order
    ≤ 2 (theory.md §10.5)."""
    C = oblique.normal_first(np.asarray(C2, dtype=float), orientation)
    require(C.shape[2] == 2, f"must be a single-band model (time order 1), got time order {C.shape[2] - 1}",
            argument="C2")
    a, b = np.meshgrid(np.arange(C.shape[0]), np.arange(C.shape[1]), indexing="ij")
    require(not np.any(C[a + b > 2]), "must be a model of order ≤ 2 for the 2D time-domain solver", argument="C2")
    keys = [(0, 0), *GRADIENT, *HESSIAN]
    pad = np.zeros((3, 3, 2))
    pad[:C.shape[0], :C.shape[1]] = C[:3, :3]
    return {k: pad[k][0] for k in keys}, {k: -pad[k][1] for k in keys}


def model_discretization(C2: np.ndarray, orientation: str, E_h: float, rho_h: float, length_left: float,
                         length_right: float, height: float, h: float) -> PulseDiscretization:
    """Q2 + C0-IP matrices (:func:`~fem_homog.forms.real_space.strip_model`) of the homogeneous medium on
    ``[−length_left, 0] × [0, height]`` and the model on ``[0, length_right] × [0, height]``."""
    breaks = [-length_left, 0.0, length_right]
    mesh = rectangle_mesh(line_nodes(breaks, h), line_nodes([0.0, height], h))
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    inside = piecewise(mesh, breaks, [0.0, 1.0])
    walls, hx, hy = _walls(mesh, height), _cell_extent(mesh, 0), _cell_extent(mesh, 1)
    stiff, mass = model_parts(C2, orientation)
    zero = dict.fromkeys(stiff, 0.0)
    left_stiff, left_mass = {**zero, (1, 0): E_h, (0, 1): E_h}, {**zero, (0, 0): rho_h}

    def matrix(lhs: dict, rhs: dict):
        c = {k: piecewise(mesh, breaks, [lhs[k], rhs[k]]) for k in rhs}
        return assemble_real(real_space.strip_model(V, c, inside, walls, hx, hy))

    return PulseDiscretization(matrix(left_mass, mass), matrix(left_stiff, stiff), matrix(zero, mass),
                               matrix(zero, stiff), V.tabulate_dof_coordinates()[:, :2].copy(), V)


def fine_discretization(spec: Sequence[Sequence[float]], orientation: str, cells: int, E_h: float, rho_h: float,
                        length_left: float, height: float, h: float, degree: int = 2) -> PulseDiscretization:
    """Lagrange (Q``degree``) matrices of the homogeneous medium on ``x < 0`` and ``cells`` periods of the
    resolved laminate on ``x > 0``, layers ``parallel`` (stacked along ``x``) or ``normal`` (along ``y``)."""
    oblique.check_orientation(orientation)
    if orientation == "parallel":
        x_breaks, E, rho = stack(spec, cells)
        x_breaks = [-length_left] + x_breaks
        y_nodes = line_nodes([0.0, height], h)
    else:
        x_breaks = [-length_left, 0.0, float(cells)]
        y_breaks, E, rho = stack(spec, int(round(height)) + 1, -0.5 * spec[0][2])  # walls at layer-0 centres
        y_nodes = line_nodes([0.0] + [y for y in y_breaks if 0 < y < height] + [height], h)
    mesh = rectangle_mesh(line_nodes(x_breaks, h), y_nodes)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    left = piecewise(mesh, x_breaks[:1] + [0.0, x_breaks[-1]], [1.0, 0.0]).x.array.real > 0.5

    def coefficient(layers: list[float], value_left: float) -> dolfinx.fem.Function:
        if orientation == "parallel":
            return piecewise(mesh, x_breaks, [value_left] + layers)
        f = piecewise(mesh, y_breaks, layers, axis=1)
        f.x.array[left] = value_left
        return f

    def matrices(E_left: float, rho_left: float):
        Ef, rf = coefficient(E, E_left), coefficient(rho, rho_left)
        return assemble_real(real_space.mass(V, rf)), assemble_real(real_space.stiffness(V, Ef))

    M, K = matrices(E_h, rho_h)
    M_right, K_right = matrices(0.0, 0.0)
    return PulseDiscretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, :2].copy(), V)


def oblique_pulse(xy: np.ndarray, x0: float, omega: float, c: float, width: float,
                  k2: float) -> tuple[np.ndarray, np.ndarray]:
    """A pulse ``Re A(x) cos(k_2 y)``, ``A = e^{−ξ²/2s²} e^{iqξ}``, ``ξ = x − x0``, ``q = sqrt(ω²/c² − k_2²)``,
    every Fourier component ``e^{ikx}`` of which travels towards ``+x`` with ``ω(k) = c sgn(k) sqrt(k² + k_2²)``:
    ``v_0 = Re ∫ −iω(k) Â(k) e^{ikξ} dk cos(k_2 y)`` by the trapezoidal rule (``k_2 = 0``: ``−c f'``, the
    right-going pulse of :func:`~fem_homog.multiband.timedomain.gaussian_pulse`). Returns ``(u_0, v_0)``."""
    require(omega / c > k2 >= 0, f"the pulse needs 0 ≤ k2 < ω/c (propagating incidence), got k2 = {k2:.4g}")
    q = np.sqrt((omega / c) ** 2 - k2 ** 2)
    xs, inverse = np.unique(xy[:, 0], return_inverse=True)
    xi = xs - x0
    count = 2 * int(np.ceil(16 / width * (np.max(np.abs(xi)) + 8 * width) / (2 * np.pi))) + 1  # no aliasing
    k = np.linspace(q - 8 / width, q + 8 / width, count)
    spectrum = -1j * c * np.sign(k) * np.sqrt(k ** 2 + k2 ** 2) * width / np.sqrt(2 * np.pi) \
        * np.exp(-width ** 2 * (k - q) ** 2 / 2)
    v = np.trapezoid(np.exp(1j * np.outer(xi, k)) * spectrum, k, axis=1).real
    u = np.exp(-xi ** 2 / (2 * width ** 2)) * np.cos(q * xi)
    transverse = np.cos(k2 * xy[:, 1])
    return u[inverse] * transverse, v[inverse] * transverse


def on_grid(xy: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Values of a field given at the dofs of a rectangular tensor grid (Q2 dofs), linearly interpolated."""
    xs, ix = np.unique(np.round(xy[:, 0], 10), return_inverse=True)
    ys, iy = np.unique(np.round(xy[:, 1], 10), return_inverse=True)
    require(len(xs) * len(ys) == len(values), "on_grid: the dofs do not form a tensor grid")
    grid = np.zeros((len(xs), len(ys)))
    grid[ix, iy] = values
    inside = np.clip(points, [xs[0], ys[0]], [xs[-1], ys[-1]])  # round-off at the boundary
    return scipy.interpolate.RegularGridInterpolator((xs, ys), grid)(inside)


@dataclass(frozen=True, kw_only=True)
class StripPulseOptions(PulseOptions):
    """A 2D pulse study (:func:`pulse_study`): the options of the 1D study, layers ``orientation``-ed to the
    interface, the strip ``height`` (a whole number of periods for layers ``normal`` to the interface), the
    transverse ``mode`` ``m`` of the pulse ``cos(mπy/height)``, the mesh size ``mode_matching_h`` of the exact mode
    matching (layers normal), and the 2D ``fit`` of the model (single band, order 1 or 2)."""

    orientation: str
    height: float
    mode: int
    mode_matching_h: float
    fit: oblique.Fit2DOptions

    def __post_init__(self):
        super().__post_init__()
        oblique.check_orientation(self.orientation)
        require(self.height > 0, f"must be positive, got {self.height}", argument="height")
        require(isinstance(self.mode, int) and self.mode >= 0, f"must be an integer ≥ 0, got {self.mode}",
                argument="mode")
        require(self.orientation != "normal" or abs(self.height - round(self.height)) < 1e-12,
                "must be a whole number of periods for layers normal to the interface", argument="height")

    @property
    def k2(self) -> float:
        """``k_2 = mπ / height``."""
        return self.mode * np.pi / self.height


def incidence(media: Media, options: StripPulseOptions) -> tuple[float, float]:
    """``(k_2, θ)``: tangential wavenumber and angle of incidence (degrees, ``sin θ = k_2 c_h / ω``) of the
    pulse; refuses an evanescent incident wave."""
    k2, c_h = options.k2, media.wave_speed
    require(options.omega / c_h > k2, f"gives k2 = {k2:.4g} ≥ ω/c_h, the incident wave is evanescent",
            argument="mode")
    return k2, float(np.degrees(np.arcsin(k2 * c_h / options.omega)))


@dataclass(frozen=True, kw_only=True)
class StripRunReport(RunReport):
    """A 2D run: the 1D report, the ``assembly_seconds`` and the fraction of the initial energy left on
    ``x < 0`` at the end (``reflected_energy``)."""

    assembly_seconds: float
    reflected_energy: float


@dataclass(frozen=True, kw_only=True)
class StripPulseStudy(PulseStudy):
    """The 2D study: the 1D comparison (runs as :class:`StripRunReport`) with the layers' ``orientation``, the
    incidence ``k2`` and ``angle`` (degrees) and the 2D ``fit``."""

    orientation: str
    k2: float
    angle: float
    fit: oblique.Fit2D

    def to_dict(self) -> dict:
        return {"dim": 2, "orientation": self.orientation, "k2": self.k2, "angle": self.angle,
                "fit": self.fit.to_dict(bands=False), **super().to_dict()}


def _exact_transmission(media: Media, options: StripPulseOptions):
    """``ω ↦ T_E(ω, k_2)`` of the fine scale: transfer matrix (layers parallel) or mode matching (normal)."""
    k2 = options.k2
    if options.orientation == "parallel":
        return lambda w: oblique.exact_parallel(media.layers, media.E_h, media.rho_h, w, k2).T_E
    problem = TransverseProblem(media.layers, media.E_h, media.rho_h, h=options.mode_matching_h)
    return lambda w: problem.solve(w, k2).T_E


def _run(name: str, disc: PulseDiscretization, assembly_seconds: float, options: StripPulseOptions,
         c: float) -> tuple[PulseDiscretization, History, StripRunReport]:
    o = options
    u0, v0 = oblique_pulse(disc.x, o.start, o.omega, c, o.width, o.k2)
    log(f"  time domain 2D, {name}: {disc.M.shape[0]} dofs, {o.steps} steps (assembly {assembly_seconds:.1f} s)")
    hist = newmark(disc, u0, v0, o.dt, o.steps, o.snapshot_steps)
    e = hist.energy
    report = StripRunReport(**RunReport.of(disc, hist).to_dict(), assembly_seconds=assembly_seconds,
                            reflected_energy=float((e[-1] - hist.energy_right[-1]) / e[0]))
    return disc, hist, report


def pulse_study(media: Media, options: StripPulseOptions, *, out: Path | None = None) -> StripPulseStudy:
    """The 2D pulse study: fit the 2D model (``options.fit``), run model and fine scale for the same pulse,
    compare energies and pulse shapes (theory.md §10.7). The spectral averages are those of the
    frequency-domain ``T_E(ω, k_2)`` (model: the reduced 1D model of :func:`~fem_homog.multiband.oblique.reduce`;
    exact: transfer matrix or mode matching) that the transmitted energies must reproduce. ``out``: write
    ``timedomain.png`` and the final fields ``timedomain_{model,fine}.bp`` there.
    """
    o, E_h, rho_h, c_h = options, media.E_h, media.rho_h, media.wave_speed
    k2, angle = incidence(media, o)
    fit = oblique.fit(media.layers, **dataclasses.asdict(o.fit))
    log(f"  time domain 2D ({o.orientation} layers, k2 = {k2:.4g}): 2D R_{2 * o.fit.order} fit "
        f"error {fit.errors[0]:.2%}")
    builds = {"model": lambda: model_discretization(fit.C2, o.orientation, E_h, rho_h, o.length, o.cells, o.height,
                                                    o.h_model),
              "fine": lambda: fine_discretization(media.layers, o.orientation, o.cells, E_h, rho_h, o.length,
                                                  o.height, o.h_fine, o.degree)}
    timings, runs = Timings(), {}
    for name, build in builds.items():
        with timings.stage(name):
            disc = build()
        runs[name] = _run(name, disc, timings.seconds[name], o, c_h)
    hom, reduced = oblique.homogeneous_reduced(E_h, rho_h, k2), oblique.reduce(fit.C2, o.orientation, k2)
    spectral = {"model": spectral_transmission(lambda w: scattering.solve([hom, reduced], [0.0], w).T_E,
                                               o.omega, c_h, o.width, k2=k2),
                "exact": spectral_transmission(_exact_transmission(media, o), o.omega, c_h, o.width, k2=k2)}
    (dm, hm, model), (df, hf, fine) = runs["model"], runs["fine"]
    differences = pulse_differences(on_grid(dm.x, hm.snapshots[-1], df.x), hf.snapshots[-1], df.x[:, 0] < 0)
    result = StripPulseStudy(spectral_transmission=spectral, model=model, fine=fine, **differences,
                             speedup=hf.seconds / hm.seconds, orientation=o.orientation, k2=k2, angle=angle, fit=fit)
    log(f"  time domain 2D: energy drift model {model.energy_drift:.1e}, fine {fine.energy_drift:.1e}; transmitted "
        f"energy model {model.transmitted_energy:.5f} (spectral T_E {spectral['model']:.5f}), fine "
        f"{fine.transmitted_energy:.5f} (exact {spectral['exact']:.5f}); L2 difference reflected "
        f"{result.reflected_pulse_difference:.3f}, transmitted {result.transmitted_pulse_difference:.3f}")
    if out is not None:
        _outputs(runs, [hm.times[s] for s in o.snapshot_steps], out)
    return result


def _outputs(runs: dict, times: list[float], out: Path) -> None:
    """``timedomain.png`` (snapshots along the wall ``y = 0``) and the final fields as VTX folders."""
    lines = {}
    for name, (disc, hist, _) in runs.items():
        on_wall = np.flatnonzero(np.isclose(disc.x[:, 1], 0.0))
        order = on_wall[np.argsort(disc.x[on_wall, 0])]
        lines[name] = (disc.x[order, 0], [s[order] for s in hist.snapshots])
        f = dolfinx.fem.Function(disc.space, name="u")
        f.x.array[:] = hist.snapshots[-1]
        write_fields(out / f"timedomain_{name}.bp", [f])
    plots.plot_snapshots(*lines["model"], *lines["fine"], times, 0.0, out / "timedomain.png")
