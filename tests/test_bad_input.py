"""Bad input, as a new user types it (issue 12, item 3): every row ends with exit status 2 (or 3 for a solver
failure), exactly one line on standard error starting with ``error:`` that names the key, no traceback, and no
NaN in any file written.

Most rows run the driver's story in this process through the command-line contract
(:func:`fem_homog.cli.driver.run_driver` with ``argv``); a few run ``python drivers/NAME.py`` as a user would,
and a few under ``mpiexec -n 2`` with a timeout (they used to print two tracebacks or hang).
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fem_homog.cli.driver import resolve, run_driver, to_toml
from fem_homog.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = ("effective_tensor", "band_diagram", "hfh", "finite_crystal", "multiband", "rve", "permeability",
           "epsilon_convergence", "complex_bands")
SMALL = ["mesh.h=0.25", "mesh.order=1", "fe.degree=1", "output.plot=false"]
"""A tiny cell, for the rows that pass the input checks and reach a solver."""

_modules = {}


def driver(name: str):
    """``drivers/<name>.py`` as a module (loaded once)."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(f"driver_{name}", ROOT / "drivers" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


# (driver, --set values, exit status, text the error line must contain)
CASES = [
    # a list where a number is expected, on every driver
    ("effective_tensor", ["mesh.h=[0.1]"], 2, "mesh.h"),
    ("band_diagram", ["cell.radius=[0.1]"], 2, "cell.radius"),
    ("hfh", ["mesh.h=[0.1]"], 2, "mesh.h"),
    ("finite_crystal", ["crystal.nx=[8]"], 2, "crystal.nx"),
    ("multiband", ["homogeneous.E=[2.0]"], 2, "homogeneous.E"),
    ("rve", ["rve.samples=[4]"], 2, "rve.samples"),
    ("permeability", ["cell.radius=[0.1]"], 2, "cell.radius"),
    ("epsilon_convergence", ["mesh.h=[0.1]"], 2, "mesh.h"),
    ("complex_bands", ["complex.max_imag_k=[3.0]"], 2, "complex.max_imag_k"),
    # a non-integer where an integer is meant
    ("finite_crystal", ["crystal.nx=8.5"], 2, "crystal.nx"),
    ("effective_tensor", ["cell.dim=2.5"], 2, "cell.dim"),
    ("rve", ["rve.seed=1.5"], 2, "rve.seed"),
    ("hfh", ["hfh.band=1.5"], 2, "hfh.band"),
    ("band_diagram", ["bands.num_bands=true"], 2, "bands.num_bands"),
    ("multiband", ["model.order=1.5"], 2, "model.order"),
    # NaN and infinities
    ("band_diagram", ["bands.target=nan"], 2, "bands.target"),
    ("effective_tensor", ["mesh.h=inf"], 2, "mesh.h"),
    ("rve", ["material.inclusion=nan"], 2, "material.inclusion"),
    ("effective_tensor", ["material.inclusion=[[1.0, 0.0], [0.0, nan]]"], 2, "material.inclusion"),
    ("complex_bands", ["material.matrix=-inf"], 2, "material.matrix"),
    # wrong keys and sections
    ("permeability", ["mesh.hh=0.1"], 2, "mesh.hh"),
    ("epsilon_convergence", ["bands.path='GX'"], 2, "bands"),
    ("band_diagram", ["mesh.h"], 2, "mesh.h"),
    ("effective_tensor", ["cell.shape='inclusions'", "cell.inclusions=[{shape='circle', radus=0.2}]"], 2,
     "radus in cell.inclusions[0]"),
    ("band_diagram", ["cell.shape='inclusions'", "cell.inclusions=[1, 2]"], 2, "cell.inclusions[0]"),
    # lists of the wrong shape or kind
    ("band_diagram", ["bands.path=['G', 1]"], 2, "bands.path"),
    ("band_diagram", ["bands.path=[[0.0, 0.0], [3.14]]"], 2, "bands.path"),
    ("hfh", ["hfh.path=['G', 1]"], 2, "hfh.path"),
    ("hfh", ["hfh.path='GQ'"], 2, "hfh.path"),
    ("hfh", ["hfh.point=[0.5]"], 2, "hfh.point"),
    ("hfh", ["hfh.point='Q'"], 2, "hfh.point"),
    ("band_diagram", ["cell.semi_axes=[0.3]"], 2, "cell.semi_axes"),
    ("complex_bands", ["cell.shape='ellipse'", "cell.semi_axes=['a', 'b']"], 2, "cell.semi_axes"),
    ("effective_tensor", ["cell.lengths=[1.0, 'a']"], 2, "cell.lengths"),
    ("permeability", ["cell.centre=[0.5, 'x']"], 2, "cell.centre"),
    ("multiband", ["laminate.layers=[[1.0, 1.0, 0.5], [6.0, 1.5]]"], 2, "laminate.layers"),
    ("multiband", ["laminate.layers=[0.1]"], 2, "laminate.layers"),
    ("hfh", ["material.poles=[0.1]"], 2, "material.poles"),
    # geometry and tolerances named by their keys
    ("band_diagram", ["cell.radius=-1"], 2, "cell.radius"),
    ("permeability", ["cell.centre=[0.1]"], 2, "cell.centre"),
    ("effective_tensor", ["cell.shape='ellipse'", "cell.semi_axes=[0.3, 0.0]"], 2, "cell.semi_axes"),
    ("hfh", ["hfh.cluster_tol=-1"], 2, "hfh.cluster_tol"),
    # material values: refused with their key, in the units typed (not ×2π), before any solve
    ("band_diagram", ["material.inclusion=-2"], 2, "material.inclusion"),
    ("hfh", ["material.inclusion=-2"], 2, "material.inclusion"),
    ("band_diagram", ["material.inclusion=0"], 2, "material.inclusion"),
    ("band_diagram", ["material.inclusion_model='drude'", "material.omega_p=-1"], 2, "material.omega_p (plasma "
     "frequency) must be positive, got -1.0"),
    ("hfh", ["material.inclusion_model='drude'", "material.gamma=-0.5"], 2,
     "material.gamma (damping) must be >= 0, got -0.5"),
    ("complex_bands", ["material.inclusion_model='drude'", "material.eps_inf=0"], 2, "material.eps_inf"),
    ("band_diagram", ["material.inclusion_model='lorentz'", "material.poles=[[1.0, -0.5, 0.0]]"], 2,
     "material.poles needs frequency > 0"),
    ("finite_crystal", ["material.mu_poles=[[1.0]]"], 2, "material.mu_poles"),
    ("band_diagram", ["material.inclusion_model='metal'"], 2, "material.inclusion_model"),
    ("hfh", ["hfh.target=-1"], 2, "hfh.target"),
    ("hfh", ["hfh.search_from=-0.2"], 2, "hfh.search_from"),
    ("band_diagram", ["bands.max_targets=0"], 2, "bands.max_targets"),
    # 3D crystals and vector Maxwell bands (issue 13, item 6)
    ("band_diagram", ["physics.equation='vector'"], 2, "unknown physics.equation 'vector' (known: scalar, maxwell)"),
    ("band_diagram", ["physics.equation='maxwell'"], 2,
     "physics.equation = \"maxwell\" needs a 3D cell (cell.dim = 3)"),
    ("band_diagram", ["physics.equation='maxwell'", "cell.dim=3", "cell.shape='sphere'", "physics.polarization='TE'"],
     2, "physics.polarization = \"TE\" has no meaning for physics.equation = \"maxwell\""),
    ("band_diagram", ["cell.lattice='cubic'", "cell.dim=3", "cell.shape='diamond'"], 2,
     "cell.shape 'diamond' needs cell.lattice = \"fcc\""),
    ("band_diagram", ["cell.lattice='fcc'", "cell.shape='sphere'"], 2, "it needs cell.dim = 3"),
    ("band_diagram", ["cell.lattice='fcc'", "cell.dim=3", "cell.shape='sphere'", "bands.path='GXMG'"], 2,
     "unknown k-point 'M' in bands.path for this 3D lattice (known: G, X, L, W, K, U)"),
    ("band_diagram", ["cell.lattice='fcc'", "cell.dim=3", "cell.shape='sphere'", "cell.radius=0.6"], 2,
     "cell.radius must lie in (0, 0.5764)"),
    ("band_diagram", ["cell.lattice='cubic'", "cell.dim=3", "cell.shape='inclusions'",
                      "cell.inclusions=[{centre=[0.5, 0.5, 0.5], radius=0.1}]"], 2, "cell.inclusions[0].radius"),
    ("band_diagram", ["cell.lattice='cubic'", "cell.dim=3", "cell.shape='sphere'", "mesh.refine=1"], 2, "mesh.refine"),
    ("finite_crystal", ["crystal.edge_offset='leaky'"], 2, "crystal.edge_offset must be \"auto\""),
    ("finite_crystal", ["crystal.edge_offset=[0.1, 0.2, 0.3]"], 2, "crystal.edge_offset"),
    ("band_diagram", ["solver.method='lu'"], 2, "unknown solver.method 'lu' (known: direct, iterative)"),
    ("band_diagram", ["physics.equation='maxwell'", "cell.dim=3", "cell.shape='sphere'", "solver.method='iterative'"],
     2, "solver.method = \"iterative\" is for the scalar equation"),
    ("band_diagram", ["material.inclusion_model='drude'", "solver.method='iterative'"], 2, "solver.method"),
    ("band_diagram", ["solver.blr_tolerance=2.0"], 2, "solver.blr_tolerance"),
    ("band_diagram", ["physics.equation='maxwell'", "cell.dim=3", "cell.shape='sphere'", "solver.blr_tolerance=1e-6"],
     2, "solver.blr_tolerance must be at most 1e-07"),
    ("band_diagram", ["solver.ooc_dir='/nonexistent/x'"], 2, "solver.ooc_dir"),
    # an input problem is not a solver failure: a contrast-1 laminate has no band edge to fit
    ("multiband", ["laminate.layers=[[2.0, 3.0, 0.5], [2.0, 3.0, 0.5]]"], 2, "laminate.layers"),
    ("multiband", ["laminate.layers=[[1.0, 1.0, 0.5], [4.0, 0.25, 0.5]]"], 2, "laminate.layers"),
    # a solver failure (exit 3): a tolerance below round-off
    ("effective_tensor", [*SMALL, "output.fields=false", "solver.rtol=1e-30"], 3, "did not converge"),
]


def run_in_process(name: str, settings: list[str], out: Path, capfd) -> tuple[int, str]:
    """The driver's story in this process with the command-line contract; returns (status, stderr)."""
    module = driver(name)
    argv = [arg for s in settings for arg in ("--set", s)] + ["--out", str(out)]
    status = run_driver(module.main, module.DEFAULTS, name, argv=argv)
    return status, capfd.readouterr().err


def one_error_line(status: int, stderr: str, expected: int) -> str:
    assert status == expected, (status, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    prefix = "error: " if expected == 2 else "solver error: "
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    return lines[0]


def no_nan_written(out: Path) -> None:
    for path in out.rglob("*") if out.exists() else ():
        if path.suffix in (".json", ".toml"):
            assert not re.search(r"\b(nan|inf|infinity)\b", path.read_text(), re.IGNORECASE), path
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("name, settings, status, text", CASES,
                         ids=[f"{d}:{' '.join(s[-1:])}" for d, s, _, _ in CASES])
def test_bad_input_is_one_clean_error(tmp_path, capfd, name, settings, status, text):
    out = tmp_path / "out"
    line = one_error_line(*run_in_process(name, settings, out, capfd), status)
    assert text in line, line
    no_nan_written(out)


def test_every_driver_has_rows():
    assert {d for d, _, _, _ in CASES} == set(DRIVERS)


@pytest.mark.parametrize("name", DRIVERS)
def test_config_toml_reads_back(tmp_path, name):
    """The ``config.toml`` a run writes is accepted by ``--config`` and gives the same configuration (no NaN
    can reach it: the parser refuses NaN and ±inf)."""
    module = driver(name)
    accepts = getattr(module, "ACCEPTS", None)
    config = resolve(module.DEFAULTS, accepts=accepts)
    path = tmp_path / "config.toml"
    path.write_text(to_toml(config))
    assert resolve(module.DEFAULTS, path, accepts=accepts) == config


def test_nan_never_enters_a_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[mesh]\nh = nan\n")
    with pytest.raises(InputError, match="mesh.h must be a finite number"):
        resolve({"mesh": {"h": 0.1}}, path)


def test_path_of_letters_as_a_list():
    """``bands.path = ["G", "X", "M"]`` is the path "GXM" (it used to end in a traceback)."""
    from fem_homog.cli.cells import geometry_from_config
    from fem_homog.cli.photonics import band_path_from_config

    geometry = geometry_from_config({"radius": 0.2})
    as_list = band_path_from_config({"path": ["G", "X", "M"], "points_per_segment": 2}, geometry)
    as_text = band_path_from_config({"path": "GXM", "points_per_segment": 2}, geometry)
    assert as_list.labels == as_text.labels and (as_list.k == as_text.k).all()


def test_integral_float_is_an_integer():
    """An integral float such as ``8.0`` for an integer key is accepted and stored as the integer 8."""
    config = resolve({"crystal": {"nx": 14}}, overrides=["crystal.nx=8.0"])
    assert config["crystal"]["nx"] == 8 and isinstance(config["crystal"]["nx"], int)


def test_declared_keys_accept_lists_and_floats():
    """Keys a driver declares (``accepts``) take their extra kinds; the same keys stay strict without it."""
    defaults = {"material": {"matrix": 1.0}, "rve": {"size": 8}}
    accepts = {"material.matrix": (list,), "rve.size": (list, float)}
    config = resolve(defaults, overrides=["material.matrix=[[2.0, 0.5], [0.5, 1.0]]", "rve.size=4.5"],
                     accepts=accepts)
    assert config["material"]["matrix"] == [[2.0, 0.5], [0.5, 1.0]] and config["rve"]["size"] == 4.5
    assert resolve(defaults, overrides=["rve.size=[4, 8]"], accepts=accepts)["rve"]["size"] == [4, 8]
    for bad in ("material.matrix=[[2.0]]", "rve.size=4.5"):
        with pytest.raises(InputError):
            resolve(defaults, overrides=[bad])
    with pytest.raises(InputError, match="material.matrix"):
        resolve(defaults, overrides=["material.matrix=inf"], accepts=accepts)


def test_declared_list_keys_reach_the_driver(tmp_path, capfd):
    """A d×d conductivity passes the contract (a non-SPD one is then refused by the library, naming the key)."""
    line = one_error_line(*run_in_process("effective_tensor", ["material.inclusion=[[1.0, 2.0], [2.0, 1.0]]"],
                                          tmp_path / "out", capfd), 2)
    assert "material.inclusion" in line and "must be a number" not in line, line


@pytest.mark.parametrize("name", ["effective_tensor", "rve", "multiband"])
def test_uncreatable_out_is_one_clean_error(tmp_path, capfd, name):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (Path("/proc/x"), afile, afile / "sub"):
        line = one_error_line(*run_in_process(name, [], out, capfd), 2)
        assert str(out) in line, line


def test_failed_run_removes_previous_results(tmp_path, capfd):
    """A run that fails after the output folder is prepared leaves no stale ``results.json`` behind."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"stale": true}')
    # passes the contract, then fails in the story's own checks (before meshing)
    one_error_line(*run_in_process("effective_tensor", ["physics.problem='nonsense'"], out, capfd), 2)
    assert not (out / "results.json").exists()
    assert (out / "config.toml").exists()


# -- as a user runs them: a subprocess, serial and under mpiexec -n 2 ---------------------------------------
COMMAND_LINE = [
    ("band_diagram", ["material.inclusion=-2"], "material.inclusion"),  # was a PETSc traceback
    ("hfh", ['hfh.path=["G","Q"]'], "unknown k-point 'Q' in hfh.path"),  # was a ValueError traceback
    ("multiband", ["laminate.layers=[[1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]"], "laminate.layers"),  # was exit 3
]
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def run_command(name: str, settings: list[str], out: str, launcher: tuple = ()) -> subprocess.CompletedProcess:
    cmd = [*launcher, sys.executable, str(ROOT / "drivers" / f"{name}.py"), "--out", out,
           *[arg for s in settings for arg in ("--set", s)]]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.parametrize("name, settings, text", COMMAND_LINE, ids=[d for d, _, _ in COMMAND_LINE])
def test_command_line(tmp_path, name, settings, text):
    proc = run_command(name, settings, str(tmp_path / "out"))
    assert text in one_error_line(proc.returncode, proc.stderr, 2)
    no_nan_written(tmp_path / "out")


MPI_CASES = [
    ("effective_tensor", [], "/proc/x", "/proc/x"),  # rank 0 cannot create --out: used to hang in the barrier
    ("band_diagram", ["material.inclusion=-2"], None, "material.inclusion"),  # two interleaved tracebacks
    ("finite_crystal", ["crystal.nx=[8]"], None, "crystal.nx"),  # a traceback on each rank
]


@pytest.mark.skipif(not MPIEXEC.exists(), reason="no mpiexec next to the interpreter")
@pytest.mark.parametrize("name, settings, out, text", MPI_CASES, ids=[d for d, _, _, _ in MPI_CASES])
def test_under_mpi_no_hang_one_line(tmp_path, name, settings, out, text):
    proc = run_command(name, settings, out or str(tmp_path / "out"), launcher=(str(MPIEXEC), "-n", "2"))
    assert text in one_error_line(proc.returncode, proc.stderr, 2)


INJECTED = """
import sys
import fem_homog
from fem_homog.cells import meshing
from fem_homog.cli.cells import geometry_from_config
from fem_homog.cli.driver import run_driver

def fail(*args, **kwargs):
    raise RuntimeError("gmsh: injected failure")

meshing._mesh_on_root = fail
story = lambda config, out: meshing.mesh_cell(geometry_from_config({"radius": 0.3}), h=0.2)
raise SystemExit(run_driver(story, {}, "inject", argv=["--out", sys.argv[1]]))
"""


@pytest.mark.skipif(not MPIEXEC.exists(), reason="no mpiexec next to the interpreter")
def test_gmsh_failure_under_mpi_ends_every_rank(tmp_path):
    """Issue 12, item 4, as a whole run: gmsh fails on rank 0 (injected); rank 0 prints its traceback, rank 1
    stops instead of waiting for the mesh, and the run ends with a non-zero status (it used to hang)."""
    script = tmp_path / "inject.py"
    script.write_text(INJECTED)
    proc = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, str(script), str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("Traceback") == 1 and "RuntimeError: gmsh: injected failure" in proc.stderr
