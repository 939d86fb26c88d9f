"""From library argument names to the config keys users type.

Library functions report bad input with the name of the argument
(:class:`~fem_homog.core.errors.InputError` ``argument``); the driver layer builds typed objects inside
:func:`config_keys`, which puts the config key in its place, so the one-line error names what to change.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from fem_homog.core.errors import InputError


@contextmanager
def config_keys(section: str | None = None, /, **keys: str) -> Iterator[None]:
    """Rename the argument of an :class:`InputError` raised in the block to its config key.

    ``keys`` maps argument names to keys (``h="mesh.h"``); with ``section``, any other argument ``a`` becomes
    ``section.a``. An error without an argument passes unchanged.

    >>> with config_keys("hfh", k0="hfh.point"): ...
    """
    try:
        yield
    except InputError as err:
        if err.argument is None:
            raise
        key = keys.get(err.argument) or (f"{section}.{err.argument}" if section else None)
        if key is None:
            raise
        raise InputError(err.detail, argument=key) from None
