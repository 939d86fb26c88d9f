"""
Complex bands of a lossy Drude laminate
=======================================

A 1D crystal of vacuum (thickness 0.6) and a lossy Drude metal (thickness 0.4, ``ε(Ω) = 1 − Ω_p²/(Ω² + iΓΩ)``):
at each real Bloch wave number ``k`` the frequencies are complex, ``Im Ω < 0``. The finite-element Bloch problem
is a polynomial eigenproblem in ``Ω`` (theory.md §6) solved by SLEPc's PEP; the reference is the exact
transfer-matrix dispersion relation ``cos k = Δ(Ω)`` of the same stack (§7), solved by Newton's method.
Frequencies inside the library are ``Ω = ωa/c``; plots use ``ωa/2πc`` (:mod:`fem_homog.core.units`).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry
from fem_homog.cells.meshing import mesh_cell
from fem_homog.core.units import to_reduced
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.laminate1d import bloch_root, photonic_layers
from fem_homog.photonics.materials import Phase, constant, drude

vacuum, metal = constant(1.0), drude(1.0, 6.0, 0.3)
cell = mesh_cell(CellGeometry(dim=1, kind="laminate", fraction=0.4, normal=(1.0,)), h=0.02)
problem = BlochProblem(cell, [Phase(MATRIX, vacuum), Phase(INCLUSION, metal)], polarization="TM", degree=2)
layers = photonic_layers([vacuum, metal], [0.6, 0.4], "TM")

# %%
# The two lowest bands above the plasma accumulation, k from near Γ to the zone edge; every FE frequency is
# checked against the exact root next to it.
ks = np.linspace(0.2, np.pi, 8)
fem, exact = [], []
for k in ks:
    solution = problem.solve([k], nev=4, target=3.0)
    assert all(pair.residual < 1e-8 for pair in solution.pairs)
    omegas = sorted(solution.omegas, key=lambda w: w.real)[:2]
    fem.append(omegas)
    exact.append([bloch_root(layers, k, w) for w in omegas])
fem, exact = np.array(fem), np.array(exact)
error = np.max(np.abs(fem - exact) / np.abs(exact))
print(f"largest relative difference FE vs transfer matrix: {error:.1e}; all Im Ω < 0: {bool((fem.imag < 0).all())}")
assert error < 1e-5 and (fem.imag < 0).all()

# %%
# The complex band diagram: real part (the band) and imaginary part (the damping rate).
fig, (ax_re, ax_im) = plt.subplots(1, 2, figsize=(8, 3.2))
for band in range(fem.shape[1]):
    ax_re.plot(ks, to_reduced(exact[:, band].real), "k-")
    ax_re.plot(ks, to_reduced(fem[:, band].real), "o", mfc="none")
    ax_im.plot(ks, to_reduced(exact[:, band].imag), "k-")
    ax_im.plot(ks, to_reduced(fem[:, band].imag), "o", mfc="none")
ax_re.set(xlabel="k a", ylabel="Re ω a/2πc")
ax_im.set(xlabel="k a", ylabel="Im ω a/2πc")
fig.tight_layout()
