"""The ``[solver]`` section of the eigenvalue drivers (band_diagram, hfh): which eigensolver, and how MUMPS factorizes.

Keys: ``method`` (``"direct"``: shift-and-invert with MUMPS, or ``"iterative"``: a preconditioned eigensolver
without a factorization, and in the HFH driver Krylov corrector solves, scalar constant media only, for large 3D
cells), ``blr_tolerance`` (MUMPS block low-rank compression, 0 = off), ``out_of_core`` (MUMPS factors on disk) and
``ooc_dir`` (their directory; ``""``: MUMPS's default). See :class:`~fem_homog.fem.petsc.MumpsOptions`.
"""

from __future__ import annotations

from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.fem.petsc import MumpsOptions, MumpsReport
from fem_homog.photonics.bloch import SOLVERS

SOLVER_DEFAULTS = {"method": "direct", "blr_tolerance": 0.0, "out_of_core": False, "ooc_dir": ""}
"""The ``[solver]`` section (see the module docstring)."""


def method_from_config(solver: dict, *, equation: str) -> str:
    """``solver.method``; ``"iterative"`` only for the scalar equation (and constant media: the problem checks
    that, build it inside ``config_keys(solver="solver.method")``)."""
    method = solver["method"]
    require(method in SOLVERS, f"unknown solver.method '{method}' (known: {', '.join(SOLVERS)})")
    if method == "iterative":
        require(equation != "maxwell", "solver.method = \"iterative\" is for the scalar equation; "
                                       "physics.equation = \"maxwell\" needs \"direct\"")
    return method


MAXWELL_BLR_MAX = 1e-7
"""The largest ``solver.blr_tolerance`` for Maxwell bands: beyond it the eigenvectors fail the gauge check
(ε-orthogonality to the gradients to 1e-8; benchmarks/README.md, BLR)."""


def mumps_from_config(solver: dict, *, equation: str = "scalar") -> MumpsOptions:
    """The MUMPS options of ``solver.blr_tolerance``, ``solver.out_of_core`` and ``solver.ooc_dir``."""
    with config_keys("solver", ooc_tmpdir="solver.ooc_dir"):
        options = MumpsOptions(blr_tolerance=solver["blr_tolerance"], out_of_core=solver["out_of_core"],
                               ooc_tmpdir=solver["ooc_dir"] or None)
    require(equation != "maxwell" or options.blr_tolerance <= MAXWELL_BLR_MAX,
            f"solver.blr_tolerance must be at most {MAXWELL_BLR_MAX:g} for physics.equation = \"maxwell\" (the "
            f"eigenvectors must stay orthogonal to the gradients), got {options.blr_tolerance:g}")
    return options


def solver_summary(method: str, report: MumpsReport) -> dict:
    """``results["solver"]``: the method, the MUMPS options and the largest memory MUMPS used in one
    factorization (millions of bytes summed over the ranks; 0 when nothing was factorized)."""
    used = [stat.used_mb_total for stat in report.factorizations]
    return {"method": method, **report.options.to_dict(), "mumps_used_mb_total": max(used, default=0)}
