"""The ``[physics]``, ``[bands]`` and ``[hfh]`` sections of the photonic drivers, turned into typed objects.

Frequencies in the config are in units of 2πc/a and become the solvers' ``Ω = ω a / c`` here. Errors of the
library name its arguments; inside these helpers they are renamed to the keys users type
(:func:`~fem_homog.cli.keys.config_keys`), e.g. "hfh.band must be >= 1, got 0"; the drivers run the library
calls whose errors name an argument the same way (``with config_keys("hfh"): hfh_at_point(...)``).
"""

from __future__ import annotations

from fem_homog.cells.geometry import CellGeometry
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.core.units import to_omega
from fem_homog.photonics.bands import KPath, k_path
from fem_homog.photonics.hfh import Selection
from fem_homog.photonics.slots import check_polarization


def polarization_from_config(physics: dict) -> str:
    """``physics.polarization`` ("TM" or "TE")."""
    with config_keys(polarization="physics.polarization"):
        check_polarization(physics["polarization"])
    return physics["polarization"]


def band_path_from_config(bands: dict, geometry: CellGeometry) -> KPath:
    """The k-path of a ``[bands]`` table (``path``, ``points_per_segment``) on the cell's lattice."""
    with config_keys("bands"):
        return k_path(bands["path"], bands["points_per_segment"], geometry.dim, geometry.lattice_vectors)


def selection_from_config(hfh: dict) -> Selection:
    """The mode an ``[hfh]`` table asks for: ``target > 0`` selects the mode nearest that frequency, otherwise
    ``band`` counts the bands from ``search_from``."""
    with config_keys("hfh"):
        chosen = {"target": float(to_omega(hfh["target"]))} if hfh["target"] > 0 else {"band": hfh["band"]}
        return Selection(**chosen, cluster_tol=hfh["cluster_tol"], repeated_tol=hfh["repeated_tol"],
                         search_from=float(to_omega(hfh["search_from"])))


def hfh_path_from_config(hfh: dict, geometry: CellGeometry) -> tuple[KPath, int] | None:
    """``hfh.path`` (``""``: no path study) sampled with ``hfh.path_points`` intervals per segment, and the number
    of bands modelled at its vertices (``hfh.path_bands``, 0: up to ``hfh.band``)."""
    if not hfh["path"]:
        return None
    require(hfh["path_bands"] >= 0, f"hfh.path_bands must be >= 0, got {hfh['path_bands']}")
    with config_keys("hfh", points_per_segment="hfh.path_points"):
        path = k_path(hfh["path"], hfh["path_points"], geometry.dim, geometry.lattice_vectors)
    return path, hfh["path_bands"] or hfh["band"]
