"""Bloch eigenproblems against exact results: folded light lines, the 1D transfer matrix (constant, Drude,
Lorentz, TM and TE) with the O(h^4) rate of P2, and the shifted form against the quasi-periodic constraint."""

import numpy as np
import pytest

from fem_homog.bloch import BlochProblem, Phase
from fem_homog.cells import INCLUSION, MATRIX, geometry_from_config, mesh_cell
from fem_homog.laminate1d import bloch_root, photonic_layers
from fem_homog.materials import constant, drude, lorentz

MATRIX_EPS = constant(1.0)
CASES = {
    "constant": constant(8.9),
    "drude": drude(1.0, 6.0, 0.1),
    "lorentz": lorentz(2.0, [[3.0, 2.5, 0.1]]),
}


def problem_1d(eps_inclusion, h, polarization, fraction=0.4):
    cell = mesh_cell(geometry_from_config({"dim": 1, "shape": "laminate", "fraction": fraction}), h=h)
    return BlochProblem(cell.mesh, cell.cell_tags, [Phase(MATRIX, MATRIX_EPS), Phase(INCLUSION, eps_inclusion)],
                        polarization=polarization, degree=2)


@pytest.mark.parametrize("polarization", ["TM", "TE"])
@pytest.mark.parametrize("case", list(CASES))
def test_1d_against_transfer_matrix_with_rate(case, polarization):
    """FE roots converge to the exact roots of Δ(Ω) = cos k at the P2 rate O(h^4)."""
    eps = CASES[case]
    layers = photonic_layers([MATRIX_EPS, eps], [0.6, 0.4], polarization)
    k = 1.0
    exact = bloch_root(layers, k, 3.0)  # a physical band, away from accumulation points
    errors = []
    for h in (0.05, 0.025):
        sol = problem_1d(eps, h, polarization).solve([k], nev=4, target=exact.real)
        assert len(sol.pairs) > 0, sol.filtered
        omega = min(sol.omegas, key=lambda w: abs(w - exact))
        errors.append(abs(omega - exact) / abs(exact))
        assert all(p.residual < 1e-8 for p in sol.pairs)
    assert errors[1] < 1e-5
    assert np.log2(errors[0] / errors[1]) > 3.5, errors


def test_damped_drude_frequencies_are_damped():
    sol = problem_1d(drude(1.0, 6.0, 0.3), 0.05, "TM").solve([0.5], nev=6, target=1.0)
    assert all(w.imag < 0 for w in sol.omegas)


def test_homogeneous_square_cell_folded_bands():
    """ε = 4 everywhere: Ω = |k + 2πn| / 2 with the degeneracies of the folded light cone."""
    cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.3}), h=0.05, order=2)
    problem = BlochProblem(cell.mesh, cell.cell_tags, [Phase(MATRIX, constant(4.0)), Phase(INCLUSION, constant(4.0))],
                           polarization="TM", degree=2)
    k = np.array([np.pi, 0.5])
    sol = problem.solve(k, nev=6, target=0.5)
    n = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)])
    exact = np.sort(np.linalg.norm(k + 2 * np.pi * n, axis=1) / 2.0)[:4]
    assert np.allclose(np.sort(sol.omegas.real)[:4], exact, rtol=3e-5)  # P2 error of e^{2πi n·y}, h = 0.05
    assert np.abs(sol.omegas.imag).max() < 1e-10


def test_shifted_form_agrees_with_quasi_periodic_constraint():
    """The shifted operator on the periodic space and the unshifted operator on the quasi-periodic space
    (Bloch-phase P) discretize the same problem in different spaces (e^{ik·y} p_h is not a polynomial): their
    bands agree to discretization error, which shrinks at the P2 rate; at zone edges (k_j ∈ {0, π}) they
    coincide."""
    phases = [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))]
    differences = []
    for h in (0.1, 0.05):
        cell = mesh_cell(geometry_from_config({"dim": 2, "shape": "circle", "radius": 0.25}), h=h, order=2)
        problem = BlochProblem(cell.mesh, cell.cell_tags, phases, polarization="TM", degree=2)
        k = [1.1, 0.4]
        shifted = problem.solve(k, nev=4, target=0.5).omegas.real[:4]
        quasi = problem.solve_quasi_periodic(k, nev=4, target=0.5).omegas.real[:4]
        differences.append(np.abs(shifted - quasi).max() / shifted.max())
    assert differences[0] < 1e-3 and differences[1] < differences[0] / 8, differences
