"""The ``[complex]`` section of the complex band structure driver, turned into typed values.

Keys: ``direction`` (two point letters such as ``"GX"``/``"GM"`` or a vector), ``k_transverse`` (a vector
orthogonal to the direction, units 1/a; ``[]``: zero), ``frequencies`` (list, units 2πc/a), ``max_imag_k`` (1/a),
``num_modes`` (per frequency).
"""

from __future__ import annotations

import numpy as np

from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.core.units import to_omega
from fem_homog.photonics.complex_bands import direction_vector

COMPLEX_DEFAULTS = {"direction": "GX", "k_transverse": [], "frequencies": [0.1, 0.2, 0.3, 0.4, 0.5],
                    "max_imag_k": 3.0, "num_modes": 8}


def complex_from_config(table: dict, lattice: np.ndarray) -> dict:
    """``direction`` (unit vector), ``k_transverse``, ``omegas`` (Ω units), ``max_imag_k``, ``num_modes``."""
    freqs = table["frequencies"]
    freqs = freqs if isinstance(freqs, list) else [freqs]
    require(len(freqs) > 0 and all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in freqs),
            f"complex.frequencies must be a non-empty list of positive numbers, got {table['frequencies']!r}")
    require(isinstance(table["max_imag_k"], (int, float)) and table["max_imag_k"] > 0,
            f"complex.max_imag_k must be positive, got {table['max_imag_k']!r}")
    require(isinstance(table["num_modes"], int) and table["num_modes"] >= 1,
            f"complex.num_modes must be an integer >= 1, got {table['num_modes']!r}")
    kp = table["k_transverse"]
    require(isinstance(kp, list) and all(isinstance(v, (int, float)) for v in kp),
            f"complex.k_transverse must be a list of numbers, got {kp!r}")
    with config_keys("complex"):
        e = direction_vector(table["direction"], lattice)
    return {"direction": e, "k_transverse": [float(v) for v in kp], "omegas": to_omega(freqs).tolist(),
            "max_imag_k": float(table["max_imag_k"]), "num_modes": int(table["num_modes"])}
