"""Drude/Lorentz models (theory.md §6): values, the Ω²-derivative, the polynomial fraction, validation."""

import numpy as np
import pytest

from fem_homog.cli.materials import model_from_config
from fem_homog.core.errors import InputError
from fem_homog.photonics.laminate1d import cauchy_derivative
from fem_homog.photonics.materials import DispersiveModel, d_domega2, drude, lorentz

POINTS = np.array([0.7 - 0.05j, 1.3 + 0.2j, 2.1 - 0.4j])
MODELS = [drude(1.0, 1.2, 0.1), lorentz(2.0, [[3.0, 0.9, 0.05], [1.5, 2.4, 0.2]]),
          DispersiveModel(1.5, drude=((0.8, 0.02),), lorentz=((1.0, 1.7, 0.1),))]


def test_drude_formula():
    m = drude(2.0, 1.5, 0.3)
    w = 0.9 + 0.1j
    assert m(w) == pytest.approx(2.0 - 1.5**2 / (w**2 + 0.3j * w), rel=1e-14)


def test_passive_media_have_positive_imaginary_part():
    for m in MODELS:
        assert np.all(m(np.linspace(0.1, 3.0, 50)).imag > 0)


@pytest.mark.parametrize("model", MODELS)
def test_fraction_equals_model(model):
    num, den = model.as_fraction()
    assert np.allclose(num(POINTS) / den(POINTS), model(POINTS), rtol=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_derivative_in_omega_squared(model):
    for w in POINTS:
        numeric = cauchy_derivative(model, w) / (2 * w)
        assert d_domega2(*model.as_fraction(), w) == pytest.approx(numeric, rel=1e-9)


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "drude", "omega_p": -1.0}, "plasma frequency must be positive"),
    ({"kind": "drude", "omega_p": 1.0, "gamma": -0.1}, "damping must be non-negative"),
    ({"kind": "drude"}, "needs material.omega_p"),
    ({"kind": "lorentz", "poles": [[1.0, -0.5, 0.1]]}, "resonance frequency must be positive"),
    ({"kind": "lorentz", "poles": [[1.0, 0.5]]}, "a Lorentz pole is"),
    ({"kind": "lorentz", "poles": []}, "at least one pole"),
    ({"kind": "debye"}, "unknown material model"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(InputError, match=message):
        model_from_config(**kwargs)
