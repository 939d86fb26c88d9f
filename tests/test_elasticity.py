"""Elastic correctors and Voigt C_hom against exact results (theory.md §2.3, §2.4)."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.fem.coefficients import lame, phase_fractions, phase_function
from fem_homog.statics import correctors
from fem_homog.statics.bounds import elasticity_report, isotropic_stiffness, laminate_plane_strain

MATRIX_PHASE, INCLUSION_PHASE = lame(1.0, 0.3), lame(10.0, 0.2)


def c_hom(cell, phases, degree=2, method="cg-gamg"):
    (l1, m1), (l2, m2) = phases
    lmbda = phase_function(cell.mesh, cell.cell_tags, {MATRIX: l1, INCLUSION: l2})
    mu = phase_function(cell.mesh, cell.cell_tags, {MATRIX: m1, INCLUSION: m2})
    return correctors.elasticity(cell, lmbda, mu, degree=degree, method=method)


@pytest.mark.parametrize("method", ["cg-gamg", "mumps"])
def test_laminate_plane_strain_exact(cell_factory, method):
    cell = cell_factory({"dim": 2, "shape": "laminate", "fraction": 0.3, "normal": [1, 0]}, 0.1)
    sol = c_hom(cell, [MATRIX_PHASE, INCLUSION_PHASE], degree=1, method=method)
    exact = laminate_plane_strain(*zip(MATRIX_PHASE, INCLUSION_PHASE), [0.7, 0.3])
    assert np.abs(sol.tensor - exact).max() < 1e-10
    assert np.abs(sol.tensor_energy - exact).max() < 1e-10


def test_same_phases_give_the_phase_tensor(cell_factory):
    for table, h in [({"dim": 2, "shape": "circle", "radius": 0.3}, 0.1),
                     ({"dim": 3, "shape": "cube", "side": 0.5}, 0.3)]:
        cell = cell_factory(table, h)
        sol = c_hom(cell, [MATRIX_PHASE, MATRIX_PHASE], degree=1)
        exact = isotropic_stiffness(*MATRIX_PHASE, table["dim"])
        assert np.abs(sol.tensor - exact).max() < 1e-10


def test_circle_symmetric_definite_within_voigt_reuss(cell_factory):
    cell = cell_factory({"dim": 2, "shape": "circle", "radius": 0.3}, 0.05, 2)
    sol = c_hom(cell, [MATRIX_PHASE, INCLUSION_PHASE])
    C = sol.tensor
    f = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    report = elasticity_report([MATRIX_PHASE, INCLUSION_PHASE], [f[MATRIX], f[INCLUSION]], C)
    assert report["symmetric"] and report["positive_definite"] and report["inside_voigt_reuss"]
    assert sol.flux_energy_difference < 1e-9
    assert C[0, 0] == pytest.approx(C[1, 1], rel=1e-5)  # square symmetry
    assert abs(C[0, 2]) < 1e-5 * C[0, 0] and abs(C[1, 2]) < 1e-5 * C[0, 0]
    assert C[2, 2] < 0.5 * (C[0, 0] - C[0, 1])  # square arrays are not isotropic: weaker in shear


def test_sphere_3d_cubic_symmetry(cell_factory):
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.2, 2)
    sol = c_hom(cell, [MATRIX_PHASE, INCLUSION_PHASE], degree=1)
    C = sol.tensor
    assert np.allclose(np.diag(C)[:3], C[0, 0], rtol=1e-2)
    assert np.allclose(np.diag(C)[3:], C[3, 3], rtol=1e-2)
    assert np.linalg.eigvalsh(0.5 * (C + C.T)).min() > 0
