"""Frequency units: the one place that converts between the suite's two frequency scales.

Internally the solvers use the non-dimensional angular frequency ``Ω = ω a / c`` (theory.md §1). Users give
and receive frequencies in units of ``2πc/a``, i.e. the reduced frequency ``ω a / (2πc) = a/λ`` of MPB.
"""

import numpy as np

TWO_PI = 2.0 * np.pi


def to_omega(reduced_frequency):
    """``ω a / (2πc)`` → ``Ω = ω a / c``."""
    return TWO_PI * np.asarray(reduced_frequency)


def to_reduced(omega):
    """``Ω = ω a / c`` → ``ω a / (2πc)``."""
    return np.asarray(omega) / TWO_PI
