"""The ``[physics]``, ``[bands]`` and ``[hfh]`` sections of the photonic drivers, turned into typed objects.

Frequencies in the config are in units of 2πc/a and become the solvers' ``Ω = ω a / c`` here. Errors of the
library name its arguments; inside these helpers they are renamed to the keys users type
(:func:`~fem_homog.cli.keys.config_keys`), e.g. "hfh.band must be >= 1, got 0"; the drivers run the library
calls whose errors name an argument the same way (``with config_keys("hfh"): hfh_at_point(...)``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fem_homog.cells.crystal3d import CrystalGeometry
from fem_homog.cells.geometry import CellGeometry
from fem_homog.cells.lattice import BAND_PATHS, high_symmetry_points, is_fcc, is_rectangular, named_point
from fem_homog.cells.meshing import CellMesh
from fem_homog.cli.cells import is_number
from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.core.units import to_omega
from fem_homog.photonics.bands import KPath, k_path
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.hfh import Selection
from fem_homog.photonics.materials import Phase
from fem_homog.photonics.maxwell import MaxwellBlochProblem
from fem_homog.photonics.slots import check_polarization

EQUATIONS = ("scalar", "maxwell")
"""The values of ``physics.equation``: the scalar Helmholtz equation of one polarization (TM/TE), or the 3D vector
Maxwell equations (both polarizations at once)."""


def polarization_from_config(physics: dict) -> str:
    """``physics.polarization`` ("TM" or "TE")."""
    with config_keys(polarization="physics.polarization"):
        check_polarization(physics["polarization"])
    return physics["polarization"]


def equation_from_config(physics: dict, geometry: CellGeometry | CrystalGeometry, *, degree: int) -> str:
    """``physics.equation`` and ``physics.polarization`` as one word: ``"TM"`` or ``"TE"`` (scalar Helmholtz), or
    ``"maxwell"`` (a 3D cell; Nédélec ``degree`` 1 or 2 (``fe.degree``); a polarization other than the default
    TM has no meaning there and is refused)."""
    equation = physics["equation"]
    require(equation in EQUATIONS, f"unknown physics.equation '{equation}' (known: {', '.join(EQUATIONS)})")
    polarization = polarization_from_config(physics)
    if equation == "scalar":
        return polarization
    require(geometry.dim == 3, f"physics.equation = \"maxwell\" needs a 3D cell (cell.dim = 3), got cell.dim = "
                               f"{geometry.dim}")
    require(polarization == "TM", f"physics.polarization = \"{polarization}\" has no meaning for physics.equation"
                                  f" = \"maxwell\" (both polarizations at once): remove it")
    require(degree in (1, 2), f"fe.degree must be 1 or 2 for physics.equation = \"maxwell\", got {degree}")
    return "maxwell"


def problem_from_config(equation: str, cell: CellMesh, phases: Sequence[Phase], *, degree: int,
                        method: str = "direct") -> BlochProblem | MaxwellBlochProblem:
    """The Bloch eigenproblem of ``equation`` (:func:`equation_from_config`) on the meshed cell: scalar Lagrange
    of ``degree`` (TM/TE, eigensolver ``method``: ``solver.method``) or vector Nédélec of ``degree``
    (``"maxwell"``, direct)."""
    if equation == "maxwell":
        return MaxwellBlochProblem.from_cell(cell, phases, degree=degree)
    with config_keys(solver="solver.method"):
        return BlochProblem(cell, phases, polarization=equation, degree=degree, solver=method)


def standard_path(geometry: CellGeometry | CrystalGeometry) -> str:
    """The standard band path of a cubic (``"GXMRG"``) or fcc (``"GXWKGLUWLK"``) cell (``bands.path = ""``)."""
    lattice = geometry.lattice_vectors
    require(geometry.dim == 3 and (is_fcc(lattice) or is_rectangular(lattice)),
            "bands.path = \"\" (the standard path) is defined for 3D cubic and fcc cells only; give the letters, "
            "e.g. \"GXMG\"")
    return BAND_PATHS["fcc" if is_fcc(lattice) else "cubic"]


def path_value(path: str | list, key: str, dim: int) -> str | list[list[float]]:
    """A k-path as the user wrote it: letters (``"GXMG"``, or ``["G", "X", "M", "G"]``) or a list of k-points of
    ``dim`` numbers each; anything else is an :class:`~fem_homog.core.errors.InputError` naming ``key``."""
    if isinstance(path, str):
        return path
    if all(isinstance(entry, str) for entry in path):
        return "".join(path)
    for entry in path:
        require(isinstance(entry, list) and len(entry) == dim and all(is_number(c) for c in entry),
                f"{key} must be letters (\"GXMG\" or [\"G\", \"X\"]) or a list of k-points of {dim} numbers, got "
                f"{path!r}")
    return path


def point_from_config(point: str | list, lattice: np.ndarray, key: str = "hfh.point") -> np.ndarray:
    """A zone point given as a letter of the lattice's named points or as ``d`` numbers (units 1/a)."""
    d = len(lattice)
    if isinstance(point, str):
        known = high_symmetry_points(lattice)
        require(point in known, f"unknown k-point '{point}' in {key} for this {d}D lattice (known: "
                                f"{', '.join(known)}, or a list of {d} numbers)")
    else:
        require(len(point) == d and all(is_number(c) for c in point),
                f"{key} must have {d} components (numbers), or be a letter, got {point!r}")
    return named_point(point, lattice)


def band_path_from_config(bands: dict, geometry: CellGeometry | CrystalGeometry) -> KPath:
    """The k-path of a ``[bands]`` table (``path``, ``points_per_segment``) on the cell's lattice; an empty
    ``path`` is the lattice's standard path (:func:`standard_path`)."""
    path = path_value(bands["path"] or standard_path(geometry), "bands.path", geometry.dim)
    with config_keys("bands"):
        return k_path(path, bands["points_per_segment"], geometry.dim, geometry.lattice_vectors)


def selection_from_config(hfh: dict) -> Selection:
    """The mode an ``[hfh]`` table asks for: ``target > 0`` selects the mode nearest that frequency, otherwise
    ``band`` counts the bands from ``search_from`` (the table's ``parabolic_tol``, if any, is checked here too)."""
    require(hfh["target"] >= 0, f"hfh.target must be >= 0 (0: select by hfh.band), got {hfh['target']}")
    require(hfh["search_from"] >= 0, f"hfh.search_from must be >= 0, got {hfh['search_from']}")
    require(hfh["cluster_tol"] > 0, f"hfh.cluster_tol must be positive, got {hfh['cluster_tol']}")
    require(hfh.get("parabolic_tol", 0) >= 0, f"hfh.parabolic_tol must be >= 0, got {hfh.get('parabolic_tol')}")
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
        path = k_path(path_value(hfh["path"], "hfh.path", geometry.dim), hfh["path_points"], geometry.dim,
                      geometry.lattice_vectors)
    return path, hfh["path_bands"] or hfh["band"]
