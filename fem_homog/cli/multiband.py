"""The sections of ``drivers/multiband.py`` turned into the typed options of :mod:`fem_homog.multiband`.

Each option object checks its own arguments; it is built inside :func:`~fem_homog.cli.keys.config_keys`, so a
bad value is reported with the key the user typed ("error: scattering.cells must be ≥ 1, got 0"). Checks that
join several sections are made here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_homog.cli.driver import Config
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import InputError, require
from fem_homog.multiband.homogenize import FitOptions
from fem_homog.multiband.oblique import AngleOptions, Fit2DOptions
from fem_homog.multiband.scattering import Media, SweepOptions
from fem_homog.multiband.timedomain import PulseOptions
from fem_homog.multiband.timedomain2d import StripPulseOptions, incidence

PULSE_KEYS = ("omega", "width", "cells", "length", "time", "dt", "h_model", "h_fine", "degree", "snapshots")
"""The ``[timedomain]`` keys that are :class:`~fem_homog.multiband.timedomain.PulseOptions` fields."""


@dataclass(frozen=True)
class MultibandInputs:
    """Everything ``drivers/multiband.py`` runs: the media, the 1D fit, the frequency sweep, the field study's
    ω (0 = off), the pulse study (1D :class:`PulseOptions` or 2D :class:`StripPulseOptions`, None = off), the
    oblique-incidence study (None = off) and whether to plot."""

    media: Media
    fit: FitOptions
    sweep: SweepOptions
    field_omega: float
    pulse: PulseOptions | None
    angles: AngleOptions | None
    plot: bool


def parse_values(spec, key: str) -> np.ndarray:
    """A list of numbers, or ``"start:stop:count"`` (``count`` evenly spaced values, both ends included)."""
    if isinstance(spec, str):
        parts = spec.split(":")
        require(len(parts) == 3, f"{key} range must be 'start:stop:count', got '{spec}'")
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise InputError(f"{key} range '{spec}' is not numeric") from None
        require(count >= 1 and stop >= start, f"{key} range '{spec}' is empty")
        return np.linspace(start, stop, count)
    require(len(spec) > 0 and all(isinstance(w, (int, float)) for w in spec),
            f"{key} must be a non-empty list of numbers or 'start:stop:count'")
    return np.asarray(spec, dtype=float)


def multiband_inputs(config: Config) -> MultibandInputs:
    """The typed options of every section (the optional studies only when enabled)."""
    model, fit, sc = config["model"], config["fit"], config["scattering"]
    for row in config["laminate"]["layers"]:
        require(isinstance(row, list), f"each row of laminate.layers is [E, rho, thickness], got {row!r}")
    with config_keys(layers="laminate.layers", E_h="homogeneous.E", rho_h="homogeneous.rho",
                     termination="scattering.termination"):
        media = Media(layers=tuple(tuple(row) for row in config["laminate"]["layers"]),
                      E_h=config["homogeneous"]["E"], rho_h=config["homogeneous"]["rho"],
                      termination=sc["termination"])
    _require_contrast(config["laminate"]["layers"])
    with config_keys("model", samples="fit.samples", refine="fit.refine", cutoff="fit.cutoff"):
        fit_options = FitOptions(order=model["order"], bands=model["bands"], samples=fit["samples"],
                                 refine=fit["refine"], cutoff=fit["cutoff"])
    with config_keys("scattering"):
        sweep = SweepOptions(kind=sc["kind"], cells=sc["cells"],
                             frequencies=parse_values(sc["frequencies"], "scattering.frequencies"))
    require(sc["field_omega"] <= 0 or sc["kind"] == "double", "scattering.field_omega needs scattering.kind = double")
    return MultibandInputs(media=media, fit=fit_options, sweep=sweep, field_omega=sc["field_omega"],
                           pulse=_pulse(config, media), angles=_angles(config), plot=config["output"]["plot"])


def _require_contrast(layers: list) -> None:
    """A laminate whose layers all have the same impedance ``√(E ρ)`` reflects nothing: it has no band gap, and
    no band edge for the fits to start from (contrast 1, e.g. identical layers)."""
    impedance = [float(np.sqrt(E * rho)) for E, rho, _ in layers]
    require(max(impedance) > (1 + 1e-12) * min(impedance),
            f"laminate.layers have the same impedance √(E ρ) = {impedance[0]:g} in every layer (contrast 1): the "
            f"laminate has no band gap to model; give layers of different E ρ")


def _fit_2d(config: Config, *, bands: int, order: int, cutoff: bool) -> Fit2DOptions:
    ob = config["oblique"]
    with config_keys(bands="model.bands", order="model.order", cutoff="fit.cutoff", refine="fit.refine",
                     samples="oblique.samples", k_t_max="oblique.k_t_max"):
        return Fit2DOptions(bands=bands, order=order, samples=ob["samples"], k_t_max=ob["k_t_max"], cutoff=cutoff,
                            refine=config["fit"]["refine"])


def _pulse(config: Config, media: Media) -> PulseOptions | None:
    """``[timedomain]``: 1D options, or 2D with the ``[oblique]`` fit grid and ``model.order``."""
    td, model = config["timedomain"], config["model"]
    require(td["dim"] in (1, 2), f"timedomain.dim must be 1 or 2, got {td['dim']}")
    if not td["enabled"]:
        return None
    require(model["bands"] == 1 and model["order"] <= 2, "the time-domain study needs model.bands = 1 and "
            "model.order ≤ 2")
    common = {key: td[key] for key in PULSE_KEYS}
    if td["dim"] == 1:
        with config_keys("timedomain"):
            return PulseOptions(**common)
    fit = _fit_2d(config, bands=1, order=model["order"], cutoff=False)
    with config_keys("timedomain", mode_matching_h="oblique.h"):
        pulse = StripPulseOptions(**common, orientation=td["orientation"], height=td["height"], mode=td["mode"],
                                  mode_matching_h=config["oblique"]["h"], fit=fit)
        incidence(media, pulse)
    return pulse


def _angles(config: Config) -> AngleOptions | None:
    """``[oblique]``: reflection vs angle with the 2D fit of ``model.bands`` bands."""
    ob = config["oblique"]
    if not ob["enabled"]:
        return None
    fit = _fit_2d(config, bands=config["model"]["bands"], order=1, cutoff=config["fit"]["cutoff"])
    with config_keys("oblique", mode_matching_h="oblique.h"):
        return AngleOptions(orientation=ob["orientation"], frequencies=parse_values(ob["frequencies"],
                            "oblique.frequencies"), angles=parse_values(ob["angles"], "oblique.angles"),
                            mode_matching_h=ob["h"], fit=fit)
