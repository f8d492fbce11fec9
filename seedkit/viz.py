"""Plots: frame strips, spectrograms with event markers, contact sheets."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib

import numpy as np

from .tokenizers.mel import log_mel


def _plt():
    import matplotlib.pyplot as plt

    return plt


def frame_strip(ax, frames: np.ndarray, fps: float, n: int = 8, title: str | None = None):
    """Draw `n` evenly spaced frames (uint8 [T, H, W, 3]) side by side, labelled with their time."""
    frames = np.asarray(frames)
    idx = np.linspace(0, len(frames) - 1, n).round().astype(int)
    strip = np.concatenate([np.pad(frames[i], ((0, 0), (0, 1), (0, 0)), constant_values=255)
                            for i in idx], axis=1)
    ax.imshow(strip, interpolation="nearest")
    w = frames.shape[2] + 1
    ax.set_xticks([(k + 0.5) * w for k in range(n)], [f"{i / fps:.2f}s" for i in idx], fontsize=7)
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, loc="left")


def spectrogram(ax, waveform, sample_rate: int, events: Sequence[tuple[float, str]] = (),
                duration_s: float | None = None, title: str | None = None):
    """Log-mel spectrogram (time in seconds) with vertical markers at event times."""
    mel = log_mel(waveform, sample_rate).numpy()
    dur = duration_s or np.asarray(waveform).shape[-1] / sample_rate
    ax.imshow(mel, origin="lower", aspect="auto", extent=(0, dur, 0, mel.shape[0]), cmap="magma")
    for t, _label in events:
        ax.axvline(t, color="cyan", lw=0.8, ls="--")
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("mel bin", fontsize=8)
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=9, loc="left")


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """Mean absolute frame difference per frame, float [T] (0 for the first frame)."""
    f = np.asarray(frames, dtype=np.float32)
    e = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))
    return np.concatenate([[0.0], e])


def clip_figure(frames, waveform, fps: float, sample_rate: int, events=(), caption: str = "",
                n_frames: int = 8):
    """One clip: frame strip above its spectrogram, impact/word times marked on both clocks."""
    plt = _plt()
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(8, 3.6), gridspec_kw={"height_ratios": [1, 1.3]})
    frame_strip(a0, frames, fps, n_frames, title=caption)
    spectrogram(a1, waveform, sample_rate, events, duration_s=len(frames) / fps)
    fig.tight_layout()
    return fig


def contact_sheet(clips: Sequence[dict], fps: float, sample_rate: int, n_frames: int = 8,
                  title: str | None = None):
    """Several clips, each a frame strip over its spectrogram with event markers.

    clips: dicts with `frames` uint8 [T, H, W, 3], `waveform` [1, N], `caption`, `events`.
    """
    plt = _plt()
    n = len(clips)
    fig, axes = plt.subplots(2 * n, 1, figsize=(8, 2.9 * n),
                             gridspec_kw={"height_ratios": [1, 1.3] * n}, squeeze=False)
    for k, c in enumerate(clips):
        frame_strip(axes[2 * k, 0], c["frames"], fps, n_frames, title=c.get("caption"))
        dur = len(c["frames"]) / fps
        spectrogram(axes[2 * k + 1, 0], c["waveform"], sample_rate, c.get("events", ()), dur)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_contact_sheet(clips: Sequence[dict], fps: float, sample_rate: int, path, title: str | None = None):
    """`contact_sheet` of `clips` written to the PNG `path` and closed (never shown, in a notebook
    either); returns `path`."""
    fig = contact_sheet(clips, fps, sample_rate, title=title)
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def use_headless_backend() -> None:
    """Select a non-interactive backend for scripts (the CLI writes PNGs, never opens windows)."""
    matplotlib.use("Agg")
