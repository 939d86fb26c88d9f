"""The documentation contract: every ``theory.md §x.y`` the code and docs cite exists in docs/theory.md, every
``fem_homog.…`` name the docs mention imports, and the Sphinx site builds."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"theory\.md\s*§\s*(\d+(?:\.\d+)*)")
DOTTED = re.compile(r"\bfem_homog(?:\.[A-Za-z_][A-Za-z_0-9]*)+")


def _sources() -> list[Path]:
    files = [*ROOT.glob("fem_homog/**/*.py"), *ROOT.glob("drivers/*.py"), *ROOT.glob("docs/**/*.md"),
             *ROOT.glob("docs/examples/*.py"), ROOT / "README.md", ROOT / "benchmarks" / "README.md"]
    return [f for f in files if "_build" not in f.parts and "gallery" not in f.parts]


def _theory_sections() -> set[str]:
    text = (ROOT / "docs" / "theory.md").read_text()
    return set(re.findall(r"^#{2,4}\s+(\d+(?:\.\d+)*)[.\s]", text, flags=re.M))


def test_every_theory_citation_resolves():
    sections = _theory_sections()
    assert {"1", "2.1", "6", "8.4", "10.6"} <= sections
    missing = {(str(f.relative_to(ROOT)), s) for f in _sources() for s in CITATION.findall(f.read_text())
               if s not in sections}
    assert not missing, sorted(missing)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        for attr in parts[n:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_fem_homog_name_in_the_docs_imports():
    names = {m for f in _sources() for m in DOTTED.findall(f.read_text())}
    broken = sorted(n for n in names if not _resolves(n))
    assert not broken, broken


@pytest.mark.slow
def test_sphinx_site_builds(tmp_path):
    """API reference (autodoc imports every module), theory, drivers and gallery pages (scripts not executed
    here: tests/test_gallery.py runs them)."""
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
                           "docs", str(tmp_path / "html")], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "FEM_HOMOG_DOCS_RUN_EXAMPLES": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "html" / "theory.html").exists() and (tmp_path / "html" / "api.html").exists()
