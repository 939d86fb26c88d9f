"""Core: errors users see, failures agreed on by every MPI rank, frequency units, timing and progress logging.
Imports nothing else of the suite."""
