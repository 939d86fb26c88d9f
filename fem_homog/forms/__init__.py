"""Pure UFL form builders: functions that take spaces and coefficients and return forms.

Nothing here assembles or touches PETSc, and nothing imports :mod:`fem_homog`.
"""
