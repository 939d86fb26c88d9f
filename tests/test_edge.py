"""The periodic-source envelope's crystal edge (theory.md §9.1): the Robin condition f + δ ∂_n f = 0 against the
closed form, and the choice of the offsets δ."""

import math

import numpy as np
import pytest

from fem_homog.cells.crystal_mesh import mesh_box
from fem_homog.cli.cells import geometry_from_config
from fem_homog.core.errors import InputError
from fem_homog.fem.evaluation import point_values
from fem_homog.photonics import edge


def robin_closed_form(x: np.ndarray, length: float, tau: complex, detuning: complex, a: complex,
                      delta: complex) -> np.ndarray:
    """−τ f'' − Δ f = a on [0, L] with f + δ ∂_n f = 0 at both ends: f = −(a/Δ)(1 − cosh(q(x − L/2)) /
    (cosh(qL/2) + δ q sinh(qL/2))), q² = −Δ/τ."""
    q = np.sqrt(complex(-detuning / tau))
    shape = np.cosh(q * (x - length / 2)) / (np.cosh(q * length / 2) + delta * q * np.sinh(q * length / 2))
    return -a / detuning * (1.0 - shape)


@pytest.mark.parametrize("tau, detuning, delta", [(-3.7 - 0.06j, 0.13 + 0.037j, 0.004 - 0.49j),
                                                  (0.98 + 0.002j, 0.25 + 0.037j, 0.05 + 0.52j),
                                                  (1.0, -0.3 + 0.01j, 0.3)])
def test_robin_envelope_matches_the_closed_form(tau, detuning, delta):
    """A box 6 × 1 with the Robin edge along x and ∂_n f = 0 along y (δ_y = ∞): f is the 1D closed form, for
    complex and negative τ, complex δ (a leaky edge) and a real one."""
    h, length = 0.1, 6.0
    box = mesh_box([h, h], [length - h, 1.0 - h], pml_width=h, h=h)
    a = 0.7 - 0.2j
    f = edge.solve_edge_envelope(box, np.diag([tau, 2.0]), detuning, a, [delta, math.inf])
    x = np.array([[0.0, 0.5], [0.3, 0.2], [1.7, 0.9], [3.0, 0.5], [5.2, 0.1], [6.0, 0.7]])
    exact = robin_closed_form(x[:, 0], length, tau, detuning, a, delta)
    assert np.allclose(point_values(f, x), exact, rtol=0, atol=1e-5 * np.abs(exact).max())


def test_zero_offset_is_the_dirichlet_edge():
    """δ = 0 puts f = 0 on those faces (the model of the crystal edge before the offsets)."""
    h = 0.1
    box = mesh_box([h, h], [4 - h, 1.0 - h], pml_width=h, h=h)
    f = edge.solve_edge_envelope(box, np.diag([1.0, 2.0]), -0.5 + 0.1j, 1.0, [0.0, math.inf])
    x = np.array([[0.0, 0.3], [1.3, 0.6], [4.0, 0.2]])
    exact = robin_closed_form(x[:, 0], 4.0, 1.0, -0.5 + 0.1j, 1.0, 0.0)
    assert np.allclose(point_values(f, x), exact, atol=1e-5 * np.abs(exact).max())
    assert abs(exact[0]) < 1e-12


def test_offsets_given_and_refused():
    """One number for both axes or one per axis; 0 means f = 0; the ribbon estimate names what it cannot treat."""
    assert edge.given_offsets(0.0).method == "dirichlet"
    both = edge.given_offsets(0.1 - 0.5j)
    assert both.method == "given" and both.delta == [0.1 - 0.5j, 0.1 - 0.5j]
    assert edge.given_offsets([0.0, 0.5j]).delta == [0.0, 0.5j]
    with pytest.raises(InputError, match="edge_offset must be finite"):
        edge.given_offsets(float("nan"))
    square = geometry_from_config({"shape": "square", "side": 0.5})
    assert edge.ribbon_supported(square, (math.pi, 0.0)) is None
    assert "not a zone point" in edge.ribbon_supported(square, (1.0, 0.0))
    circle = geometry_from_config({"shape": "circle", "radius": 0.2})
    assert "axis-aligned square" in edge.ribbon_supported(circle, (math.pi, 0.0))


def test_ribbon_resonance_is_the_fabry_perot_resonance_of_a_slab():
    """The ribbon's resonance solver (dispersive-ready nonlinear inverse iteration with PMLs): rods filling the
    cells make an 8-cell dielectric slab (ε = 4, TM, k_y = 0) in vacuum, whose leaky resonances are exact,
    Ω_m = (mπ + i ln r)/(nN), r = (n − 1)/(n + 1) (m = 15: Ω² = 8.6697 − 0.4045i)."""
    from types import SimpleNamespace

    from fem_homog.cells.geometry import INCLUSION, MATRIX
    from fem_homog.photonics.materials import Phase, constant

    n_slab, cells, m = 2.0, 8, 15
    exact = ((m * math.pi + 1j * math.log((n_slab - 1) / (n_slab + 1))) / (n_slab * cells)) ** 2
    problem = SimpleNamespace(phases=[Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(n_slab**2))],
                              polarization="TM")
    slab = SimpleNamespace(inclusions=[SimpleNamespace(side=1.0)])
    T = np.diag([1.0, 1.0])
    guess = SimpleNamespace(omega0=np.sqrt(exact + 0.02 - T[0, 0] * (math.pi / cells) ** 2), T=T,
                            k0=np.zeros(2))
    resonance = edge._ribbon_resonance(problem, guess, slab, 0, cells, (1, 1), 1, 2)
    assert abs(resonance - exact) < 1e-4 * abs(exact), (resonance, exact)  # measured 2.5e-5 (P2, h = 1/16)
