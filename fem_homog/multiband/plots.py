"""Line plots of the multiband study (matplotlib, Agg): fits over the exact bands, transmission vs frequency,
time-domain snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from mpi4py import MPI

if TYPE_CHECKING:
    from fem_homog.multiband.scattering import TransmissionRow


def output_folder(out: Path, enabled: bool, comm: MPI.Comm = MPI.COMM_WORLD) -> Path | None:
    """Where the studies write plots and fields: ``out`` on rank 0 when ``enabled``, else None (the multiband
    studies are serial: under ``mpiexec`` every rank repeats them and rank 0 writes)."""
    return out if enabled and comm.rank == 0 else None


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fits(ks: np.ndarray, exact: np.ndarray, model_k: np.ndarray, model_omega: np.ndarray,
              errors: Sequence[float], path: Path) -> Path:
    """Exact bands (dots, ``k ∈ (0, π]``) and the model's bands (lines, continued past ``π``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for b, row in enumerate(exact):
        ax.plot(ks, row, "o", ms=3, color=f"C{b}", label=f"exact band {b + 1}")
    for b, row in enumerate(model_omega):
        err = f" (error {errors[b]:.2%})" if b < len(errors) else ""
        ax.plot(model_k, row, "-", color=f"C{b}", label=f"model band {b + 1}{err}")
    ax.axvline(np.pi, color="0.6", lw=0.8)
    ax.set_xlabel("k (period = 1)")
    ax.set_ylabel("ω")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_transmission(rows: Sequence[TransmissionRow], edges: Sequence[Sequence[float]], title: str,
                      path: Path) -> Path:
    """Energy transmission ``T_E(ω)``: model against exact fine scale, exact pass bands shaded."""
    plt = _pyplot()
    w = [r.omega for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for lo, hi in edges:
        ax.axvspan(lo, hi, color="0.93")
    ax.plot(w, [r.exact for r in rows], "k-", lw=1.5, label="exact fine scale")
    ax.plot(w, [r.model for r in rows], "C3--", lw=1.5, marker="." if len(w) < 20 else None,
            label="homogenized model")
    if len(w) > 1:
        ax.set_xlim(min(w), max(w))
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("ω")
    ax.set_ylabel("energy transmission $T_E$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_snapshots(x_model: np.ndarray, model: Sequence[np.ndarray], x_fine: np.ndarray,
                   fine: Sequence[np.ndarray], times: Sequence[float], interface: float, path: Path) -> Path:
    """Displacement snapshots of the homogenized model against the fine-scale laminate."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(times), 1, figsize=(7, 1.8 * len(times)), sharex=True)
    for ax, t, um, uf in zip(np.atleast_1d(axes), times, model, fine):
        ax.plot(x_fine, uf, "k-", lw=1.0, label="fine scale")
        ax.plot(x_model, um, "C3--", lw=1.2, label="model")
        ax.axvline(interface, color="0.6", lw=0.8)
        ax.set_ylabel(f"u, t = {t:.1f}", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="upper right")
    np.atleast_1d(axes)[-1].set_xlabel("x")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_angles(rows: list[dict], title: str, path: Path) -> Path:
    """Energy reflectance vs incidence angle, one colour per frequency: exact (solid) and model (dashed)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, w in enumerate(sorted({r["omega"] for r in rows})):
        sel = [r for r in rows if r["omega"] == w]
        angles = [r["angle"] for r in sel]
        ax.plot(angles, [r["exact_R_E"] for r in sel], "-", color=f"C{i}", label=f"exact, ω = {w:g}")
        ax.plot(angles, [r["model_R_E"] for r in sel], "--", color=f"C{i}", label=f"model, ω = {w:g}")
    ax.set_xlabel("angle of incidence (degrees from the normal)")
    ax.set_ylabel("energy reflectance $R_E$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_field(x_model: np.ndarray, u_model: np.ndarray, x_fine: np.ndarray, u_fine: np.ndarray, omega: float,
               slab: tuple[float, float], path: Path) -> Path:
    """Real and imaginary parts of the time-harmonic field: model against fine-scale laminate."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(7, 4.5), sharex=True)
    for ax, part, name in zip(axes, (np.real, np.imag), ("Re u", "Im u")):
        ax.axvspan(*slab, color="0.93")
        ax.plot(x_fine, part(u_fine), "k-", lw=1.0, label="fine scale")
        ax.plot(x_model, part(u_model), "C3--", lw=1.2, label="model")
        ax.set_ylabel(name)
    axes[0].set_title(f"ω = {omega:g}", fontsize=9)
    axes[0].legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("x")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
