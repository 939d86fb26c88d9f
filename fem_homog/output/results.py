"""Writing results: ``results.json`` (numbers), field files ParaView opens (VTX/ADIOS2 ``.bp`` folders)."""

from __future__ import annotations

import json
import math
import resource
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from mpi4py import MPI

from fem_homog.core.logging import log
from fem_homog.core.parallel import on_root

import dolfinx.fem
import dolfinx.io


def jsonable(value: Any) -> Any:
    """Convert numpy arrays and scalars to plain JSON types; complex numbers become ``[re, im]`` pairs."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (complex, np.complexfloating)):
        return [float(value.real), float(value.imag)]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def finite_or_null(value: Any, where: str = "", bad: list[str] | None = None) -> Any:
    """``value`` (plain JSON types) with every NaN or ±inf replaced by ``None``; their places are appended to
    ``bad`` (``"a.b[2]"``)."""
    if isinstance(value, dict):
        return {k: finite_or_null(v, f"{where}.{k}" if where else str(k), bad) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_null(v, f"{where}[{i}]", bad) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        if bad is not None:
            bad.append(where)
        return None
    return value


def write_results(out: Path, results: dict[str, Any], comm: MPI.Comm = MPI.COMM_WORLD) -> Path:
    """Write ``out/results.json`` from rank 0 and return its path.

    The file is strict JSON: a value that is not a finite number (NaN, ±inf) is written as ``null`` and reported
    as a warning that lists where. A failure to write is raised on every rank
    (:func:`~fem_homog.core.parallel.on_root`), so no rank waits for a rank that died.
    """
    path = out / "results.json"
    bad: list[str] = []
    data = finite_or_null(jsonable(results), bad=bad)
    if bad:
        log(f"  warning: {len(bad)} value(s) in results.json are not finite numbers, written as null: "
            f"{', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''}", comm)
    on_root(comm, lambda: path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n"), broadcast=False)
    return path


def write_fields(path: Path, functions: Sequence[dolfinx.fem.Function]) -> Path:
    """Write functions of one space to a VTX (ADIOS2) folder ``path`` (``.bp``), readable by ParaView."""
    mesh = functions[0].function_space.mesh
    with dolfinx.io.VTXWriter(mesh.comm, path, list(functions), engine="BP4") as writer:
        writer.write(0.0)
    return path


def peak_memory_mb(comm: MPI.Comm = MPI.COMM_WORLD) -> dict[str, float]:
    """Peak resident memory of this process so far, in MiB: the largest rank and the sum over ranks."""
    local = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB
    return {"max_rank": comm.allreduce(local, op=MPI.MAX), "total": comm.allreduce(local, op=MPI.SUM)}
