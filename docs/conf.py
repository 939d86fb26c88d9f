"""Sphinx configuration of the fem-homog documentation (``make docs``)."""

import os

import fem_homog  # noqa: F401  (imports dolfinx_solver before autodoc imports dolfinx)

project = "fem-homog"
author = "the fem-homog developers"
release = fem_homog.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True

# The gallery scripts are the tests' demos too (tests/test_gallery.py runs each one). Set
# FEM_HOMOG_DOCS_RUN_EXAMPLES=0 to build the pages without executing them.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/demo_",
    "plot_gallery": os.environ.get("FEM_HOMOG_DOCS_RUN_EXAMPLES", "1") != "0",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,
}

html_theme = "furo"
html_title = "fem-homog"
exclude_patterns = ["_build", "examples/*.md"]
