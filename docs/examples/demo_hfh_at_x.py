"""
High-frequency homogenization at the X point
============================================

Square Drude rods (side 0.5a, ``ω_p a/2πc = 1``, ``γ a/2πc = 0.01``) in vacuum, TM polarization. Near the X
point ``k0 = (π, 0)`` the first band is described by the HFH tensor ``T``: ``Ω² ≈ Ω0² + κ·Tκ`` at ``k0 + κ``
(theory.md §8.2). Its real part has principal values of opposite sign, so the effective operator is hyperbolic
(§8.6): waves near this band edge travel along the diagonals. The check: the prediction against the Bloch
eigenvalue solved directly at ``k0 + κ``, whose error must fall like ``|κ|⁴``.
"""

# %%
import numpy as np

from fem_homog.cells.geometry import INCLUSION, MATRIX, CellGeometry, Inclusion
from fem_homog.cells.meshing import mesh_cell
from fem_homog.core.units import to_omega, to_reduced
from fem_homog.photonics.bloch import BlochProblem
from fem_homog.photonics.classification import classify
from fem_homog.photonics.hfh import Selection, hfh_at_point
from fem_homog.photonics.materials import Phase, constant, drude

rods = CellGeometry(dim=2, kind="inclusions", inclusions=(Inclusion("square", (0.5, 0.5), side=0.5),))
cell = mesh_cell(rods, h=0.08, order=2)
metal = drude(1.0, float(to_omega(1.0)), float(to_omega(0.01)))
problem = BlochProblem(cell, [Phase(MATRIX, constant(1.0)), Phase(INCLUSION, metal)], polarization="TM")

# %%
# The model of band 1 at X (bands counted from Ω = 0.3 · 2π, above the static accumulation of the Drude rods).
k0 = np.array([np.pi, 0.0])
model = hfh_at_point(problem, k0, Selection(band=1, search_from=float(to_omega(0.3))))
kind = classify(model.T)
print(f"case {model.case}, ω0 a/2πc = {complex(to_reduced(model.omega0)):.5f}, type {kind['type']}")
print("T =", np.round(model.T, 4).tolist())
assert model.case == "simple" and kind["type"] == "hyperbolic"

# %%
# The asymptotic check along the diagonal: the error of the predicted Ω² drops by about 16 per halving of κ.
# The reference is the Bloch problem at ``k0 + κ`` in the discrete space of ``k0`` (the discretization that HFH
# expands, theory.md §8.8), so that mesh error does not hide the asymptotic error.
errors = []
for size in (0.2, 0.1):
    kappa = size * np.array([-1.0, 1.0]) / np.sqrt(2.0)  # into the zone
    predicted = model.predict(kappa)[0, 0]
    K, M, P = problem.quasi_periodic_operators(k0, shift=kappa)
    solved = problem.eigenpairs(k0 + kappa, K, M, nev=3, target=model.omega0.real).omegas
    for A in (*K, *M, P):
        A.destroy()
    exact = min(solved**2, key=lambda lam: abs(lam - predicted))
    errors.append(abs(predicted - exact))
    print(f"|κ| = {size}: Ω² predicted {predicted:.6f}, solved {exact:.6f}")
print(f"error ratio for half the |κ|: {errors[0] / errors[1]:.1f} (|κ|⁴ gives 16)")
assert errors[0] / errors[1] > 8.0
