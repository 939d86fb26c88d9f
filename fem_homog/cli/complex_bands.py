"""The ``[complex]`` section of the complex band structure driver, turned into typed values.

Keys: ``direction`` (two point letters such as ``"GX"``/``"GM"`` or a vector), ``k_transverse`` (a vector
orthogonal to the direction, units 1/a; ``[]``: zero), ``frequencies`` (units 2πc/a: a list, one number, or a
range table ``{start = 0.05, stop = 0.7, count = 14}`` of ``count`` equally spaced values, both ends included),
``max_imag_k`` (1/a), ``num_modes`` (per frequency), ``overlay_points`` (k-points of the real-k band diagram drawn
over the plot; 0: none).
"""

from __future__ import annotations

import numpy as np

from fem_homog.cli.keys import config_keys
from fem_homog.core.errors import require
from fem_homog.core.units import to_omega
from fem_homog.photonics.complex_bands import direction_vector

COMPLEX_DEFAULTS = {"direction": "GX", "k_transverse": [], "frequencies": [0.1, 0.2, 0.3, 0.4, 0.5],
                    "max_imag_k": 3.0, "num_modes": 8, "overlay_points": 9}
COMPLEX_ACCEPTS = {"complex.frequencies": (dict, float, int)}
"""``complex.frequencies`` may also be one number or a range table (for the driver's ``ACCEPTS``)."""


def frequencies_from_config(value) -> list[float]:
    """A list of positive frequencies from a list, a number or a ``{start, stop, count}`` table."""
    if isinstance(value, dict):
        require(set(value) == {"start", "stop", "count"},
                f"complex.frequencies as a table must have exactly the keys start, stop, count, got {sorted(value)}")
        start, stop, count = value["start"], value["stop"], value["count"]
        require(isinstance(count, int) and not isinstance(count, bool) and count >= 1,
                f"complex.frequencies.count must be an integer >= 1, got {count!r}")
        require(all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)) and stop >= start,
                f"complex.frequencies needs numbers start <= stop, got start = {start!r}, stop = {stop!r}")
        value = np.linspace(start, stop, count).tolist()
    freqs = value if isinstance(value, list) else [value]
    require(len(freqs) > 0 and all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in freqs),
            f"complex.frequencies must be positive numbers (a list, a number or {{start, stop, count}}), "
            f"got {value!r}")
    return [float(f) for f in freqs]


def complex_from_config(table: dict, lattice: np.ndarray) -> dict:
    """``direction`` (unit vector), ``k_transverse``, ``omegas`` (Ω units, sorted), ``max_imag_k``, ``num_modes``,
    ``overlay_points``."""
    freqs = sorted(frequencies_from_config(table["frequencies"]))
    require(isinstance(table["max_imag_k"], (int, float)) and table["max_imag_k"] > 0,
            f"complex.max_imag_k must be positive, got {table['max_imag_k']!r}")
    require(isinstance(table["num_modes"], int) and table["num_modes"] >= 1,
            f"complex.num_modes must be an integer >= 1, got {table['num_modes']!r}")
    require(table["overlay_points"] >= 0 and table["overlay_points"] != 1,
            f"complex.overlay_points must be 0 or >= 2, got {table['overlay_points']!r}")
    kp = table["k_transverse"]
    require(isinstance(kp, list) and all(isinstance(v, (int, float)) for v in kp),
            f"complex.k_transverse must be a list of numbers, got {kp!r}")
    with config_keys("complex"):
        e = direction_vector(table["direction"], lattice)
    return {"direction": e, "k_transverse": [float(v) for v in kp], "omegas": to_omega(freqs).tolist(),
            "max_imag_k": float(table["max_imag_k"]), "num_modes": int(table["num_modes"]),
            "overlay_points": int(table["overlay_points"])}
