"""The periodic/Bloch prolongation P of theory.md §5.1."""

import numpy as np
import pytest
from mpi4py import MPI

from fem_homog.core.errors import InputError
from fem_homog.fem.periodic import extend, periodic_map, prolongation, reduce_matrix

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import ufl
from petsc4py import PETSc

CIRCLE = {"dim": 2, "shape": "circle", "radius": 0.3}
SPHERE = {"dim": 3, "shape": "sphere", "radius": 0.25}


def multiplicities(P):
    """Diagonal of P^H P (must be a diagonal matrix) as a sorted list of (value, count)."""
    PtP = P.transposeMatMult(P)
    diag = PtP.getDiagonal()
    off = PtP.copy()
    off.setDiagonal(diag * 0.0)
    values, counts = np.unique(np.round(diag.getArray().real, 12), return_counts=True)
    return off.norm(), dict(zip(values.tolist(), counts.tolist()))


@pytest.mark.parametrize("degree,shape", [(1, ()), (2, ()), (2, (2,))])
def test_multiplicities_2d(cell_factory, degree, shape):
    """P^H P is diagonal: 1 inside, 2 on the identified edges, 4 at the one corner master."""
    cell = cell_factory(CIRCLE, 0.1, 2)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", degree, shape))
    P = prolongation(periodic_map(V))
    off, counts = multiplicities(P)
    bs = V.dofmap.index_map_bs
    x = V.tabulate_dof_coordinates()
    n_edge = int(np.count_nonzero(np.isclose(x[:, 0], 0.0) & ~np.isclose(x[:, 1], 0.0) & ~np.isclose(x[:, 1], 1.0)))
    n_edge += int(np.count_nonzero(np.isclose(x[:, 1], 0.0) & ~np.isclose(x[:, 0], 0.0) & ~np.isclose(x[:, 0], 1.0)))
    assert off == 0.0
    assert counts[4.0] == bs
    assert counts[2.0] == bs * n_edge
    assert sum(counts.values()) == P.getSize()[1]


def test_multiplicities_3d(cell_factory):
    """In 3D: 8 at the corner, 4 on the three identified edges, 2 on the three identified faces."""
    cell = cell_factory(SPHERE, 0.2, 1)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 1))
    off, counts = multiplicities(prolongation(periodic_map(V)))
    assert off == 0.0
    assert counts[8.0] == 1
    assert set(counts) == {1.0, 2.0, 4.0, 8.0}


@pytest.mark.parametrize("k", [[0.0, 0.0], [np.pi, 0.0], [np.pi, np.pi], [0.7, -1.9]])
def test_bloch_prolongation_reproduces_plane_waves(cell_factory, k):
    """A Bloch function e^{ik·y} is exactly P u_r with u_r its master values; ±1 weights stay real."""
    cell = cell_factory(CIRCLE, 0.1, 2)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 2))
    pmap = periodic_map(V)
    P = prolongation(pmap, k=k)
    wave = dolfinx.fem.Function(V)
    wave.interpolate(lambda x: np.exp(1j * (k[0] * x[0] + k[1] * x[1])))
    # P^H e^{ik.y} = (multiplicity) x (master values), since every weight has modulus 1
    P_periodic = prolongation(pmap)
    mult = P_periodic.transposeMatMult(P_periodic).getDiagonal()
    u_r = P.createVecRight()
    P.multHermitian(wave.x.petsc_vec, u_r)
    u_r.pointwiseDivide(u_r, mult)
    rebuilt = dolfinx.fem.Function(V)
    extend(u_r, P, rebuilt)
    assert np.abs(rebuilt.x.array - wave.x.array).max() < 1e-12
    if np.all(np.isclose(np.abs(k), np.pi) | np.isclose(k, 0.0)):
        assert np.all(P.getValuesCSR()[2].imag == 0.0)


def test_bloch_reduction_is_hermitian(cell_factory):
    """P^H A P of a Hermitian A is Hermitian, also for a complex Bloch phase."""
    cell = cell_factory(CIRCLE, 0.1, 2)
    V = dolfinx.fem.functionspace(cell.mesh, ("Lagrange", 2))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx))
    A.assemble()
    A_r = reduce_matrix(A, prolongation(periodic_map(V), k=[0.4, 1.3]))
    A_rH = A_r.hermitianTranspose(PETSc.Mat())
    A_rH.axpy(-1.0, A_r)
    assert A_rH.norm() < 1e-12 * A_r.norm()
    # constants are in the kernel of the periodic reduction, not of the Bloch one
    A_p = reduce_matrix(A, prolongation(periodic_map(V)))
    ones, out = A_p.createVecs()
    ones.set(1.0)
    A_p.mult(ones, out)
    assert out.norm() < 1e-12 * A_p.norm()


def test_non_periodic_mesh_is_refused():
    mesh = dolfinx.mesh.create_unit_square(MPI.COMM_SELF, 4, 4)
    x = mesh.geometry.x
    right = np.flatnonzero(np.isclose(x[:, 0], 1.0) & (x[:, 1] > 0.1) & (x[:, 1] < 0.9))
    x[right[0], 1] += 0.01
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    with pytest.raises(InputError, match="not periodic"):
        periodic_map(V)


def test_k_point_dimension_is_checked(cell_factory):
    V = dolfinx.fem.functionspace(cell_factory(CIRCLE, 0.1, 2).mesh, ("Lagrange", 1))
    with pytest.raises(InputError, match="must have 2 components"):
        prolongation(periodic_map(V), k=[0.1, 0.2, 0.3])
