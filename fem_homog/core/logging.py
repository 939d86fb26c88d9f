"""Progress messages: printed once (by rank 0), flushed so they show in job logs as they happen."""

from __future__ import annotations

from mpi4py import MPI


def log(message: str, comm: MPI.Comm = MPI.COMM_WORLD) -> None:
    """Print a progress line once (rank 0), flushed so it shows in job logs as it happens."""
    if comm.rank == 0:
        print(message, flush=True)
