"""What is reported about an HFH model, its asymptotic check against the exact bands, and the path study
(theory.md §8.2–§8.8).

The "exact" band at ``k0 + κ e`` is the Bloch eigenproblem in the quasi-periodic space of ``k0`` with the
stiffness shifted by ``κ e`` – the very discretization that HFH expands – so the difference to the asymptotic
prediction is the asymptotic error alone: ``O(κ⁴)`` in ``Ω²`` for a simple eigenvalue at a zone edge,
``O(κ²)`` for the linear branches of a repeated one (theory.md §8.8). The path study computes the models of
the lowest bands at every vertex of a k-path and the exact band diagram along it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from fem_homog.cells.lattice import in_first_zone
from fem_homog.core.errors import InputError, require
from fem_homog.core.logging import log
from fem_homog.core.units import to_reduced
from fem_homog.photonics.bands import KPath, sweep_bands
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.classification import classify, star
from fem_homog.photonics.hfh import HFHResult, Selection, has_static_limit, hfh_at_point, nearest_pairs


def probe_directions(k0: np.ndarray, lattice: np.ndarray) -> dict[str, np.ndarray]:
    """Unit directions along the axes (and the diagonal in 2D), each pointing into the first zone from ``k0``."""
    d = len(k0)
    step = 1e-3 * np.pi / np.abs(lattice).max()
    inward = np.array([1.0 if in_first_zone(k0 + step * e, lattice) else -1.0 for e in np.eye(d)])
    names = ["x", "y", "z"][:d]
    out = {name: inward * np.eye(d)[j] for j, name in enumerate(names)}
    if d == 2:
        out["diagonal"] = inward / np.sqrt(2)
    return out


# -- the model at one point --------------------------------------------------------------------------------
@dataclass
class ModelSummary:
    """An HFH model with what is reported about it: frequencies in units of 2πc/a, the tensors of its case,
    the slopes of linear branches along the probe directions, and the type (:func:`classify`, with
    ``parabolic_tol``) and star (:func:`star`, on ``lattice``) of ``T``."""

    result: HFHResult
    lattice: np.ndarray
    parabolic_tol: float = 0.05

    def to_dict(self) -> dict:
        r = self.result
        out = {"case": r.case, "k0": r.k0, "omega0": complex(to_reduced(r.omega0)),
               "omegas": [complex(to_reduced(w)) for w in r.omegas], "T": r.T,
               "solvability_multiplier": r.solvability_multiplier, "repeated_tol": r.repeated_tol}
        if r.case == "nearby":
            out["T_bands"] = r.T_bands
        if r.D is not None:
            out["D"] = r.D
        if r.W is not None and r.case in ("repeated", "nearby"):
            out["W"] = r.W
        if r.T_blocks is not None:
            out["T_blocks"] = r.T_blocks
        if r.case in ("repeated", "nearby", "interior"):
            out["slopes"] = {name: r.slopes(e) for name, e in probe_directions(r.k0, self.lattice).items()}
        if r.case == "interior":
            out["gradient"] = r.gradient
            out["group_velocity"] = r.gradient / (2 * r.omega0.real)
        if r.T is not None:
            out["classification"] = classify(r.T, self.parabolic_tol)
            out["star"] = star(r.k0, r.T, self.lattice, r.point_group or None)
        return out

    def report(self) -> None:
        """Log the case, frequencies, ``T`` and its type, slopes and the solvability multiplier."""
        out = self.to_dict()
        log(f"  case: {out['case']}, ω0 a/2πc = {np.round(out['omegas'], 6).tolist()}")
        if out["T"] is not None:
            log(f"  T = {np.round(out['T'], 6).tolist()}")
            c = out["classification"]
            log(f"  type: {c['type']} ({c['extremum']}), principal values {np.round(c['eigenvalues'], 6).tolist()}")
        if "slopes" in out:
            log(f"  slopes dΩ²/d|κ|: { {k: np.round(v, 6).tolist() for k, v in out['slopes'].items()} }")
        log(f"  solvability multiplier {out['solvability_multiplier']:.1e}")


# -- the asymptotic check ----------------------------------------------------------------------------------
def fitted_slope(kappa: np.ndarray, error: np.ndarray) -> float:
    """Least-squares slope of ``log error`` against ``log |κ|``."""
    keep = np.isfinite(error) & (error > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(kappa[keep]), np.log(error[keep]), 1)[0])


@dataclass
class Comparison:
    """Exact and predicted ``Ω`` of the model's branches along one direction, at the sampled ``|κ|``."""

    direction: np.ndarray
    kappa: np.ndarray
    exact: np.ndarray      # (n_kappa, m) complex Ω
    predicted: np.ndarray  # (n_kappa, m) complex Ω

    @property
    def error(self) -> np.ndarray:
        """``max_p |Ω²_exact − Ω²_HFH| / |Ω0²|`` per ``κ`` (relative to 1 for the low-frequency limit)."""
        scale = max(abs(np.mean(self.predicted[0])) ** 2, 1e-2)
        return np.abs(self.exact ** 2 - self.predicted ** 2).max(axis=1) / scale

    @property
    def error_slope(self) -> float:
        """The fitted log-log slope of :attr:`error` (≈ 4 simple, ≈ 2 linear branches)."""
        return fitted_slope(self.kappa, self.error)

    @property
    def missing(self) -> int:
        """How many sampled ``κ`` lack an exact mode for some branch (NaN in :attr:`exact`)."""
        return int(np.isnan(self.exact).any(axis=1).sum())

    @property
    def fit_points(self) -> int:
        """How many ``κ`` the slope fit used (finite, positive error)."""
        error = self.error
        return int((np.isfinite(error) & (error > 0)).sum())

    def to_dict(self) -> dict:
        """Frequencies in units of 2πc/a."""
        return {"direction": self.direction, "kappa": self.kappa, "exact": to_reduced(self.exact),
                "hfh": to_reduced(self.predicted), "error": self.error, "error_slope": self.error_slope,
                "missing": self.missing, "fit_points": self.fit_points}


def compare_along(problem: BlochProblem, result: HFHResult, direction: np.ndarray,
                  kappas: np.ndarray) -> Comparison:
    """Solve the Bloch problem at ``k0 + κ direction`` (the ``m + 4`` pairs nearest the prediction, with either
    eigensolver: :func:`~fem_homog.photonics.hfh.nearest_pairs`) and keep, for every predicted branch, the
    nearest exact frequency."""
    exact, predicted = [], []
    m = len(result.omegas)
    for kappa in kappas:
        shift = kappa * direction
        K, M, P = problem.quasi_periodic_operators(result.k0, shift=shift)
        guess = np.sqrt(result.predict([shift])[0].astype(complex))
        target = float(np.mean(guess.real))
        sol = nearest_pairs(problem, result.k0 + shift, K, M, nev=m + 4, target=target)
        found = sol.omegas if len(sol.omegas) else np.array([np.nan])
        exact.append([found[np.argmin(np.abs(found - g))] for g in guess])
        predicted.append(guess)
        for A in [*K, *M, P]:
            A.destroy()
    return Comparison(direction, np.asarray(kappas), np.array(exact), np.array(predicted))


@dataclass
class AsymptoticCheck:
    """Exact against asymptotic bands along each probe direction (empty when skipped)."""

    comparisons: dict[str, Comparison]

    def to_dict(self) -> dict:
        return {name: c.to_dict() for name, c in self.comparisons.items()}


def asymptotic_check(problem: BlochProblem, result: HFHResult, *, lattice: np.ndarray, kappa_max: float = 0.4,
                     check_points: int = 5) -> AsymptoticCheck:
    """Compare along every probe direction at ``check_points`` values of ``|κ|`` halving down from
    ``kappa_max`` (``check_points = 0``: no check), logging the error's fitted slope (theory.md §8.8)."""
    if check_points == 0:
        return AsymptoticCheck({})
    require(check_points >= 2, f"must be 0 (no check) or >= 2, got {check_points}", argument="check_points")
    require(kappa_max > 0, f"must be positive, got {kappa_max}", argument="kappa_max")
    kappas = kappa_max * 0.5 ** np.arange(check_points)[::-1]
    comparisons = {}
    for name, e in probe_directions(result.k0, lattice).items():
        comparisons[name] = compare_along(problem, result, e, kappas)
        c = comparisons[name]
        log(f"  asymptotics along {name}: error slope {c.error_slope:.2f} (fitted on {c.fit_points} of "
            f"{len(kappas)} points)")
        if c.missing:
            log(f"  warning: along {name}, {c.missing} of {len(kappas)} points have no exact mode (NaN, left "
                f"out of the slope fit)")
    return AsymptoticCheck(comparisons)


# -- the path study ----------------------------------------------------------------------------------------
def exact_bands(problem: BlochProblem, path: KPath, *, bands: int, search_from: float) -> np.ndarray:
    """The ``bands`` lowest physical frequencies at or above ``search_from`` (Ω units) at every point of
    ``path``, in units of 2πc/a (increasing real part; NaN where fewer converged), with the acoustic band's
    zero at Γ (filtered as static by the PEP) when the medium has one."""
    diagram = sweep_bands(problem, path, num_bands=bands, target=search_from)
    rows = np.full((len(path.k), bands), complex(np.nan, np.nan))
    acoustic = problem.dispersive and has_static_limit(problem)
    for n, point in enumerate(diagram.points):
        omegas = point.omega
        if acoustic and np.allclose(point.k, 0.0):
            omegas = [0j, *omegas][:bands]
        rows[n, :len(omegas)] = omegas
    return rows


@dataclass
class PathStudy:
    """The HFH models of bands ``1..n`` at every vertex of a path (``models[letter] = [(band, summary)]``,
    bands whose model does not exist are left out) and the exact bands along it (units 2πc/a)."""

    path: KPath
    exact: np.ndarray
    models: dict[str, list[tuple[int, ModelSummary]]]

    def to_dict(self) -> dict:
        return {"k": self.path.k, "labels": [[i, n] for i, n in self.path.labels], "exact": self.exact,
                "points": {letter: [{"band": band, **summary.to_dict()} for band, summary in entries]
                           for letter, entries in self.models.items()}}


def path_study(problem: BlochProblem, path: KPath, *, bands: int, selection: Selection, lattice: np.ndarray,
               parabolic_tol: float = 0.05) -> PathStudy:
    """The HFH model of bands ``1..bands`` at every vertex of ``path`` (mode selection and tolerances from
    ``selection``), logged point by point, and the exact band diagram of ``bands + 1`` bands along the path
    (theory.md §8.8). The iterative eigensolver computes the lowest bands only: ``selection.search_from`` must be
    0 with it."""
    require(bands >= 1, f"must be >= 1, got {bands}", argument="bands")
    require(problem.solver == "direct" or selection.search_from == 0,
            f"must be 0 for a path study with the iterative eigensolver (its exact bands are the lowest ones), got "
            f"{to_reduced(selection.search_from):g}", argument="search_from")
    models: dict[str, list[tuple[int, ModelSummary]]] = {}
    for index, letter in path.labels:
        if letter in models:
            continue
        models[letter] = []
        for band in range(1, bands + 1):
            log(f"  point {letter}, band {band}:")
            try:
                result = hfh_at_point(problem, path.k[index], replace(selection, band=band, target=None))
            except InputError as error:  # e.g. the acoustic band of a medium without a static limit
                log(f"    skipped: {error}")
                continue
            models[letter].append((band, ModelSummary(result, lattice, parabolic_tol)))
            models[letter][-1][1].report()
    exact = exact_bands(problem, path, bands=bands + 1, search_from=selection.search_from)
    return PathStudy(path, exact, models)


# -- plots -------------------------------------------------------------------------------------------------
def plot_asymptotics(check: AsymptoticCheck, result: HFHResult, path_out: Path) -> None:
    """Exact (dots) and asymptotic (lines) ``Re ω`` against ``|κ|``, and the error's log-log plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    fine = np.linspace(0, max(c.kappa.max() for c in check.comparisons.values()), 60)
    for n, (name, c) in enumerate(check.comparisons.items()):
        colour = f"C{n}"
        predicted = np.sqrt(result.predict(fine[:, None] * c.direction).astype(complex))
        axes[0].plot(fine, to_reduced(predicted.real), "-", color=colour, lw=1)
        axes[0].plot(c.kappa, to_reduced(c.exact.real), "o", color=colour, ms=4, label=f"exact, {name}")
        axes[1].loglog(c.kappa, c.error, "o-", color=colour, label=f"{name}: slope {c.error_slope:.2f}")
    axes[0].set_xlabel("|κ| a")
    axes[0].set_ylabel("Re ω a/2πc")
    axes[0].set_title(f"{result.case}: HFH asymptotics (lines) vs exact bands")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("|κ| a")
    axes[1].set_ylabel("|Ω²exact − Ω²HFH| / |Ω0²|")
    axes[1].set_title("asymptotic error")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path_out, dpi=120)
    plt.close(fig)


@dataclass
class PathCurve:
    """One HFH branch drawn around a vertex: the points ``k`` of an adjacent path segment within the reach, their
    distance ``s`` along the path (the plot's abscissa) and the predicted ``omega`` (units 2πc/a)."""

    letter: str
    band: int
    branch: int
    s: np.ndarray
    k: np.ndarray
    omega: np.ndarray


def path_curves(study: PathStudy, kappa_max: float, samples: int = 25) -> list[PathCurve]:
    """The asymptotic curves ``ω(k0 + κ) = sqrt(Ω²_HFH(κ))`` of every model (all branches of a repeated or
    nearby one, :meth:`HFHResult.predict`) at every vertex, along each adjacent segment of the path from the
    vertex up to ``|κ| = kappa_max`` (at most half the segment, so neighbouring vertices' curves do not meet).

    The curves are sampled on the segment itself, not at the path's k-points: the path's spacing is usually
    coarser than ``kappa_max``, which once left nothing but the vertex to draw."""
    path, s = study.path, study.path.distance
    vertices = path.labels
    curves = []
    for n, (index, letter) in enumerate(vertices):
        k0 = path.k[index]
        neighbours = [vertices[m][0] for m in (n - 1, n + 1) if 0 <= m < len(vertices)]
        for other in neighbours:
            delta = path.k[other] - k0
            length = float(np.linalg.norm(delta))
            if length == 0.0:
                continue
            t = np.linspace(0.0, min(kappa_max, 0.5 * length), samples)
            kappa = t[:, None] * (delta / length)
            along = s[index] + np.sign(s[other] - s[index]) * t
            for band, summary in study.models.get(letter, []):
                omega = to_reduced(np.sqrt(summary.result.predict(kappa).astype(complex)))
                for branch in range(omega.shape[1]):
                    curves.append(PathCurve(letter, band, branch, along, k0 + kappa, omega[:, branch]))
    return curves


def plot_path_study(study: PathStudy, kappa_max: float, path_out: Path | None = None):
    """Exact bands (black dots, Re and Im ω) along the path and each vertex's HFH curves (red,
    :func:`path_curves`); saved to ``path_out`` if given. Returns the matplotlib figure (closed, its data intact)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = study.path
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    s = path.distance
    for column in study.exact.T:
        axes[0].plot(s, column.real, "k.", ms=3)
        axes[1].plot(s, column.imag, "k.", ms=3)
    for curve in path_curves(study, kappa_max):
        label = f"HFH {curve.letter} band {curve.band} branch {curve.branch + 1}"
        axes[0].plot(curve.s, curve.omega.real, "-", color="red", lw=1.2, label=label)
        axes[1].plot(curve.s, curve.omega.imag, "-", color="red", lw=1.2, label=label)
    for ax, name in zip(axes, ("Re ω a/2πc", "Im ω a/2πc")):
        ax.set_xticks([s[i] for i, _ in path.labels], [("Γ" if n == "G" else n) for _, n in path.labels])
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].set_title("exact bands (dots) and HFH asymptotics (red)")
    fig.tight_layout()
    if path_out is not None:
        fig.savefig(path_out, dpi=120)
    plt.close(fig)
    return fig
