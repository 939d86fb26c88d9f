#!/usr/bin/env bash
# Example HPC job: run a fem-homog driver from the Docker image under Slurm (Apptainer/Singularity on the
# compute nodes). The image ships MPICH (from the dolfinx-solver-complex wheel); with the hydra launcher
# inside the container a single-node job needs nothing from the host MPI.
#
#   apptainer build fem-homog.sif docker-daemon://fem-homog:latest   # once, from the Docker image
#   sbatch docker/slurm_job.sh drivers/effective_tensor.py --config drivers/configs/sphere_3d.toml
#
#SBATCH --job-name=fem-homog
#SBATCH --nodes=1
#SBATCH --ntasks=8
#SBATCH --cpus-per-task=1
#SBATCH --time=01:00:00
#SBATCH --output=fem-homog-%j.log
set -euo pipefail

IMAGE=${IMAGE:-fem-homog.sif}
DRIVER=${1:-drivers/effective_tensor.py}
shift || true
OUT=${OUT:-results/job-${SLURM_JOB_ID:-local}}
NTASKS=${SLURM_NTASKS:-2}

export OMP_NUM_THREADS=1 UCX_TLS=self,sm,tcp
mkdir -p "$OUT"
apptainer exec --bind "$PWD/results:/app/results" --pwd /app "$IMAGE" \
    /app/.venv/bin/mpiexec -n "$NTASKS" /app/.venv/bin/python "$DRIVER" "$@" --out "$OUT"
