"""The documentation gallery's scripts run as they are (each asserts its own reference check), so the demos
that teach the API cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("demo_*.py"))


def test_the_gallery_has_its_six_demos():
    assert len(EXAMPLES) == 6, [e.name for e in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_gallery_script_runs(script, tmp_path):
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
