"""Multiband real-space homogenization of laminates (theory.md §10; Deshmukh, Breitzman, Dayal 2023).

fits          exact 1D bands (transfer matrix) and their constrained rational fits R_2N
model         the real-space model: symbol, outgoing wavenumbers, tractions τ_j, flux, interface conditions
homogenize    laminate → fitted single- or two-band model, errors per band; homogeneous media in the same form
scattering    1D multi-region scattering by the model; exact fine-scale answers (laminate1d)
oblique       2D tensor fits, reduction to 1D along the interface normal, reflection vs angle
modematching  exact 2D fine-scale scattering for layers normal to the interface (transverse Bloch modes)
fem1d         dolfinx 1D meshes/assembly; fine-scale harmonic slab with radiation conditions
timedomain    dolfinx P2 + C0-IP model and fine-scale FEM of a pulse, Newmark average acceleration
timedomain2d  the same in 2D: Q2 + C0-IP for the 2D tensor model on a strip, oblique pulse, fine-scale layers
plots         matplotlib figures of the study
"""
