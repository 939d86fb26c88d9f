"""Elastic correctors and Voigt C_hom against exact results (theory.md §2.3, §2.4)."""

import numpy as np
import pytest

from fem_homog.cells.geometry import INCLUSION, MATRIX
from fem_homog.fem.coefficients import lame, phase_fractions, phase_function
from fem_homog.statics import correctors
from fem_homog.statics.bounds import (
    bulk_shear,
    cubic_moduli,
    elasticity_report,
    hashin_shtrikman_elastic,
    hill_bulk,
    isotropic_stiffness,
    laminate_plane_strain,
    laminate_stiffness_3d,
)

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


def test_laminate_3d_exact_all_entries(cell_factory):
    """Layers normal to e_3: all 36 entries of C_hom equal the closed form of theory.md §2.4 to 1e-10."""
    cell = cell_factory({"dim": 3, "shape": "laminate", "fraction": 0.4, "normal": [0, 0, 1]}, 0.25)
    sol = c_hom(cell, [MATRIX_PHASE, INCLUSION_PHASE], degree=1)
    exact = laminate_stiffness_3d(*zip(MATRIX_PHASE, INCLUSION_PHASE), [0.6, 0.4])
    assert np.abs(sol.tensor - exact).max() < 1e-10 * np.abs(exact).max()
    assert np.abs(sol.tensor_energy - exact).max() < 1e-10 * np.abs(exact).max()
    assert np.abs(laminate_plane_strain(*zip(MATRIX_PHASE, INCLUSION_PHASE), [0.6, 0.4])
                  - exact[np.ix_([2, 0, 4], [2, 0, 4])]).max() == 0.0


def _moduli(phases):
    return [bulk_shear(*p)[0] for p in phases], [p[1] for p in phases]


def test_sphere_3d_inside_hashin_shtrikman(cell_factory):
    """Cubic array of stiff spheres: κ* = (C11 + 2C12)/3 inside the HS bulk bounds, and the two cubic shear moduli
    inside the HS shear bounds in trace form (Milton & Kohn 1988: ⟨1/(μ_i + ζ)⟩ over the five shear modes, equal
    to the HS bound for an isotropic tensor); measured fractions."""
    cell = cell_factory({"dim": 3, "shape": "sphere", "radius": 0.3}, 0.15, 2)
    fr = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    f = [fr[MATRIX], fr[INCLUSION]]
    bulk, shear = _moduli([MATRIX_PHASE, INCLUSION_PHASE])
    (k_lo, k_hi), (m_lo, m_hi) = hashin_shtrikman_elastic(bulk, shear, f)
    kappa, mu_a, mu_b = cubic_moduli(c_hom(cell, [MATRIX_PHASE, INCLUSION_PHASE]).tensor)
    assert k_lo < kappa < k_hi
    for i, bound, side in [(0, m_lo, 1), (1, m_hi, -1)]:  # 1/(μ + ζ) is decreasing in μ
        zeta = shear[i] * (9 * bulk[i] + 8 * shear[i]) / (6 * (bulk[i] + 2 * shear[i]))
        trace = (2 / (mu_a + zeta) + 3 / (mu_b + zeta)) / 5
        assert side * (1 / (bound + zeta) - trace) > 0


@pytest.mark.parametrize("shape,h,order", [("laminate", 0.25, 1), ("sphere", 0.15, 2)])
def test_equal_shear_moduli_hill(cell_factory, shape, h, order):
    """Hill (1963): phases with one shear modulus μ give, for any geometry, an isotropic C_hom with shear modulus μ
    and bulk modulus ⟨(κ + 4μ/3)^{-1}⟩^{-1} − 4μ/3. The deviatoric loads have zero corrector, so the shear part is
    exact on any mesh (machine precision); the bulk modulus is exact for the laminate and converges for the
    sphere (P2, h = 0.15: 7.7e-4). The HS bulk bounds collapse onto Hill's value."""
    table = ({"dim": 3, "shape": "laminate", "fraction": 0.4, "normal": [0, 0, 1]} if shape == "laminate"
             else {"dim": 3, "shape": "sphere", "radius": 0.3})
    cell = cell_factory(table, h, order)
    fr = phase_fractions(cell.mesh, cell.cell_tags, [MATRIX, INCLUSION])
    f, mu = [fr[MATRIX], fr[INCLUSION]], 0.7
    C = c_hom(cell, [(1.0, mu), (9.0, mu)], degree=2 if shape == "sphere" else 1).tensor
    kappa = cubic_moduli(C)[0]
    hill = hill_bulk([1.0 + 2 * mu / 3, 9.0 + 2 * mu / 3], mu, f)
    iso = np.full((3, 3), kappa - 2 * mu / 3) + 2 * mu * np.eye(3)
    exact_shape = np.block([[iso, np.zeros((3, 3))], [np.zeros((3, 3)), mu * np.eye(3)]])
    assert np.abs(C - exact_shape).max() < 1e-12 * np.abs(C).max()
    assert kappa == pytest.approx(hill, rel=1e-12 if shape == "laminate" else 1e-3)
    (k_lo, k_hi), _ = hashin_shtrikman_elastic([1.0 + 2 * mu / 3, 9.0 + 2 * mu / 3], [mu, mu], f)
    assert k_lo == pytest.approx(hill, rel=1e-14) and k_hi == pytest.approx(hill, rel=1e-14)
