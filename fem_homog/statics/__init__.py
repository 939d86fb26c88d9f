"""Statics: periodic correctors and effective tensors, bounds, apparent tensors of random windows, ensembles and
their statistics, Stokes→Darcy permeability, the ε-convergence study."""
