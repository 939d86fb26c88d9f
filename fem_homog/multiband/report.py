"""The multiband study of a laminate as one result (theory.md §10): the fits, the exact pass bands, the
transmission sweep, and the optional field, oblique-incidence and pulse studies; ``to_dict`` gives the
``results.json`` of ``drivers/multiband.py``, :meth:`MultibandReport.plot` the overview figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fem_homog.multiband import plots
from fem_homog.multiband.fem1d import FieldComparison
from fem_homog.multiband.homogenize import Homogenized, model_bands
from fem_homog.multiband.model import interface_conditions
from fem_homog.multiband.oblique import AngleStudy
from fem_homog.multiband.scattering import TransmissionSweep
from fem_homog.multiband.timedomain import PulseStudy


@dataclass
class MultibandReport:
    """The laminate's model (``fit``) and the homogeneous medium's (``homogeneous_model``), the exact
    ``band_edges``, the ``sweep`` and the seconds the two fits took; then whichever optional studies ran."""

    fit: Homogenized
    homogeneous_model: Homogenized
    band_edges: list[tuple[float, float]]
    sweep: TransmissionSweep
    fit_seconds: float
    timedomain: PulseStudy | None = None
    field: FieldComparison | None = None
    oblique: AngleStudy | None = None

    def to_dict(self) -> dict:
        out = {"fit": self.fit.to_dict(), "homogeneous_model": self.homogeneous_model.to_dict(),
               "band_edges": self.band_edges,
               "interface_conditions": interface_conditions(self.homogeneous_model.model.order, self.fit.model.order),
               "transmission": [row.to_dict() for row in self.sweep.rows], "summary": self.sweep.summary(),
               "timings": {"fit": self.fit_seconds, "seconds_per_frequency": self.sweep.seconds_per_frequency}}
        for name in ("timedomain", "field", "oblique"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name).to_dict()
        return out

    def plot(self, out: Path) -> None:
        """``fits.png`` (exact bands, model bands continued past π) and ``transmission.png`` (``T_E`` vs ω)."""
        k_model = np.linspace(1e-3, 1.6 * np.pi, 300)
        meta = self.fit
        plots.plot_fits(meta.ks, meta.exact, k_model, model_bands(meta.model, k_model), meta.errors, out / "fits.png")
        plots.plot_transmission(self.sweep.rows, self.band_edges, f"{self.sweep.kind} boundary, {meta.model.name} "
                                f"(N = {meta.model.order})", out / "transmission.png")
