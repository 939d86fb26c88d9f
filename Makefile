# fem-homog: one command to a result (`make demo`), one to the tests (`make test`).
# Both create .venv (with its own mpiexec) from a Python >= 3.12 if it is missing.

SHELL   := /bin/bash
VENV    := .venv
PY      := $(VENV)/bin/python
MPIEXEC := $(VENV)/bin/mpiexec
NP      ?= 2
export OMP_NUM_THREADS := 1
export VTK_DEFAULT_OPENGL_WINDOW := vtkEGLRenderWindow
export PYTHONUNBUFFERED := 1

# A working interpreter >= 3.12: python3.12 that runs, else python3.13, else pyenv's 3.12+ builds.
# (pyenv's python3.12 shim exists but refuses to run unless selected, hence "that runs".)
define find_python
for p in python3.12 python3.13 $$(r=$$(pyenv root 2>/dev/null) && ls -d $$r/versions/3.1[2-9]*/bin/python 2>/dev/null); do \
  $$p -c 'import sys; assert sys.version_info >= (3, 12); print(sys.executable)' 2>/dev/null && break; \
done
endef
BOOT_PYTHON ?= $(shell $(find_python) | head -n 1)

# Shared libraries the gmsh wheel links against, for bare Debian/Ubuntu systems (installed only if missing).
GMSH_APT := libglu1-mesa libgl1 libxcursor1 libxft2 libxinerama1 libfontconfig1 libx11-6 libgomp1

.PHONY: venv demo test test-serial test-mpi lint docs bench mpb clean help
help:
	@echo "make demo   - set up .venv if needed and run the flagship pipeline (bands -> HFH -> finite crystal)"
	@echo "make test   - set up .venv if needed and run all tests (serial, then mpiexec -n $(NP))"
	@echo "make lint   - ruff and the import contracts (part of make test)"
	@echo "make docs   - build the documentation site into docs/_build/html (API, gallery, theory)"
	@echo "make bench  - run the benchmarks (see benchmarks/README.md)"
	@echo "make mpb    - install Debian's MPB (only for benchmarks/mpb_bench.py, the MPB comparison)"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(BOOT_PYTHON)" ]; then \
	  echo "error: no working Python >= 3.12 found (tried python3.12, python3.13 and pyenv's versions/3.1[2-9]*)." >&2; \
	  echo "       Install Python 3.12+ or run: make BOOT_PYTHON=/path/to/python3.12 ..." >&2; exit 1; fi
	@echo "== creating $(VENV) with $(BOOT_PYTHON)"
	@test -x $(PY) || $(BOOT_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@$(PY) -c 'import gmsh' 2>/dev/null || $(MAKE) --no-print-directory gmsh-system-libs
	@$(PY) -c 'import fem_homog, dolfinx, gmsh; print("== installed dolfinx", dolfinx.__version__, "gmsh", gmsh.__version__)'
	@touch $@

.PHONY: gmsh-system-libs
gmsh-system-libs:
	@echo "== gmsh needs system libraries: apt-get install $(GMSH_APT)"
	@if command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(GMSH_APT); \
	else echo "error: install the libraries above with your package manager" >&2; exit 1; fi

venv: $(VENV)/.installed

# The flagship pipeline on a small default: band diagram of a Drude-rod crystal -> HFH tensor at X (with the
# asymptotics over the bands) -> 14x14 finite crystal, full wave vs the HFH envelope model.
DEMO := results/demo
demo: venv
	$(MPIEXEC) -n $(NP) $(PY) drivers/band_diagram.py --config drivers/configs/demo_bands.toml --out $(DEMO)/bands
	$(MPIEXEC) -n $(NP) $(PY) drivers/hfh.py --config drivers/configs/hfh_drude_square_rods_tm.toml \
	  --set material.gamma=0.01 --set mesh.h=0.08 --set 'hfh.path="GXMG"' --set hfh.path_points=6 --out $(DEMO)/hfh
	$(MPIEXEC) -n $(NP) $(PY) drivers/finite_crystal.py --out $(DEMO)/finite_crystal
	@echo "== demo results in $(DEMO):"
	@echo "   bands/bands.png                      complex band diagram (Re ω, Im ω, complex plane)"
	@echo "   hfh/hfh_path.png, hfh_asymptotics.png HFH asymptotics over the bands; error slope at X"
	@echo "   finite_crystal/abs_u.png, re_u.png   full wave vs HFH envelope model (fields.bp for ParaView)"
	@echo "   */results.json                       the numbers"

test: lint test-serial test-mpi

# The house rules: ruff (style, import order: dolfinx_solver first) and the import-linter contracts (layers).
lint: venv
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/lint-imports --no-cache

test-serial: venv
	$(PY) -m pytest -p no:cacheprovider tests --ignore=tests/mpi

test-mpi: venv
	timeout 1200 $(MPIEXEC) -n $(NP) $(PY) -m pytest -p no:cacheprovider -q tests/mpi

docs: venv
	$(VENV)/bin/sphinx-build -q -b html docs docs/_build/html
	@echo "== documentation in docs/_build/html/index.html"

bench: venv
	$(PY) benchmarks/effective_tensor_bench.py

# MPB (MIT Photonic Bands), the independent reference of benchmarks/mpb_bench.py; never needed by the package.
mpb:
	@if command -v mpb >/dev/null; then echo "== mpb already installed: $$(command -v mpb)"; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq mpb; \
	else echo "error: install MPB (https://mpb.readthedocs.io) with your package manager" >&2; exit 1; fi

clean:
	rm -rf results benchmarks/out .pytest_cache docs/_build docs/gallery docs/_autosummary
