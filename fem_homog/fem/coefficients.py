"""Piecewise-constant (per-phase) coefficients on a cell mesh, and the phase averages used by the bounds.

A phase value is a scalar or, for anisotropic phases, a ``d × d`` matrix. Elastic phases are isotropic and
given by Young's modulus ``E`` and Poisson's ratio ``ν`` (converted to Lamé constants).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from mpi4py import MPI

from fem_homog.core.errors import require

import dolfinx.fem
import dolfinx.mesh
import ufl

PhaseValue = float | np.ndarray


def as_phase_value(value, dim: int, name: str) -> PhaseValue:
    """Check a conductivity-like phase value: a positive scalar or a symmetric positive-definite matrix.

    ``name`` is the argument the value came in as: an :class:`~fem_homog.core.errors.InputError` is about it.
    """
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        require(np.isfinite(arr) and arr > 0.0, f"must be positive, got {value}", argument=name)
        return float(arr)
    require(arr.shape == (dim, dim), f"must be a scalar or a {dim}x{dim} matrix, got shape {arr.shape}",
            argument=name)
    sym = 0.5 * (arr + arr.T)
    require(np.linalg.eigvalsh(sym).min() > 0.0, f"must be positive definite, got {arr.tolist()}", argument=name)
    return arr


def lame(E: float, nu: float) -> tuple[float, float]:
    """Lamé constants ``(λ, μ)`` of an isotropic phase with Young's modulus ``E`` and Poisson's ratio ``nu``
    (3D values; 2D cells are plane strain)."""
    require(E > 0.0, f"{{argument}} (Young's modulus) must be positive, got {E}", argument="E")
    require(-1.0 < nu < 0.5, f"{{argument}} (Poisson's ratio) must lie in (-1, 0.5), got {nu}", argument="nu")
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


def phase_function(mesh: dolfinx.mesh.Mesh, cell_tags: dolfinx.mesh.MeshTags,
                   values: Mapping[int, PhaseValue]) -> dolfinx.fem.Function:
    """A DG0 function (scalar or tensor) equal to ``values[tag]`` on the cells tagged ``tag``."""
    shapes = {np.shape(v) for v in values.values()}
    shape = max(shapes, key=len)
    W = dolfinx.fem.functionspace(mesh, ("DG", 0, shape))
    f = dolfinx.fem.Function(W)
    bs = W.dofmap.index_map_bs
    array = f.x.array.reshape(-1, bs)
    for tag, value in values.items():
        cells = cell_tags.find(tag)
        dofs = W.dofmap.list[cells].ravel()
        full = np.broadcast_to(np.eye(shape[0]) * value if np.ndim(value) == 0 and shape else value, shape)
        array[dofs] = np.asarray(full, dtype=float).ravel()
    f.x.scatter_forward()
    return f


def phase_fractions(mesh: dolfinx.mesh.Mesh, cell_tags: dolfinx.mesh.MeshTags,
                    tags: list[int]) -> dict[int, float]:
    """Measured volume fraction of each tagged phase (the meshed, not the nominal, geometry)."""
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=cell_tags)
    one = dolfinx.fem.Constant(mesh, 1.0 + 0.0j)
    volumes = {t: integrate(one * dx(t), mesh.comm).real for t in tags}
    total = integrate(one * dx, mesh.comm).real
    return {t: v / total for t, v in volumes.items()}


def integrate(expr_form: ufl.Form, comm: MPI.Comm) -> complex:
    """Assemble a scalar form over all ranks."""
    local = dolfinx.fem.assemble_scalar(dolfinx.fem.form(expr_form))
    return comm.allreduce(local, op=MPI.SUM)



def integrate_components(expr: ufl.core.expr.Expr, mesh: dolfinx.mesh.Mesh) -> np.ndarray:
    """``∫ expr`` for a vector or tensor expression, every component in one assembly.

    The linear form ``q ↦ ∫ expr : conj(q)`` on piecewise-constant ``q`` has, for each cell, the integrals of
    all components of ``expr`` over that cell; summing them over the owned cells gives the integrals.
    """
    shape = ufl.shape(expr)
    W = dolfinx.fem.functionspace(mesh, ("DG", 0, shape))
    vector = dolfinx.fem.assemble_vector(dolfinx.fem.form(ufl.inner(expr, ufl.TestFunction(W)) * ufl.dx))
    owned = W.dofmap.index_map.size_local * W.dofmap.index_map_bs
    local = vector.array[:owned].reshape(-1, int(np.prod(shape))).sum(axis=0)
    return mesh.comm.allreduce(local, op=MPI.SUM).reshape(shape)
