"""Exact 1D layered media (theory.md §7): dispersion, root finding, scattering identities."""

import numpy as np
import pytest

from fem_homog.photonics.laminate1d import (
    bloch_impedance,
    bloch_root,
    count_roots,
    dispersion,
    photonic_layers,
    single_boundary,
    slab,
    track_branch,
)
from fem_homog.photonics.materials import constant, drude

BILAYER = photonic_layers([constant(1.0), constant(8.9)], [0.6, 0.4], "TM")


def test_homogeneous_dispersion_is_folded_light_line():
    layers = photonic_layers([constant(4.0), constant(4.0)], [0.3, 0.7], "TM")
    for w in (0.3, 1.1, 2.7):
        assert dispersion(layers, w) == pytest.approx(np.cos(2.0 * w), abs=1e-13)
    assert bloch_root(layers, 0.5, 0.3) == pytest.approx(0.25, abs=1e-13)


def test_tm_and_te_coincide_for_nonmagnetic_layers_in_1d():
    """In 1D the TE slot swap (μ = 1/ε, ρ = 1) gives Δ(Ω) with Z ↦ 1/Z, which leaves Δ unchanged."""
    te = photonic_layers([constant(1.0), constant(8.9)], [0.6, 0.4], "TE")
    for w in (0.4, 1.7 - 0.1j):
        assert dispersion(te, w) == pytest.approx(dispersion(BILAYER, w), rel=1e-12)


def test_branch_tracking_and_argument_principle():
    ks = np.linspace(0.1, np.pi, 12)
    branch = track_branch(BILAYER, ks, 0.05)
    assert np.all(np.diff(branch.real) > 0)
    assert np.allclose([dispersion(BILAYER, w) for w in branch], np.cos(ks), atol=1e-10)
    # the first band at k = π lies below the first gap: exactly one root in a disc around it
    assert count_roots(BILAYER, np.pi, branch[-1], 0.05) == 1


def test_damped_drude_roots_are_in_the_lower_half_plane():
    layers = photonic_layers([constant(1.0), drude(1.0, 2.0, 0.1)], [0.7, 0.3], "TM")
    w = bloch_root(layers, 1.0, 1.0)
    assert w.imag < 0
    assert dispersion(layers, w) == pytest.approx(np.cos(1.0), abs=1e-12)


@pytest.mark.parametrize("omega", [0.2, 0.9, 1.6, 2.3, 3.1])
def test_single_boundary_energy_balance_and_swap(omega):
    """|R|² + T_E = 1 (lossless); in a pass band swapping the terminating layer conjugates R, in a gap
    the wave is totally reflected (|R| = 1, T_E = 0) whichever layer faces the interface."""
    s = single_boundary(BILAYER, omega, 1.0, 1.0)
    assert abs(s.R) ** 2 + s.T_E == pytest.approx(1.0, abs=1e-12)
    swapped = single_boundary(photonic_layers([constant(8.9), constant(1.0)], [0.4, 0.6], "TM"), omega, 1.0, 1.0)
    in_gap = abs(abs(bloch_impedance(BILAYER, omega)[0]) - 1.0) > 1e-9
    if in_gap:
        assert abs(s.R) == pytest.approx(1.0, abs=1e-12) and abs(swapped.R) == pytest.approx(1.0, abs=1e-12)
        assert abs(s.T_E) < 1e-12
    else:
        assert swapped.R == pytest.approx(np.conj(s.R), abs=1e-12)


def test_slab_energy_balance_and_gap_decay():
    for omega in (0.3, 1.0, 2.0):
        s = slab(BILAYER, 6, omega, (1.0, 1.0), (1.0, 2.0))
        assert abs(s.R) ** 2 + s.T_E == pytest.approx(1.0, abs=1e-12)
    # in a gap T_E decays like |e^{ik}|^{2N}: pick the most attenuating frequency of the first gap
    grid = np.linspace(0.5, 2.5, 401)
    decay = np.array([abs(bloch_impedance(BILAYER, w)[0]) for w in grid])
    gap = grid[decay.argmin()]
    assert decay.min() < 0.7
    t = [slab(BILAYER, n, gap, (1.0, 1.0)).T_E for n in (4, 8)]
    assert t[1] / t[0] == pytest.approx(decay.min() ** 8, rel=0.2)
