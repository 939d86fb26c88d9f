"""
Band diagram of a photonic crystal
==================================

Dielectric rods (ε = 8.9, radius 0.2a) in air on a square lattice, TM polarization (``E_z``): the classic crystal
with a gap between bands 1 and 2 (Joannopoulos et al., gap ≈ 0.32–0.44 in units of 2πc/a). The Bloch problem is
assembled once on the periodic space; :func:`~fem_homog.photonics.bands.sweep_bands` solves it along Γ–X–M–Γ and
connects the bands by eigenvector overlap (theory.md §5, §5.2). The independent check: the long-wave slope of
band 1 at Γ, which for TM is the exact ``ω = k/√⟨ε⟩`` (the average permittivity of the meshed cell).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry, Inclusion
from fem_homog.cells.meshing import mesh_cell
from fem_homog.core.units import to_reduced
from fem_homog.fem.coefficients import phase_fractions
from fem_homog.photonics.bands import k_path, sweep_bands
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.materials import Phase, constant

rods = CellGeometry(dim=2, kind="inclusions", inclusions=(Inclusion("circle", (0.5, 0.5), radius=0.2),))
cell = mesh_cell(rods, h=0.05, order=2)
problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, constant(8.9))], polarization="TM")
path = k_path("GXMG", 6, 2)
diagram = sweep_bands(problem, path, num_bands=4)
bands = np.array(diagram.bands, dtype=complex).real.T  # units of 2πc/a, one row per k-point

# %%
# The gap between bands 1 and 2 over the path, and the long-wave check.
gap = (bands[:, 0].max(), bands[:, 1].min())
print(f"TM gap: {gap[0]:.4f} – {gap[1]:.4f} (ω a/2πc)")
fraction = phase_fractions(cell.mesh, cell.cell_tags, [INCLUSION])[INCLUSION]
k = np.array([0.05, 0.0])
slope = to_reduced(problem.solve(k, nev=2, target=0.0).omegas[0].real) / np.linalg.norm(k) * 2 * np.pi
exact = 1.0 / np.sqrt(1.0 + 7.9 * fraction)
print(f"long-wave slope {slope:.5f}, exact 1/√⟨ε⟩ = {exact:.5f}")
assert 0.30 < gap[0] < gap[1] < 0.46 and abs(slope - exact) < 1e-3 * exact

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(path.distance, bands, "o-", ms=3)
ax.axhspan(*gap, color="0.85")
ax.set_xticks([path.distance[i] for i, _ in path.labels], [name.replace("G", "Γ") for _, name in path.labels])
ax.set(ylabel="ω a/2πc")
fig.tight_layout()
