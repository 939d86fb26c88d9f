"""Pictures of fields on a cell: pyvista, off screen, gathered on rank 0 so they work under ``mpiexec``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from fem_homog.core.parallel import on_root

import dolfinx.fem
import dolfinx.plot

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def _gathered_grid(u: dolfinx.fem.Function, values: np.ndarray):
    """A pyvista grid of ``values`` (one per node of ``u``'s space) on rank 0, ``None`` elsewhere."""
    import pyvista

    V = u.function_space
    topology, cell_types, x = dolfinx.plot.vtk_mesh(V)
    comm = V.mesh.comm
    parts = comm.gather((topology, cell_types, x, values), root=0)
    if comm.rank != 0:
        return None
    cells, types, points, data, offset = [], [], [], [], 0
    for topo, ctype, xx, vals in parts:
        per_cell = topo.reshape(len(ctype), -1).copy()
        per_cell[:, 1:] += offset
        cells.append(per_cell.ravel())
        types.append(ctype)
        points.append(xx)
        data.append(vals)
        offset += len(xx)
    grid = pyvista.UnstructuredGrid(np.concatenate(cells), np.concatenate(types), np.concatenate(points))
    grid.point_data["u"] = np.concatenate(data)
    return grid


def nodal_values(u: dolfinx.fem.Function) -> np.ndarray:
    """Real part of a scalar field, or the magnitude of a vector field, at the nodes of its space."""
    bs = u.function_space.dofmap.index_map_bs
    array = u.x.array.reshape(-1, bs)
    return array[:, 0].real if bs == 1 else np.linalg.norm(array.real, axis=1)


def plot_fields(functions: Sequence[dolfinx.fem.Function], titles: Sequence[str], path: Path,
                clim: tuple[float, float] | None = None, cmap: str = "RdBu_r") -> Path | None:
    """Plot fields side by side (scalar: real part; vector: magnitude) into a PNG; returns the path on rank 0.
    ``clim`` gives every panel the same colour range. Collective: the fields are gathered on rank 0, which
    draws them; a failure there is raised on every rank (:func:`~fem_homog.core.parallel.on_root`)."""
    grids = [_gathered_grid(u, nodal_values(u)) for u in functions]
    three_d = functions[0].function_space.mesh.geometry.dim == 3
    comm = functions[0].function_space.mesh.comm
    return on_root(comm, lambda: _draw(grids, titles, path, three_d=three_d, clim=clim, cmap=cmap), broadcast=False)


def _draw(grids: list, titles: Sequence[str], path: Path, *, three_d: bool, clim: tuple[float, float] | None,
          cmap: str) -> Path:
    """Render gathered grids side by side into ``path`` (rank 0)."""
    import pyvista

    pyvista.OFF_SCREEN = True
    plotter = pyvista.Plotter(shape=(1, len(grids)), window_size=(420 * len(grids), 420), off_screen=True)
    for i, (grid, title) in enumerate(zip(grids, titles)):
        plotter.subplot(0, i)
        shown = grid.clip(normal="y", origin=(0.5, 0.5, 0.5)) if three_d else grid
        plotter.add_mesh(shown, scalars="u", cmap=cmap, clim=clim, show_edges=False,
                         scalar_bar_args={"title": title, "vertical": False, "fmt": "%.3g", "n_labels": 3})
        plotter.add_text(title, font_size=10)
        if three_d:
            plotter.view_isometric()
        else:
            plotter.view_xy()
    plotter.screenshot(str(path))
    plotter.close()
    return path
