"""Finite crystal with PMLs: a line source in an N×M crystal, full wave against the HFH envelope model.

The story: describe the cell and its dispersive rods → compute the HFH model of the chosen Bloch mode at the
zone point (T, Ω0, D, U0) and its star (X and Y on a square lattice) → tile the N×M crystal with margin and
PMLs and solve the full wave for a line source at a real drive frequency near Re ω0 → solve the envelope
equation of every star point on the same domain without microstructure and rebuild u ≈ Σ f U0 → compare:
relative L² error in the crystal interior, the cellwise demodulated envelope, and the directionality (field
energy along the diagonals over that along the axes) → write both fields and side-by-side pictures.

    python drivers/finite_crystal.py                     # 14×14 square Drude rods, TM, X point: X-shaped emission
    python drivers/finite_crystal.py --config drivers/configs/finite_crystal_te.toml   # circular rods, TE: axes
    mpiexec -n 2 python drivers/finite_crystal.py --set crystal.nx=10 --set crystal.ny=10

Frequencies in units of 2πc/a; lengths in periods (the crystal occupies [0, nx] × [0, ny]).
"""

import time
from pathlib import Path

import numpy as np

from fem_homog.photonics import crystal  # first: imports dolfinx_solver before dolfinx
from fem_homog.forms import pml as pml_forms
import dolfinx.fem
import ufl
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.slots import POLARIZATIONS
from fem_homog.cli.cells import CELL_DEFAULTS, geometry_from_config
from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry
from fem_homog.cells.meshing import mesh_cell
from fem_homog.fem.coefficients import integrate
from fem_homog.cli.driver import Config, run_driver
from fem_homog.core.logging import log
from fem_homog.cells.crystal_mesh import mesh_box, tile_crystal
from fem_homog.photonics.classification import classify, star
from fem_homog.core.errors import require
from fem_homog.fem.evaluation import bloch_values, interpolate_values, point_values
from fem_homog.photonics.helmholtz import PointSource, PointSources
from fem_homog.photonics.hfh import HFHResult, Selection, hfh_at_point
from fem_homog.output.results import peak_memory_mb, write_fields, write_results
from fem_homog.cells.lattice import named_point
from fem_homog.cli.materials import MATERIAL_DEFAULTS, phases_from_config
from fem_homog.output.plotting import plot_fields
from fem_homog.core.units import to_omega, to_reduced

DEFAULTS: Config = {
    "cell": {**CELL_DEFAULTS, "shape": "square", "side": 0.5},
    "material": {**MATERIAL_DEFAULTS, "inclusion_model": "drude", "omega_p": 1.0, "gamma": 0.01},
    "physics": {"polarization": "TM"},
    "mesh": {"h": 0.05, "order": 2, "h_envelope": 0.2},
    "fe": {"degree": 2},
    "hfh": {"point": "X", "band": 1, "target": 0.0, "search_from": 0.3, "cluster_tol": 0.02,
            "repeated_tol": 1e-5, "parabolic_tol": 0.05},
    "crystal": {"nx": 14, "ny": 14, "margin": 1.0, "pml_width": 2.0},
    "source": {"kind": "point", "position": [], "frequency": 0.0, "relative_detuning": 0.002},
    "output": {"plot": True},
}


SOURCE_KINDS = ("point", "periodic")


def check_crystal(table: dict) -> None:
    require(table["nx"] >= 5 and table["ny"] >= 5,
            f"crystal.nx and crystal.ny must be >= 5 (the comparison skips 2 cells at the edges), "
            f"got {table['nx']} × {table['ny']}")
    require(table["pml_width"] > 0, f"crystal.pml_width must be positive, got {table['pml_width']}")
    require(table["margin"] >= 0, f"crystal.margin must be non-negative, got {table['margin']}")
    whole = table["margin"] + table["pml_width"]
    require(abs(whole - round(whole)) < 1e-12,
            f"crystal.margin + crystal.pml_width must be a whole number of cells, got {whole}")


def source_position(source: dict, table: dict) -> tuple[float, float]:
    """``source.position`` (default: the middle of the crystal), which must lie inside the crystal."""
    position = source["position"] or [table["nx"] / 2, table["ny"] / 2]
    require(len(position) == 2 and 0 < position[0] < table["nx"] and 0 < position[1] < table["ny"],
            f"source.position {position} must lie inside the crystal [0, {table['nx']}] × [0, {table['ny']}]")
    return float(position[0]), float(position[1])


def hfh_model(config: Config, geometry: CellGeometry) -> tuple[BlochProblem, HFHResult]:
    """The HFH model of the chosen mode (theory.md §8); the comparison needs a tensor (simple eigenvalue)."""
    cell = mesh_cell(geometry, h=config["mesh"]["h"], order=config["mesh"]["order"])
    problem = BlochProblem(cell, phases_from_config(config["material"]),
                           polarization=config["physics"]["polarization"], degree=config["fe"]["degree"])
    k0 = named_point(config["hfh"]["point"], geometry.lattice_vectors)
    result = hfh_at_point(problem, k0, Selection.from_config(config["hfh"]))
    require(result.T is not None, f"the finite-crystal comparison needs a simple eigenvalue with a tensor T; the "
                                  f"mode at {config['hfh']['point']} is '{result.case}' (choose another hfh.band)")
    return problem, result


def symmetric_under_lattice(geometry: CellGeometry) -> bool:
    """One centred circle, or a centred square aligned with the axes: the cell has the square lattice's
    symmetry, so the star images of a mode are modes too."""
    if geometry.kind != "inclusions" or len(geometry.inclusions) != 1 or geometry.lattice != "square":
        return False
    inc = geometry.inclusions[0]
    centred = np.allclose(inc.centre, 0.5 * geometry.size) and np.allclose(geometry.size, geometry.size[0])
    return centred and (inc.shape == "circle" or (inc.shape == "square" and inc.angle % 90.0 == 0.0))


def star_modes(result: HFHResult, geometry: CellGeometry) -> list[dict]:
    """``[{k, T, U0}]`` over the star of ``k0``: images ``U0(R^T (y − c) + c)`` about the cell centre ``c``."""
    U0 = result.U0[0]
    if not symmetric_under_lattice(geometry):
        log("  the cell lacks the square lattice's symmetry: the envelope uses k0 alone, not its star")
        return [{"k": result.k0, "T": result.T, "U0": U0}]
    centre = 0.5 * geometry.size
    modes = []
    for member in star(result.k0, result.T, geometry.lattice_vectors):
        R = member["R"]
        image = U0 if np.allclose(R, np.eye(len(R))) else interpolate_values(
            U0.function_space, lambda y, R=R: point_values(U0, (y[:, :2] - centre) @ R + centre))
        modes.append({"k": np.asarray(member["k"]), "T": member["T"], "U0": image})
    return modes


def periodic_sources(xs, k0: np.ndarray, counts: tuple[int, int]) -> PointSources:
    """``source.kind = "periodic"``: the source repeated in every crystal cell, ``x_s + n``, with the phase
    ``e^{−ik0·n}`` that adds the responses of the mode at ``k0`` coherently."""
    n = np.array([(i, j) for i in range(counts[0]) for j in range(counts[1])], dtype=float)
    offset = np.asarray(xs) - np.floor(xs)
    return PointSources(offset + n, np.exp(-1j * n @ k0))


def periodic_envelope_field(cm, mode: dict, result: HFHResult, omega: float, xs, V, h: float):
    """The envelope of the periodically repeated source: one source per unit cell is, on the macro scale, the
    uniform density ``U0(y_s)/D`` over the crystal; only the ``k0`` member of the star is excited."""
    box = mesh_box(cm.lower, cm.upper, pml_width=cm.pml_width, h=h)
    offset = np.asarray(xs) - np.floor(xs)
    density = bloch_values(mode["U0"], np.array([offset]), mode["k"])[0] / result.D[0, 0]
    inside = crystal.region_indicator(box.mesh, lambda x: np.all(
        (x[:, :2] >= cm.crystal_lower) & (x[:, :2] <= cm.crystal_upper), axis=1))
    f = crystal.solve_envelope(box, mode["T"], omega**2 - result.omega0**2,
                               lambda W: pml_forms.load(W, density * inside)).u
    return crystal.reconstruct(V, [(f, mode["U0"], mode["k"])]), [f], box


def envelope_field(cm, modes: list[dict], result: HFHResult, omega: float, xs, V, h: float):
    """Envelopes ``f_s`` of every star point on the crystal's domain without microstructure (theory.md §8
    source term, amplitude ``U0(x_s)/D``) and the reconstruction ``Σ f_s U0_s`` on the full-wave space."""
    box = mesh_box(cm.lower, cm.upper, pml_width=cm.pml_width, h=h, source=xs, h_source=0.05)
    D = result.D[0, 0]
    terms, envelopes = [], []
    peak = cm.mesh.comm.allreduce(np.abs(modes[0]["U0"].x.array).max(initial=0.0), op=max)
    for mode in modes:
        at_source = bloch_values(mode["U0"], np.array([xs]), mode["k"])[0]
        if abs(at_source) < 0.05 * peak:
            log(f"  warning: |U0(x_s)| = {abs(at_source):.2g} is < 5 % of max |U0| = {peak:.2g} at k = "
                f"{np.round(mode['k'], 4).tolist()}: the source sits near a nodal line of the mode and the "
                "leading-order HFH response (∝ U0(x_s)) nearly vanishes; move source.position")
        amplitude = at_source / D
        f = crystal.solve_envelope(box, mode["T"], omega**2 - result.omega0**2, PointSource(xs, amplitude)).u
        terms.append((f, mode["U0"], mode["k"]))
        envelopes.append(f)
    return crystal.reconstruct(V, terms), envelopes, box


def envelope_error(full: dolfinx.fem.Function, f: dolfinx.fem.Function, mode: dict, cm, xs) -> float:
    """Cellwise demodulated full wave ``⟨u U0⟩_c/⟨U0²⟩_c`` against ``f`` at the cell centres (theory.md §9
    metric 2, first star point), over the interior cells (2 cells from the source, if any, and from the edge)."""
    centres, f_h = crystal.demodulate(full, mode["U0"], mode["k"], cm)
    near = np.zeros(len(centres), dtype=bool) if xs is None else np.linalg.norm(centres - xs, axis=1) <= 2.0
    keep = ~near & np.all(
        (centres > cm.crystal_lower + 2) & (centres < cm.crystal_upper - 2), axis=1)
    f_c = point_values(f, centres[keep])
    return float(np.linalg.norm(f_h[keep] - f_c) / np.linalg.norm(f_h[keep]))


def pattern_correlation(u: dolfinx.fem.Function, v: dolfinx.fem.Function, region: dolfinx.fem.Function) -> float:
    """``|(u, v)| / (‖u‖ ‖v‖)`` over the comparison region: 1 when the two fields agree up to a complex factor
    (the shape of the pattern, whatever the amplitude)."""
    comm = u.function_space.mesh.comm
    inner = abs(integrate(region * ufl.inner(u, v) * ufl.dx, comm))
    norms = [integrate(region * ufl.inner(w, w) * ufl.dx, comm).real for w in (u, v)]
    return float(inner / np.sqrt(norms[0] * norms[1]))


def pictures(full, u_hfh, out: Path) -> None:
    """``|u|`` and ``Re u`` of both fields, side by side with one colour scale per quantity."""
    V = full.function_space
    panels = []
    for field_ in (full, u_hfh):
        magnitude = dolfinx.fem.Function(V)
        magnitude.x.array[:] = np.abs(field_.x.array)
        panels.append(magnitude)
    # the full wave's range for both (the envelope's point source is log-singular on its own mesh)
    top = V.mesh.comm.allreduce(np.abs(full.x.array).max(initial=0.0), op=max)
    plot_fields(panels, ["|u| full wave", "|u| HFH"], out / "abs_u.png", clim=(0.0, top), cmap="inferno")
    plot_fields([full, u_hfh], ["Re u full wave", "Re u HFH"], out / "re_u.png", clim=(-top, top))


def main(config: Config, out: Path) -> None:
    polarization = config["physics"]["polarization"]
    require(polarization in POLARIZATIONS, f"unknown physics.polarization '{polarization}' (known: TM, TE)")
    table = config["crystal"]
    check_crystal(table)
    require(config["source"]["kind"] in SOURCE_KINDS,
            f"unknown source.kind '{config['source']['kind']}' (known: {', '.join(SOURCE_KINDS)})")
    xs = source_position(config["source"], table)
    geometry = geometry_from_config(config["cell"])
    require(geometry.dim == 2 and geometry.lattice == "square",
            "finite crystals are 2D square/rectangular arrays (cell.dim = 2, cell.lattice = 'square')")
    timings = {}

    start = time.perf_counter()
    problem, result = hfh_model(config, geometry)
    timings["hfh"] = time.perf_counter() - start
    classification = classify(result.T, config["hfh"]["parabolic_tol"])
    frequency = config["source"]["frequency"] or float(
        to_reduced(result.omega0.real) * (1 + config["source"]["relative_detuning"]))
    omega = float(to_omega(frequency))
    require(omega > 0, f"source.frequency must be positive, got {frequency}")
    log(f"finite_crystal: {table['nx']}×{table['ny']} rods, {polarization}, HFH at {config['hfh']['point']}: "
        f"ω0 a/2πc = {complex(to_reduced(result.omega0)):.5f}, T = {np.round(result.T, 4).tolist()} "
        f"({classification['type']}); drive ω a/2πc = {frequency:.5f}, source at {list(xs)}")

    start = time.perf_counter()
    cm = tile_crystal(geometry, (table["nx"], table["ny"]), margin=table["margin"], pml_width=table["pml_width"],
                      h=config["mesh"]["h"], order=config["mesh"]["order"])
    timings["crystal_mesh"] = time.perf_counter() - start
    periodic = config["source"]["kind"] == "periodic"
    source = periodic_sources(xs, result.k0, (table["nx"], table["ny"])) if periodic else PointSource(xs)
    phases = {p.tag: p.eps for p in problem.phases}
    full = crystal.solve_full_wave(cm, omega, source, matrix=phases[MATRIX], inclusion=phases[INCLUSION],
                                   polarization=polarization, degree=config["fe"]["degree"])
    timings["full_wave"] = sum(full.timings.values())
    log(f"  full wave: {full.dofs} dofs, {timings['full_wave']:.1f} s")

    start = time.perf_counter()
    modes = star_modes(result, geometry)
    build = periodic_envelope_field if periodic else envelope_field
    u_hfh, envelopes, box = build(cm, modes[0] if periodic else modes, result, omega, xs, full.u.function_space,
                                  config["mesh"]["h_envelope"])
    timings["envelope_and_reconstruction"] = time.perf_counter() - start
    envelope_dofs = envelopes[0].function_space.dofmap.index_map.size_global

    interior = crystal.interior_indicator(cm, xs, source_radius=0.0 if periodic else 2.0)
    reach = min(table["nx"], table["ny"]) / 2 - 1
    ratio = None if periodic else {name: crystal.diagonal_to_axis_ratio(u, xs, r_min=2.0, r_max=reach)
                                   for name, u in (("full_wave", full.u), ("hfh", u_hfh))}
    results = {
        "error_l2": crystal.relative_l2_error(u_hfh, full.u, interior),
        "pattern_correlation": pattern_correlation(full.u, u_hfh, interior),
        "envelope_error": envelope_error(full.u, envelopes[0], modes[0], cm, None if periodic else xs),
        "classification": classification, "diagonal_to_axis_ratio": ratio,
        "case": result.case, "k0": result.k0, "omega0": complex(to_reduced(result.omega0)), "T": result.T,
        "D": result.D[0, 0], "star": [m["k"] for m in modes[:1 if periodic else None]], "frequency": frequency,
        "detuning": omega**2 - result.omega0**2, "source": list(xs),
        "dofs": {"full_wave": full.dofs, "envelope": envelope_dofs, "cell": problem.V.dofmap.index_map.size_global},
        "ranks": cm.mesh.comm.size, "timings": timings, "memory_mb": peak_memory_mb()}
    write_results(out, results)
    log(f"  error_l2 {results['error_l2']:.3f}, envelope error {results['envelope_error']:.3f}, pattern "
        f"correlation {results['pattern_correlation']:.3f}"
        + ("" if periodic else f", diagonal/axis energy: full wave {ratio['full_wave']:.2f}, HFH {ratio['hfh']:.2f}"))

    full.u.name, u_hfh.name = "u_full_wave", "u_hfh"
    write_fields(out / "fields.bp", [full.u, u_hfh])
    if config["output"]["plot"]:
        pictures(full.u, u_hfh, out)
    log(f"  results: {out / 'results.json'}  plots: {out / 'abs_u.png'}, {out / 're_u.png'}  fields: "
        f"{out / 'fields.bp'}")


if __name__ == "__main__":
    raise SystemExit(run_driver(main, DEFAULTS, __doc__.splitlines()[0]))
