"""FEM plumbing: periodic/Bloch prolongation, phase coefficients, point evaluation, bordered systems, and
:mod:`fem_homog.fem.petsc`, the only module that creates PETSc/SLEPc solvers."""
