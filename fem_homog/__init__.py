"""fem-homog: finite-element homogenization of periodic media with FEniCSx.

``dolfinx_solver`` must be imported before dolfinx, petsc4py or slepc4py, or two MPI libraries get loaded
(a hang or wrong numbers, not an error). This is the one place that does it; every module of the suite
imports dolfinx only through this package being imported first.
"""

import dolfinx_solver  # noqa: F401  (must precede dolfinx/petsc4py/slepc4py)

from fem_homog.core.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
