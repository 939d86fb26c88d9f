"""Cells: lattices, periodic cell geometry, gmsh meshing and refinement, finite-crystal and RVE-window meshes,
random media."""
