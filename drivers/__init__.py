"""The drivers: one story each, run as ``[mpiexec -n N] python drivers/NAME.py`` (a package only so that
import-linter can check what they import)."""
