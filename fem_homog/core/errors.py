"""The exception types user-facing errors are reported with.

Drivers catch :class:`InputError` (bad input) and :class:`SolverError` (a solver that did not converge) and
print the message as a single line followed by a non-zero exit; anything else is a bug and keeps its traceback.

The library names *arguments*, never config keys: ``require(h > 0, "must be positive, got 0", argument="h")``
reads "h must be positive, got 0" (a message may also place the name itself: ``"unknown {argument} 'x'"``).
The driver layer (:func:`fem_homog.cli.keys.config_keys`) renames the argument to the key the user typed
("mesh.h must be positive, got 0").
"""

from __future__ import annotations

from mpi4py import MPI


class InputError(ValueError):
    """A problem with what the user asked for (bad parameter, impossible geometry, unknown option).

    ``argument`` (optional) is the name of the offending argument: it replaces the placeholder ``{argument}``
    in ``message``, or else starts the message. ``detail`` keeps the message as given, so a caller can put
    another name in (:func:`fem_homog.cli.keys.config_keys`).
    """

    def __init__(self, message: str, *, argument: str | None = None):
        self.argument, self.detail = argument, message
        super().__init__(_named(message, argument))


def _named(message: str, argument: str | None) -> str:
    if argument is None:
        return message
    return message.replace("{argument}", argument) if "{argument}" in message else f"{argument} {message}"


class SolverError(RuntimeError):
    """A linear or eigenvalue solver that did not converge."""


def require(condition: bool, message: str, *, argument: str | None = None) -> None:
    """Raise :class:`InputError` with ``message`` (about ``argument``, if given) unless ``condition`` holds."""
    if not condition:
        raise InputError(message, argument=argument)


def require_collective(comm: MPI.Comm, message: str | None) -> None:
    """Raise :class:`InputError` on every rank if any rank found a problem (``message`` not None).

    A check whose outcome differs between ranks must go through here, or the ranks that passed would wait
    forever in the next collective call.
    """
    messages = [m for m in comm.allgather(message) if m is not None]
    if messages:
        raise InputError(messages[0])
