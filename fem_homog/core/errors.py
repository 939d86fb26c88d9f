"""The exception types user-facing errors are reported with.

Drivers catch :class:`InputError` (bad input) and :class:`SolverError` (a solver that did not converge) and
print the message as a single line followed by a non-zero exit; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from mpi4py import MPI


class InputError(ValueError):
    """A problem with what the user asked for (bad parameter, impossible geometry, unknown option)."""


class SolverError(RuntimeError):
    """A linear or eigenvalue solver that did not converge."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InputError(message)


def require_collective(comm: MPI.Comm, message: str | None) -> None:
    """Raise :class:`InputError` on every rank if any rank found a problem (``message`` not None).

    A check whose outcome differs between ranks must go through here, or the ranks that passed would wait
    forever in the next collective call.
    """
    messages = [m for m in comm.allgather(message) if m is not None]
    if messages:
        raise InputError(messages[0])
