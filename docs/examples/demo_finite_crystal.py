"""
A finite crystal: full wave against the HFH envelope model
==========================================================

A 10 × 10 crystal of lossy Drude square rods in vacuum (TM), surrounded by perfectly matched layers, driven by a
line source just above the X band edge. High-frequency homogenization (theory.md §8) says the field is
``u ≈ Σ f(x) U₀(x)``: the Bloch mode at X modulated by an envelope ``f`` that solves ``∇·(T∇f) + (Ω² − Ω₀²) f =
source`` (§9). At X the tensor ``T`` is hyperbolic, so the envelope, and the full-wave field, radiate along the
diagonals. The full wave and the envelope model see the same medium: both take the phases of one Bloch problem.
"""

# %%
from fem_homog.cells.crystal_mesh import tile_crystal
from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry, Inclusion
from fem_homog.cells.lattice import named_point
from fem_homog.cells.meshing import mesh_cell
from fem_homog.core.units import to_omega
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.envelope import CrystalSource, compare_with_full_wave, envelope_model
from fem_homog.photonics.hfh import Selection, hfh_at_point
from fem_homog.photonics.materials import Phase, constant, drude

# %%
# The cell, its Bloch problem and the HFH model of band 1 at X.
rods = CellGeometry(dim=2, kind="inclusions", inclusions=(Inclusion("square", (0.5, 0.5), side=0.5),))
metal = drude(1.0, float(to_omega(1.0)), float(to_omega(0.01)))
cell = mesh_cell(rods, h=0.1, order=2)
problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, metal)], polarization="TM")
hfh = hfh_at_point(problem, named_point("X", rods.lattice_vectors), Selection(band=1, search_from=float(to_omega(0.3))))
source = CrystalSource(position=(5.0, 5.0), relative_detuning=0.002)
model = envelope_model(hfh, rods, source)
print(f"HFH at X: {model.classification['type']}, drive ω a/2πc = {model.frequency:.5f}")

# %%
# The crystal is tiled from copies of the cell mesh (every crystal cell meshed like the periodic one), with a
# margin of vacuum and graded PMLs; then the full wave, the envelopes and the comparison.
crystal = tile_crystal(rods, (10, 10), margin=1.0, pml_width=2.0, h=0.1, order=2)
comparison = compare_with_full_wave(crystal, problem, model, source, h_envelope=0.1)
result = comparison.result
ratio = result.diagonal_to_axis_ratio
print(f"full wave {result.dofs['full_wave']} dofs; diagonal/axis energy: full wave {ratio['full_wave']:.2f}, "
      f"HFH {ratio['hfh']:.2f}; pattern correlation {result.pattern_correlation:.2f}")
assert model.classification["type"] == "hyperbolic" and ratio["full_wave"] > 1.0 and ratio["hfh"] > 1.0
