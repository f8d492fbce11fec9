"""A weight-free lip-sync offset: find the lips, follow them, and line them up with speech energy.

    lips     the reddest pixels (LAB a*) of the clip's mean frame inside a lower-face crop: the box
             spanning the 5th..95th percentile of rows/columns of the top 10% (one box per clip,
             widened by 2 px vertically so an open mouth stays inside)
    v(t)     per-frame lip signal in that box, `signal=`:
               "motion"   mean |L_t - L_{t-1}| (lightness change in the lip box, at (t - 0.5) / fps)
               "openness" mean darkness 255 - L (the open mouth cavity is dark)
    e(t)     log-energy of the audio in a one-frame window centred where v(t) lives (t - 0.5
             frames for motion), floored at its 20th percentile
             (silence carries no timing; the floor stops its noise from driving r)
    r(L)     Pearson r of e(t + L) with v(t), L in [-12, 12] frames (+-0.48 s at 25 fps)
    offset   argmax r (parabolic refinement) minus the lips' natural lead (LIP_LEAD_MS, 48 ms,
             measured on s1 train clips); positive: the audio comes late;
             confidence r(peak) - median r (as in `offset.py`)

Full frames (the GRID originals) are cropped to the lower face first with the corpus crop
(`seedkit.data.grid.clip_crop_box`); clips from the cache and from the joint model already are.

Why motion, and where it stands: measured on the 58 GRID s1 val windows (72 frames; the choices
above were made on val clips in development, the lead is calibrated on train clips), lip motion
against energy recovers known shifts of -200..+200 ms with a mean absolute error of ~80 ms, and
its sync@0 (r at the own alignment minus the median r, `OffsetEstimate.sync_at_zero`) tells real
pairs from audio shifted by 0.2 s with AUC ~0.82-0.85 and from shuffled audio with AUC ~0.77
(`benchmarks/metrics_sync_grid.py`). Darkness ("openness") did worse in development (~210 ms:
teeth are bright, so an open mouth is not reliably darker), and so did motion against *changes*
of energy (~230 ms). The naive fixed-box version (frame differences against changes of log-energy)
is at AUC 0.55 and ~200 ms. Localising the lips is what matters. It stays at about two frames: the
learned SyncNet-lite (`syncnet.py`) is the kit's primary sync metric.

Silent audio or a still video gives offset 0 with confidence 0 (no evidence), never NaN.
"""
from __future__ import annotations

import numpy as np

from .events import mono_waveform
from .offset import OffsetEstimate, cross_correlation, offset_from_correlation

__all__ = ["lip_box", "lip_signal", "frame_log_energy", "estimate_mouth_offset"]

MAX_LAG_FRAMES = 12  # lags searched, in video frames
# Lips move before the sound they shape (articulation leads voicing), so lip motion peaks ahead of
# speech energy even in a perfectly synced clip: median raw offset on 100 GRID s1 *train* clips
# (72-frame windows; none of the val clips the figures below are measured on). Subtracted.
LIP_LEAD_MS = 48.0


def _lab(frames: np.ndarray) -> np.ndarray:
    import cv2

    T, H, W, _ = frames.shape
    flat = np.ascontiguousarray(frames, dtype=np.uint8).reshape(T * H, W, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).reshape(T, H, W, 3).astype(np.float32)


def lip_box(frames) -> tuple[slice, slice]:
    """Row and column slices of the lips in a lower-face crop uint8 [T, H, W, 3] (one box per clip)."""
    f = np.asarray(frames)
    if f.ndim != 4 or f.shape[-1] != 3 or f.shape[0] == 0:
        raise ValueError(f"expected frames [T, H, W, 3] with T >= 1, got shape {f.shape}")
    red = _lab(f)[..., 1].mean(0)  # a*: green (low) .. red (high)
    # the top 10%, and strictly redder than the median (a flat skin tone must not count as lips)
    ys, xs = np.nonzero(red > max(np.percentile(red, 90) - 1e-3, np.median(red) + 1e-3))
    if len(ys) == 0:  # no colour contrast at all: the whole crop
        return slice(0, red.shape[0]), slice(0, red.shape[1])
    H, W = red.shape
    y0, y1 = int(np.percentile(ys, 5)) - 2, int(np.percentile(ys, 95)) + 3
    x0, x1 = int(np.percentile(xs, 5)), int(np.percentile(xs, 95)) + 1
    return slice(max(0, y0), min(H, max(y1, y0 + 2))), slice(max(0, x0), min(W, max(x1, x0 + 2)))


def lip_signal(frames, signal: str = "motion", locate: bool = False) -> np.ndarray:
    """Per-frame lip signal [T] of frames uint8 [T, H, W, 3]; locate=True for full face frames."""
    f = np.asarray(frames)
    if f.ndim != 4 or f.shape[-1] != 3:
        raise ValueError(f"expected frames [T, H, W, 3], got shape {f.shape}")
    if f.shape[0] == 0:
        raise ValueError("empty clip: no video frames")
    if locate:
        from ..data.grid import clip_crop_box, crop_frames

        f = crop_frames(f, clip_crop_box(f), 64)
    ys, xs = lip_box(f)
    light = _lab(f[:, ys, xs])[..., 0]  # [T, h, w], 0..255
    if signal == "motion":  # entry i: the change from frame i - 1 to i, at time (i - 0.5) / fps
        if len(light) < 2:
            return np.zeros(len(light))
        d = np.abs(np.diff(light, axis=0)).mean((1, 2))
        return np.concatenate([d[:1], d])
    if signal == "openness":
        return 255.0 - light.mean((1, 2))
    raise ValueError(f"lip signal must be 'motion' or 'openness', got {signal!r}")


def frame_log_energy(waveform, sample_rate: int, fps: float, num_frames: int, floor_pct: float = 20.0,
                     centre_frames: float = 0.0) -> np.ndarray:
    """log mean-square of the audio in a frame-long window centred on (i + centre_frames) / fps for
    each frame i [num_frames], floored at a percentile (frame i is shown at i / fps)."""
    y = mono_waveform(waveform, sample_rate).astype(np.float64)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    y = np.nan_to_num(y)
    edges = np.round((np.arange(num_frames + 1) - 0.5 + centre_frames) * sample_rate / fps)
    edges = np.clip(edges.astype(int), 0, None)
    y = np.pad(y, (0, max(0, edges[-1] - len(y))))
    e = np.array([np.mean(y[a:b] ** 2) if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:])])
    e = np.log(e + 1e-10)
    return np.maximum(e, np.percentile(e, floor_pct)) if len(e) else e


def estimate_mouth_offset(frames, waveform, fps: float, sample_rate: int, *, signal: str = "motion",
                          locate: bool = False, max_lag_frames: int = MAX_LAG_FRAMES,
                          lead_ms: float = LIP_LEAD_MS) -> OffsetEstimate:
    """Audio-video offset of a talking-face clip from lip activity vs speech energy (module docstring).

    lead_ms: the lips' natural lead over the sound, subtracted (0 for signals without one).
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    v = lip_signal(frames, signal, locate)
    # the energy is measured where the video signal lives: motion between frames, openness on them
    e = frame_log_energy(waveform, sample_rate, fps, len(v), centre_frames=-0.5 if signal == "motion" else 0.0)
    lags, r = cross_correlation(e, v, max_lag_frames, min_overlap=max(2, len(v) // 2))
    est = offset_from_correlation(lags, r, 1.0 / fps, fps, zero_lag=lead_ms / 1000 * fps)
    if est.confidence == 0.0:
        return est  # no evidence: offset 0, not "minus the lead"
    est.offset_ms -= lead_ms
    est.lags_ms = est.lags_ms - lead_ms
    return est
