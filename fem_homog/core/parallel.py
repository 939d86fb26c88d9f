"""Failures every rank agrees on: no rank is left waiting in a collective call for a rank that failed.

Under MPI, an exception raised on some ranks only (a rank-0-only step such as gmsh meshing or writing a file;
one group of ranks' own work) leaves the other ranks blocked in their next collective call, and the run hangs.
Two tools make every rank raise instead:

- :func:`on_root` runs a function on rank 0 only; every rank then returns its (broadcast) result or raises;
- :func:`agree` is the collective check itself: each rank passes the exception it caught (or ``None``), and if
  any rank failed, every rank raises; :func:`agreed` is the same around a block of rank-local work.

The ranks that failed re-raise their own exception (with its traceback); the others raise the same kind:
:class:`~fem_homog.core.errors.InputError` or :class:`~fem_homog.core.errors.SolverError` with the failing
rank's message (so the driver prints one ``error:`` line and exits 2 or 3 on every rank), and
:class:`PeerError` for anything else (a bug: the failing rank prints its traceback).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from mpi4py import MPI

from fem_homog.core.errors import InputError, SolverError

T = TypeVar("T")


class PeerError(RuntimeError):
    """Another rank failed with an unexpected exception (its own traceback is printed by that rank)."""


def _report(error: Exception) -> tuple[str, str]:
    """What the other ranks need to raise the same kind of error: (kind, message)."""
    if isinstance(error, InputError):
        return "input", str(error)
    if isinstance(error, SolverError):
        return "solver", str(error)
    return "other", f"{type(error).__name__}: {error}"


def agree(comm: MPI.Comm, error: Exception | None) -> None:
    """Collective: raise on every rank of ``comm`` if any rank passes an exception (``None``: this rank is fine).

    A rank that passes its own exception re-raises it; the others raise an :class:`InputError` or
    :class:`SolverError` with the message of the lowest failing rank, or a :class:`PeerError` naming that rank.
    Every rank must call it (it is an ``allgather``), before the next collective call::

        error = None
        try:
            local_step()
        except Exception as err:
            error = err
        agree(comm, error)
    """
    reports = comm.allgather(None if error is None else _report(error))
    failed = [(rank, report) for rank, report in enumerate(reports) if report is not None]
    if not failed:
        return
    if error is not None:
        raise error
    rank, (kind, message) = failed[0]
    if kind == "input":
        raise InputError(message)
    if kind == "solver":
        raise SolverError(message)
    raise PeerError(f"rank {rank} of {comm.size} failed: {message}")


@contextmanager
def agreed(comm: MPI.Comm) -> Iterator[None]:
    """Run a block on every rank, then :func:`agree` on its outcome: if it raised on any rank, every rank raises.

    The block must not itself call collectives on ``comm`` (a rank that failed before them would leave the others
    waiting there); it is meant for rank-local work such as one k-group's solves on its own communicator.
    """
    try:
        yield
    except Exception as err:
        agree(comm, err)  # raises on every rank
    else:
        agree(comm, None)


def on_root(comm: MPI.Comm, step: Callable[[], T], *, broadcast: bool = True) -> T | None:
    """Run ``step()`` on rank 0 of ``comm`` only; if it raised, every rank raises (:func:`agree`).

    Returns its result on every rank (broadcast), or with ``broadcast=False`` on rank 0 only (``None``
    elsewhere), e.g. for a step whose result stays in rank 0's state, like a gmsh model.
    """
    result, error = None, None
    if comm.rank == 0:
        try:
            result = step()
        except Exception as err:
            error = err
    agree(comm, error)
    return comm.bcast(result, root=0) if broadcast else result
