"""The finite-crystal driver's configuration turned into checked, typed objects (errors name the config keys).

Tables: ``[cell]``, ``[material]``, ``[physics]``, ``[fe]`` as for the other photonic drivers; ``[mesh]``
(``h``, ``order``: the periodic cell and the tiled crystal; ``h_envelope``: the envelope domain); ``[hfh]``
(``point``, the mode selection, ``parabolic_tol``); ``[crystal]`` (``nx``, ``ny``, ``margin``, ``pml_width``);
``[source]`` (``kind``, ``position``, ``frequency``, ``relative_detuning``); ``[study]`` (``detunings``: relative
detunings ``(Ω² − Ω₀²)/|Ω₀²|`` of the convergence study, empty for none; ``supercell``: the N of the periodic
source's Bloch supercell, 0 for twice the larger cell count). Everything that can be checked before the solves is
checked here, so a bad key fails in a second, not after the HFH solve.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from fem_homog.cells.crystal_mesh import check_frame, check_tiling
from fem_homog.cells.geometry import CellGeometry
from fem_homog.cells.lattice import named_point
from fem_homog.cli.cells import geometry_from_config
from fem_homog.cli.driver import Config
from fem_homog.cli.keys import config_keys
from fem_homog.cli.materials import phases_from_config
from fem_homog.cli.photonics import selection_from_config
from fem_homog.core.errors import require
from fem_homog.photonics.envelope import CrystalSource, check_crystal
from fem_homog.photonics.envelope_study import check_detunings
from fem_homog.photonics.hfh import Selection
from fem_homog.photonics.materials import Phase
from fem_homog.photonics.slots import check_polarization

COUNTS = "crystal.nx and crystal.ny"
"""The keys behind the library's ``counts`` (one message names both)."""


@dataclass(frozen=True)
class FiniteCrystalSetup:
    """What the finite-crystal story needs, checked: the cell and its phases, the HFH model's options, the
    crystal (``counts`` cells with ``margin`` and ``pml_width``, meshed with ``h``/``order``), its source, and the
    convergence study (``detunings``, empty for none; ``supercell``: N of the periodic source's supercell)."""

    geometry: CellGeometry
    phases: list[Phase]
    polarization: str
    degree: int
    h: float
    order: int
    h_envelope: float
    point: str
    k0: np.ndarray
    selection: Selection
    parabolic_tol: float
    counts: tuple[int, int]
    margin: float
    pml_width: float
    source: CrystalSource
    detunings: tuple[float, ...] = ()
    supercell: int = 0
    edge_offset: str | tuple[float, ...] = "auto"


def finite_crystal_setup(config: Config) -> FiniteCrystalSetup:
    """The typed objects of the finite-crystal ``config``; an :class:`InputError` names the offending key."""
    physics, mesh, hfh, crystal, source = (config[s] for s in ("physics", "mesh", "hfh", "crystal", "source"))
    with config_keys("physics"):
        check_polarization(physics["polarization"])
    geometry = geometry_from_config(config["cell"])
    counts = (crystal["nx"], crystal["ny"])
    with config_keys("crystal", counts=COUNTS, h="mesh.h", order="mesh.order",
                     **{"margin + pml_width": "crystal.margin + crystal.pml_width"}):
        check_tiling(geometry, counts, margin=crystal["margin"], pml_width=crystal["pml_width"], h=mesh["h"],
                     order=mesh["order"])
    with config_keys("source"):
        drive = CrystalSource(tuple(float(x) for x in source["position"] or (counts[0] // 2, counts[1] // 2)),
                              source["kind"], source["frequency"], source["relative_detuning"])
    with config_keys(counts=COUNTS, position="source.position"):
        check_crystal(counts, drive)
    with config_keys(h="mesh.h_envelope", pml_width="crystal.pml_width"):
        check_frame(margin=0.0, pml_width=crystal["pml_width"], h=mesh["h_envelope"])
    with config_keys("hfh"):
        k0 = named_point(hfh["point"], geometry.lattice_vectors)
        selection = selection_from_config(hfh)
    detunings, supercell = study_from_config(config["study"], counts)
    edge_offset = edge_offset_from_config(crystal["edge_offset"])
    return FiniteCrystalSetup(
        geometry=geometry, phases=phases_from_config(config["material"]), polarization=physics["polarization"],
        degree=config["fe"]["degree"], h=mesh["h"], order=mesh["order"], h_envelope=mesh["h_envelope"],
        point=hfh["point"], k0=k0, selection=selection, parabolic_tol=hfh["parabolic_tol"],
        counts=counts, margin=crystal["margin"], pml_width=crystal["pml_width"], source=drive,
        detunings=detunings, supercell=supercell, edge_offset=edge_offset)


def edge_offset_from_config(value) -> str | tuple[float, ...]:
    """``crystal.edge_offset``: ``"auto"`` (the leaky edge from ribbon resonances, theory.md §9.1), one number
    for both axes or ``[δx, δy]`` (cells; 0: ``f = 0`` on the geometric crystal edge)."""
    if isinstance(value, str):
        require(value == "auto", f"crystal.edge_offset must be \"auto\", a number or [δx, δy], got '{value}'")
        return value
    values = value if isinstance(value, list) else [value]
    require(len(values) in (1, 2) and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
                                          for v in values),
            f"crystal.edge_offset must be \"auto\", a number or [δx, δy], got {value!r}")
    return tuple(float(v) for v in values)


def study_from_config(study: dict, counts: tuple[int, int]) -> tuple[tuple[float, ...], int]:
    """``[study]``: the relative detunings (numbers; none, or at least two) and the supercell size N (0: twice
    the larger cell count; else at least the larger count)."""
    with config_keys("study"):
        values = study["detunings"]
        require(all(isinstance(d, (int, float)) and not isinstance(d, bool) for d in values),
                f"{{argument}} must be a list of numbers, got {values!r}", argument="detunings")
        if values:
            check_detunings([float(d) for d in values])
        size = study["supercell"] or 2 * max(counts)
        require(size >= max(counts), f"{{argument}} must be 0 or >= the larger cell count {max(counts)}, got "
                                     f"{study['supercell']}", argument="supercell")
    return tuple(float(d) for d in values), size


def solve_keys() -> AbstractContextManager[None]:
    """The config keys of the arguments the story's solvers may still refuse (mode selection, element degree,
    cell mesh, drive frequency, detunings): wrap the HFH model, the comparison and the study in it."""
    return config_keys(h="mesh.h", order="mesh.order", degree="fe.degree", band="hfh.band", target="hfh.target",
                       frequency="source.frequency", detunings="study.detunings", edge_offset="crystal.edge_offset")
