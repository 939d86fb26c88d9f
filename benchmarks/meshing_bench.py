"""Where the time of a large 3D periodic cell goes before the solver: gmsh algorithms and the refinement route.

    .venv/bin/mpiexec -n 2 .venv/bin/python benchmarks/meshing_bench.py [--h 0.0175] [--coarse-h 0.035]

Times, for the sphere cell (r = 0.3):
1. gmsh volume meshing at size ``h`` with the default Delaunay algorithm and with HXT (rank 0, one thread);
2. high-order (``setOrder(2)``) node placement and the hand-over to dolfinx (``model_to_mesh``);
3. the refinement route used by ``mesh.refine``: gmsh at ``coarse-h`` and uniform refinements in dolfinx
   (parallel) with interface snapping, to about the same number of cells as one more refinement level.
"""

import argparse
import time

import gmsh
from mpi4py import MPI

from fem_homog.cells.meshing import build_model, gmsh_session, mesh_cell, set_mesh_options
from fem_homog.cli.cells import geometry_from_config

import dolfinx.io.gmsh


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gmsh_volume(geo, h: float, algorithm: int) -> dict:
    """Mesh on rank 0 with the given 3D algorithm; hand the mesh to dolfinx on all ranks."""
    comm = MPI.COMM_WORLD
    out = {}
    with gmsh_session():
        if comm.rank == 0:
            build_model(geo)
            set_mesh_options(geo, h)
            gmsh.option.setNumber("Mesh.Algorithm3D", algorithm)
            out["surface"] = timed(lambda: gmsh.model.mesh.generate(2))
            out["volume"] = timed(lambda: gmsh.model.mesh.generate(3))
            out["tets"] = len(gmsh.model.mesh.getElementsByType(4)[0])
            out["set_order_2"] = timed(lambda: gmsh.model.mesh.setOrder(2))
        out["to_dolfinx"] = timed(lambda: dolfinx.io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=3))
    return comm.bcast(out if comm.rank == 0 else None) | {"to_dolfinx": out["to_dolfinx"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=float, default=0.0175)
    parser.add_argument("--coarse-h", type=float, default=0.035)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    geo = geometry_from_config({"dim": 3, "shape": "sphere", "radius": 0.3})
    rows = []
    for name, algorithm in (("Delaunay (gmsh default, Algorithm3D=1)", 1), ("HXT (Algorithm3D=10)", 10)):
        r = gmsh_volume(geo, args.h, algorithm)
        rows.append(f"| gmsh {name}, h={args.h} | {r['tets']} | {r['surface']:.2f} | {r['volume']:.2f} | "
                    f"{r['set_order_2']:.2f} | {r['to_dolfinx']:.2f} | – |")
    for refine in (1, 2):
        h0 = args.coarse_h * 2 ** (refine - 1)
        start = time.perf_counter()
        cell = mesh_cell(geo, h=h0, order=1, refine=refine)
        total = time.perf_counter() - start
        cells = cell.mesh.topology.index_map(3).size_global
        rows.append(f"| HXT h={h0} + {refine} dolfinx refinement(s) | {cells} | – | – | – | – | {total:.2f} |")
    if comm.rank == 0:
        print(f"ranks: {comm.size}")
        print("| route | tetrahedra | surface [s] | volume [s] | setOrder(2) [s] | to dolfinx [s] | total [s] |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
