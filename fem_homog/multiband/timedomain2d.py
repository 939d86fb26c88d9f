"""2D time domain: a pulse crossing the straight interface ``x = 0`` between a homogeneous medium (``x < 0``) and
the laminate (``x > 0``), solved with dolfinx for the 2D real-space model and for the fine-scale layers
(theory.md §10.2, §10.5).

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

``B_W`` the C0 interior-penalty form of ``∫ Σ_ij W_ij ∂_ij u ∂_ij v`` on Q2 (Engel et al. 2002): broken Hessian
term, minus ``{(W∘∇²u)_nn}[[∂_n v]]`` and its transpose, plus ``α {W_nn} / h_n [[∂_n u]][[∂_n v]]`` (``h_n`` the
cell size normal to the facet) on the facets inside the metamaterial and, with ``[[∂_n u]] → ∂_n u``, on the
walls. As in 1D (:mod:`fem_homog.multiband.timedomain`), the interface carries no facet term: the natural
mixed-order conditions. On the rectangular Q2 grid a field uniform in ``y`` reproduces the 1D discretization exactly.
Fine scale: ``M = ∫ ρ u v``, ``K = ∫ E ∇u·∇v`` on the resolved layers. Both are integrated by Newmark's average
acceleration (:func:`~fem_homog.multiband.timedomain.newmark`), which conserves ``½ vᵀMv + ½ uᵀKu`` to round-off.
Serial by design (``MPI.COMM_SELF``, scipy's sparse LU).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.interpolate
import ufl
from mpi4py import MPI

import basix.ufl
import dolfinx.fem
import dolfinx.mesh

from fem_homog.cli.driver import Config
from fem_homog.core.logging import log
from fem_homog.core.errors import require
from fem_homog.output.results import write_fields
from fem_homog.multiband import oblique, plots, scattering
from fem_homog.multiband.fem1d import line_nodes, piecewise, stack
from fem_homog.multiband.modematching import TransverseProblem
from fem_homog.multiband.timedomain import PENALTY, Discretization, History, _real, newmark, spectral_transmission

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


def hessian_penalty(W: ufl.core.expr.Expr, inside: dolfinx.fem.Function, walls: ufl.Measure, u, v) -> ufl.Form:
    """C0-IP form of ``∫ Σ_ij W_ij ∂_ij u ∂_ij v`` (``W_ij ≥ 0``) with facet terms only where both neighbours
    are ``inside``, and the mirror condition ``∂_n u = 0`` imposed by the same (Nitsche) terms on the ``walls``
    (with the natural third-order condition, it makes ``cos(k_2 y)`` a transverse mode of the strip). The
    penalty weight ``W_nn`` is the one the consistency term ``(W∘∇²u)_nn = W_nn ∂_nn u`` needs on the
    axis-aligned facets of the grid (and the 1D ``a`` for fields uniform in ``y``)."""
    mesh = inside.function_space.mesh
    n = ufl.FacetNormal(mesh)
    hx, hy = _cell_extent(mesh, 0), _cell_extent(mesh, 1)
    WHu, WHv = ufl.elem_mult(W, ufl.grad(ufl.grad(u))), ufl.elem_mult(W, ufl.grad(ufl.grad(v)))

    def facet_terms(ju, jv, WHu_nn, WHv_nn, W_nn, h):
        return -ufl.inner(WHu_nn, jv) - ufl.inner(ju, WHv_nn) + PENALTY / h * W_nn * ufl.inner(ju, jv)

    h_normal = ufl.avg(hx) * n("+")[0] ** 2 + ufl.avg(hy) * n("+")[1] ** 2
    interior = facet_terms(ufl.jump(ufl.grad(u), n), ufl.jump(ufl.grad(v), n),
                           ufl.avg(ufl.dot(ufl.dot(WHu, n), n)), ufl.avg(ufl.dot(ufl.dot(WHv, n), n)),
                           ufl.avg(ufl.dot(ufl.dot(W, n), n)), h_normal)
    wall = facet_terms(ufl.dot(ufl.grad(u), n), ufl.dot(ufl.grad(v), n), ufl.dot(ufl.dot(WHu, n), n),
                       ufl.dot(ufl.dot(WHv, n), n), ufl.dot(ufl.dot(W, n), n), hy)
    return (ufl.inner(WHu, ufl.grad(ufl.grad(v))) * ufl.dx + inside("+") * inside("-") * interior * ufl.dS
            + wall * walls)


def _walls(mesh: dolfinx.mesh.Mesh, height: float) -> ufl.Measure:
    """``ds`` over the walls ``y = 0`` and ``y = height``."""
    fdim = mesh.topology.dim - 1
    facets = dolfinx.mesh.locate_entities_boundary(
        mesh, fdim, lambda x: np.isclose(x[1], 0.0) | np.isclose(x[1], height))
    tags = dolfinx.mesh.meshtags(mesh, fdim, facets, np.ones(len(facets), dtype=np.int32))
    return ufl.Measure("ds", domain=mesh, subdomain_data=tags)(1)


def _model_form(c: dict, inside: dolfinx.fem.Function, walls: ufl.Measure, u, v) -> ufl.Form:
    """``Σ_{a+b≤1} ∫ c_ab ∂^{ab}u ∂^{ab}v + B_W`` for DG0 coefficients ``c[(a, b)]``."""
    form = ufl.inner(c[0, 0] * u, v) * ufl.dx
    for axis, key in enumerate(GRADIENT):
        form += ufl.inner(c[key] * u.dx(axis), v.dx(axis)) * ufl.dx
    W = ufl.as_matrix([[c[2, 0], c[1, 1] / 2], [c[1, 1] / 2, c[0, 2]]])
    return form + hessian_penalty(W, inside, walls, u, v)


def model_parts(C2: np.ndarray, orientation: str) -> tuple[dict, dict]:
    """Stiffness and mass coefficients ``{(a, b): value}`` (``x`` normal) of a single-band 2D model of order
    ≤ 2 (theory.md §10.5)."""
    C = oblique.normal_first(np.asarray(C2, dtype=float), orientation)
    require(C.shape[2] == 2, "the 2D time-domain solver handles single-band models (model.bands = 1)")
    a, b = np.meshgrid(np.arange(C.shape[0]), np.arange(C.shape[1]), indexing="ij")
    require(not np.any(C[a + b > 2]), "the 2D time-domain solver handles models of order ≤ 2")
    keys = [(0, 0), *GRADIENT, *HESSIAN]
    pad = np.zeros((3, 3, 2))
    pad[:C.shape[0], :C.shape[1]] = C[:3, :3]
    return {k: pad[k][0] for k in keys}, {k: -pad[k][1] for k in keys}


def model_discretization(C2: np.ndarray, orientation: str, E_h: float, rho_h: float, length_left: float,
                         length_right: float, height: float, h: float) -> Discretization:
    """Q2 + C0-IP matrices of the homogeneous medium on ``[−length_left, 0] × [0, height]`` and the model on
    ``[0, length_right] × [0, height]``."""
    breaks = [-length_left, 0.0, length_right]
    mesh = rectangle_mesh(line_nodes(breaks, h), line_nodes([0.0, height], h))
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 2))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    inside = piecewise(mesh, breaks, [0.0, 1.0])
    walls = _walls(mesh, height)
    stiff, mass = model_parts(C2, orientation)
    zero = dict.fromkeys(stiff, 0.0)
    left_stiff, left_mass = {**zero, (1, 0): E_h, (0, 1): E_h}, {**zero, (0, 0): rho_h}

    def matrix(lhs: dict, rhs: dict):
        return _real(_model_form({k: piecewise(mesh, breaks, [lhs[k], rhs[k]]) for k in rhs}, inside, walls, u, v))

    return Discretization(matrix(left_mass, mass), matrix(left_stiff, stiff), matrix(zero, mass), matrix(zero, stiff),
                          V.tabulate_dof_coordinates()[:, :2].copy(), V)


def fine_discretization(spec: Sequence[Sequence[float]], orientation: str, cells: int, E_h: float, rho_h: float,
                        length_left: float, height: float, h: float, degree: int = 2) -> Discretization:
    """Lagrange (Q``degree``) matrices of the homogeneous medium on ``x < 0`` and ``cells`` periods of the
    resolved laminate on ``x > 0``, layers ``parallel`` (stacked along ``x``) or ``normal`` (along ``y``)."""
    require(orientation in oblique.ORIENTATIONS,
            f"unknown timedomain.orientation '{orientation}' (known: {', '.join(oblique.ORIENTATIONS)})")
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
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    left = piecewise(mesh, x_breaks[:1] + [0.0, x_breaks[-1]], [1.0, 0.0]).x.array.real > 0.5

    def coefficient(layers: list[float], value_left: float) -> dolfinx.fem.Function:
        if orientation == "parallel":
            return piecewise(mesh, x_breaks, [value_left] + layers)
        f = piecewise(mesh, y_breaks, layers, axis=1)
        f.x.array[left] = value_left
        return f

    def forms(E_left: float, rho_left: float):
        Ef, rf = coefficient(E, E_left), coefficient(rho, rho_left)
        return (_real(ufl.inner(rf * u, v) * ufl.dx),
                _real(ufl.inner(Ef * ufl.grad(u), ufl.grad(v)) * ufl.dx))

    M, K = forms(E_h, rho_h)
    M_right, K_right = forms(0.0, 0.0)
    return Discretization(M, K, M_right, K_right, V.tabulate_dof_coordinates()[:, :2].copy(), V)


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


def _strip(td: Config) -> tuple[float, float]:
    """``(height, k_2)`` of the strip and transverse mode."""
    height, mode = td["height"], td["mode"]
    require(height > 0, f"timedomain.height must be positive, got {height}")
    require(isinstance(mode, int) and mode >= 0, f"timedomain.mode must be an integer ≥ 0, got {mode}")
    require(td["orientation"] != "normal" or abs(height - round(height)) < 1e-12,
            "timedomain.height must be a whole number of periods for layers normal to the interface")
    return float(height), mode * np.pi / height


def _exact_transmission(config: Config, k2: float):
    spec, orientation = config["laminate"]["layers"], config["timedomain"]["orientation"]
    E_h, rho_h = config["homogeneous"]["E"], config["homogeneous"]["rho"]
    if orientation == "parallel":
        return lambda w: oblique.exact_parallel(spec, E_h, rho_h, w, k2).T_E
    problem = TransverseProblem(spec, E_h, rho_h, h=config["oblique"]["h"])
    return lambda w: problem.solve(w, k2).T_E


def _run(name: str, disc: Discretization, seconds: float, td: Config, x0: float, c: float, k2: float,
         steps: int, snaps: list[int]) -> tuple[Discretization, History, dict]:
    u0, v0 = oblique_pulse(disc.x, x0, td["omega"], c, td["width"], k2)
    log(f"  time domain 2D, {name}: {disc.M.shape[0]} dofs, {steps} steps (assembly {seconds:.1f} s)")
    hist = newmark(disc, u0, v0, td["dt"], steps, snaps)
    e = np.array(hist.energy)
    return disc, hist, {"dofs": disc.M.shape[0], "steps": steps, "seconds": hist.seconds,
                        "assembly_seconds": seconds, "energy_drift": float(np.max(np.abs(e - e[0])) / e[0]),
                        "transmitted_energy": float(hist.energy_right[-1] / e[0]),
                        "reflected_energy": float((e[-1] - hist.energy_right[-1]) / e[0])}


def _timed(build):
    start = time.perf_counter()
    disc = build()
    return disc, time.perf_counter() - start


def pulse_study(config: Config, out: Path | None) -> dict:
    """The 2D pulse study: fit the 2D model (``model.order`` 1 or 2, ``oblique.samples``, ``oblique.k_t_max``),
    run model and fine scale for the same pulse, compare energies and pulse shapes.

    Returns the fit, the incidence (``k2``, angle), per run the dofs, seconds, energy drift and transmitted and
    reflected energy fractions, the spectral average of the frequency-domain ``T_E(ω, k_2)`` (model: the
    reduced 1D model of :func:`~fem_homog.multiband.oblique.reduce`; exact: transfer matrix or mode matching)
    that the transmitted energies must reproduce, the relative L2 differences model − fine of the reflected
    (``x < 0``) and transmitted (``x > 0``) fields at the final time, and the fine/model wall-time ratio.
    """
    td, ob, spec = config["timedomain"], config["oblique"], config["laminate"]["layers"]
    E_h, rho_h = config["homogeneous"]["E"], config["homogeneous"]["rho"]
    orientation = td["orientation"]
    require(orientation in oblique.ORIENTATIONS,
            f"unknown timedomain.orientation '{orientation}' (known: {', '.join(oblique.ORIENTATIONS)})")
    require(td["dt"] > 0 and td["time"] > td["dt"], "timedomain.dt and timedomain.time must be positive")
    require(td["length"] > 0 and td["cells"] >= 1, "timedomain.length and timedomain.cells must be positive")
    height, k2 = _strip(td)
    c_h = np.sqrt(E_h / rho_h)
    require(td["omega"] / c_h > k2, f"timedomain.mode: k2 = {k2:.4g} ≥ ω/c_h, the incident wave is evanescent")
    fit = oblique.fit(spec, 1, ob["samples"], ob["k_t_max"], False, config["fit"]["refine"], config["model"]["order"])
    log(f"  time domain 2D ({orientation} layers, k2 = {k2:.4g}): 2D R_{2 * config['model']['order']} fit "
        f"error {fit.errors[0]:.2%}")
    x0, steps = -0.5 * td["length"], int(round(td["time"] / td["dt"]))
    snaps = sorted({int(round(s)) for s in np.linspace(0, steps, td["snapshots"])})
    builds = {"model": lambda: model_discretization(fit.C2, orientation, E_h, rho_h, td["length"], td["cells"],
                                                    height, td["h_model"]),
              "fine": lambda: fine_discretization(spec, orientation, td["cells"], E_h, rho_h, td["length"], height,
                                                  td["h_fine"], td["degree"])}
    runs = {name: _run(name, *_timed(build), td, x0, c_h, k2, steps, snaps) for name, build in builds.items()}
    hom = oblique.homogeneous_reduced(E_h, rho_h, k2)
    reduced = oblique.reduce(fit.C2, orientation, k2)
    spectral = {"model": spectral_transmission(lambda w: scattering.solve([hom, reduced], [0.0], w).T_E,
                                               td["omega"], c_h, td["width"], k2=k2),
                "exact": spectral_transmission(_exact_transmission(config, k2), td["omega"], c_h, td["width"], k2=k2)}
    angle = float(np.degrees(np.arcsin(k2 * c_h / td["omega"])))
    result = {"dim": 2, "orientation": orientation, "k2": k2, "angle": angle,
              "fit": {"C2": fit.C2, "errors": fit.errors}, "spectral_transmission": spectral}
    result.update({name: run[2] for name, run in runs.items()})
    (dm, hm, _), (df, hf, _) = runs["model"], runs["fine"]
    um = on_grid(dm.x, hm.snapshots[-1], df.x)
    left = df.x[:, 0] < 0
    for side, mask in (("reflected", left), ("transmitted", ~left)):
        uf = hf.snapshots[-1][mask]
        result[f"{side}_pulse_difference"] = float(np.linalg.norm(um[mask] - uf) / max(np.linalg.norm(uf), 1e-300))
    result["speedup"] = hf.seconds / hm.seconds
    log(f"  time domain 2D: energy drift model {result['model']['energy_drift']:.1e}, fine "
        f"{result['fine']['energy_drift']:.1e}; transmitted energy model {result['model']['transmitted_energy']:.5f} "
        f"(spectral T_E {spectral['model']:.5f}), fine {result['fine']['transmitted_energy']:.5f} (exact "
        f"{spectral['exact']:.5f}); L2 difference reflected {result['reflected_pulse_difference']:.3f}, "
        f"transmitted {result['transmitted_pulse_difference']:.3f}")
    if out is not None:
        _outputs(runs, [hm.times[s] for s in snaps], out)
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
