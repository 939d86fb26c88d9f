"""Shared fixtures: small periodic cells, meshed once per test session."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

import fem_homog  # noqa: E402,F401  (dolfinx_solver before dolfinx)
from fem_homog.cells.meshing import mesh_cell  # noqa: E402
from fem_homog.cli.cells import geometry_from_config


@pytest.fixture(scope="session")
def cell_factory():
    """Mesh a cell from a ``[cell]`` table, caching by (table, h, order)."""
    cache = {}

    def make(table: dict, h: float, order: int = 1):
        key = (repr(sorted(table.items())), h, order)
        if key not in cache:
            cache[key] = mesh_cell(geometry_from_config(table), h=h, order=order)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def run_driver():
    """Run ``drivers/<name>.py`` as a user would: ``run_driver(name, args, out, launcher=(), check=True)``."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def run(name: str, args, out, launcher=(), check: bool = True) -> subprocess.CompletedProcess:
        cmd = [*launcher, sys.executable, str(root / "drivers" / f"{name}.py"), "--out", str(out), *args]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run
