"""The driver contract: built-in defaults, ``--config F.toml``, ``--set section.key=value``, ``--out DIR``.

Every driver declares its defaults as a two-level dict (``section -> key -> value``) and hands its story to
:func:`run_driver`, which resolves the configuration, creates the output folder, writes ``config.toml`` and
turns user errors (:class:`~fem_homog.core.errors.InputError`, :class:`~fem_homog.core.errors.SolverError`) into
one clear line on standard error and exit status 2 (input) or 3 (solver). Unknown sections or keys are errors, so
a typo in a key never silently falls back to a default.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

from mpi4py import MPI

from fem_homog.core.errors import InputError, SolverError, require
from fem_homog.core.parallel import PeerError, on_root

Config = dict[str, dict[str, Any]]
Accepts = Mapping[str, tuple[type, ...]]
"""Dotted key → the kinds (``list``, ``float``) a driver accepts for it beyond its default's kind."""


def _parse_literal(text: str) -> Any:
    """A ``--set`` value as a TOML literal; a bare word that is not valid TOML is taken as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _finite(key: str, value: Any) -> None:
    """Refuse NaN and ±inf anywhere in ``value`` (numbers, lists, tables)."""
    if isinstance(value, float):
        require(math.isfinite(value), f"{key} must be a finite number, got {value!r}")
    elif isinstance(value, list):
        for item in value:
            _finite(key, item)
    elif isinstance(value, dict):
        for item in value.values():
            _finite(key, item)


def _check_type(key: str, default: Any, value: Any, extra: tuple[type, ...] = ()) -> Any:
    """Accept ``value`` for a key whose default is ``default``: same kind, ints for floats.

    A number key takes a number; an integer key (integer default) takes an integer, or an integral float such
    as ``8.0``, stored as ``8``; NaN and ±inf are refused everywhere. ``extra`` lists the further kinds the
    driver declared for this key (``list``: e.g. a d×d conductivity matrix; ``float``: a real value for a key
    whose default happens to be an integer).
    """
    _finite(key, value)
    if extra and isinstance(value, extra) and not isinstance(value, bool):
        return value
    number = (int, float)
    if isinstance(default, bool):
        require(isinstance(value, bool), f"{key} must be true or false, got {value!r}")
    elif isinstance(default, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        require(isinstance(value, int) and not isinstance(value, bool), f"{key} must be an integer, got {value!r}")
    elif isinstance(default, float):
        require(isinstance(value, number) and not isinstance(value, bool), f"{key} must be a number, got {value!r}")
        if isinstance(value, int):
            value = float(value)
    elif isinstance(default, str):
        require(isinstance(value, (str, list)), f"{key} must be a string, got {value!r}")
    elif isinstance(default, list):
        require(isinstance(value, list), f"{key} must be a list, got {value!r}")
    return value


def _set(config: Config, dotted: str, value: Any, accepts: Accepts) -> None:
    section, _, key = dotted.partition(".")
    require(bool(key), f"config key '{dotted}' must have the form section.key")
    require(section in config, f"unknown config section '{section}' (known: {', '.join(config)})")
    require(key in config[section],
            f"unknown config key '{dotted}' (known in [{section}]: {', '.join(config[section])})")
    config[section][key] = _check_type(dotted, config[section][key], value, tuple(accepts.get(dotted, ())))


def resolve(defaults: Config, file: Path | None = None, overrides: list[str] = (),
            accepts: Accepts | None = None) -> Config:
    """Defaults, then the TOML file, then the ``--set`` overrides, each checked against the defaults.

    ``accepts`` maps dotted keys to the further kinds their values may take (see :func:`run_driver`).
    """
    accepts = accepts or {}
    config = copy.deepcopy(defaults)
    if file is not None:
        require(file.is_file(), f"config file {file} does not exist")
        try:
            data = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"config file {file} is not valid TOML: {err}") from None
        for section, table in data.items():
            require(isinstance(table, dict), f"config entry '{section}' must be a [section] table")
            for key, value in table.items():
                _set(config, f"{section}.{key}", value, accepts)
    for item in overrides:
        dotted, sep, text = item.partition("=")
        require(bool(sep), f"--set expects section.key=value, got '{item}'")
        _set(config, dotted.strip(), _parse_literal(text.strip()), accepts)
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: Config) -> str:
    """The resolved configuration as a TOML document (readable back with ``--config``)."""
    lines = []
    for section, table in config.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def _prepare_out(out: Path, config: Config, comm: MPI.Comm) -> None:
    """Create ``out``, write ``config.toml`` and remove a previous run's ``results.json`` (rank 0).

    Run through :func:`~fem_homog.core.parallel.on_root`, so an output folder that cannot be created is one
    :class:`InputError` on every rank (never a rank waiting in a barrier for a rank that died).
    """
    def prepare() -> None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "results.json").unlink(missing_ok=True)
            (out / "config.toml").write_text(to_toml(config))
        except OSError as err:
            raise InputError(f"cannot use --out {out}: {err.strerror or err}") from None

    on_root(comm, prepare, broadcast=False)


def run_driver(story: Callable[..., None], defaults: Config, description: str, argv: list[str] | None = None,
               flags: dict[str, dict] | None = None, accepts: Accepts | None = None) -> int:
    """Parse the command line, resolve the config and run ``story(config, out_dir)``.

    ``flags`` adds driver-specific command-line options (name → ``argparse`` keyword arguments); the
    parsed values are then passed to the story as keyword arguments (``--k-groups`` → ``k_groups``).
    Values are checked against the defaults' kinds (bool, integer, number, string, list; NaN/inf refused);
    ``accepts`` declares the keys that may also take another kind, e.g. ``{"material.matrix": (list,)}`` for a
    conductivity given as a d×d matrix, or ``{"rve.size": (list, float)}``; without it, the story's module-level
    ``ACCEPTS`` (if any) is used, so every caller of a driver's story gets the driver's declaration. Before the
    story, rank 0 creates ``out``, writes ``config.toml`` and removes ``out/results.json``, so a failed run
    never leaves a previous run's results looking current.
    Returns the exit status: 0 on success, 2 for bad input, 3 for a solver that did not converge, 1 on the
    ranks that did not fail themselves when another rank failed with an unexpected exception (a bug, whose
    traceback that rank prints; see :mod:`fem_homog.core.parallel`).
    """
    parser = argparse.ArgumentParser(description=description)
    for name, kwargs in (flags or {}).items():
        parser.add_argument(name, **kwargs)
    parser.add_argument("--config", type=Path, help="TOML file with [section] tables overriding the defaults")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one key with a TOML literal (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/<driver>)")
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD
    name = Path(sys.argv[0]).stem if argv is None else "driver"
    out = args.out or Path("results") / name
    try:
        if accepts is None:
            accepts = getattr(story, "__globals__", {}).get("ACCEPTS")
        config = resolve(defaults, args.config, args.set, accepts)
        _prepare_out(out, config, comm)
        extra = {name.lstrip("-").replace("-", "_"): None for name in (flags or {})}
        story(config, out, **{key: getattr(args, key) for key in extra})
    except InputError as err:
        if comm.rank == 0:
            print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    except SolverError as err:
        if comm.rank == 0:
            print(f"solver error: {err}", file=sys.stderr, flush=True)
        return 3
    except PeerError as err:  # a bug on another rank, which prints its traceback
        if comm.rank == 0:
            print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    return 0
