"""Photonics: materials, the TM/TE slot rule, Bloch eigenproblems, band diagrams, high-frequency homogenization,
finite crystals with PMLs, 1D laminates and their exact Green function."""
