"""The one exception type user input errors are reported with.

Drivers catch :class:`InputError` and print its message as a single line followed by a non-zero exit;
anything else is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """A problem with what the user asked for (bad parameter, impossible geometry, unknown option)."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InputError(message)
