"""Seams between latent frames: does a generated video change more where one latent frame ends?

The video tokenizer folds every 4 frames into one latent frame. Inside a latent frame the decoder
draws smooth motion; consecutive latent frames agree only if the generator made them agree. A joint
model that has not learned temporal coherence yet makes objects jump, fade or swap exactly at the
seams (frame 3 -> 4, 7 -> 8, ...), and the impact detector reads each jump as a bounce.

`seam_report(frames)` measures, for flat-background clips (the `bounce` world), the fraction of
pixels whose foreground/background state flips between consecutive frames, separately for the
steps across a seam and the steps inside a latent frame. Real clips change as much at seams as
elsewhere (ratio ~1: 0.99 on 16 bounce scenes); a ratio well above 1 is the signature of
incoherent latent frames (3.5 for clips spliced from 4-frame chunks of different scenes).

    frames uint8 [T, H, W, 3]  ->  SeamReport(seam_change, inner_change, ratio)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["SeamReport", "seam_report"]


@dataclass
class SeamReport:
    seam_change: float  # mean fraction of pixels flipping fg/bg across a latent-frame seam
    inner_change: float  # the same for steps inside a latent frame
    ratio: float | None  # seam_change / inner_change (1 = no seams; None when nothing changes inside)
    n_clips: int

    def as_dict(self) -> dict:
        return asdict(self)


def _flips(frames: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 [T, H, W, 3] -> [T - 1] fraction of pixels whose fg/bg state differs from the next frame."""
    f = frames.astype(np.float32)
    background = np.median(f.reshape(-1, 3), axis=0)  # flat background: the commonest colour
    fg = np.abs(f - background).sum(-1) > threshold  # [T, H, W]
    return (fg[1:] != fg[:-1]).reshape(len(f) - 1, -1).mean(axis=1)


def seam_report(clips, frames_per_latent: int = 4, threshold: float = 60.0) -> SeamReport:
    """clips: one uint8 video [T, H, W, 3] or a list of them (same T not required).

    frames_per_latent: the tokenizer's time compression (4 in the kit); threshold: summed RGB
    distance (0-765) from the background that makes a pixel foreground.
    """
    if isinstance(clips, np.ndarray) and clips.ndim == 4:
        clips = [clips]
    if frames_per_latent < 2:
        raise ValueError(f"frames_per_latent must be >= 2 to have steps inside a latent frame, "
                         f"got {frames_per_latent}")
    if len(clips) == 0:
        raise ValueError("seam_report needs at least one clip, got none")
    seam, inner = [], []
    for frames in clips:
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected uint8 frames [T, H, W, 3], got {frames.dtype} {frames.shape}")
        if len(frames) <= frames_per_latent:
            raise ValueError(f"a clip of {len(frames)} frames has no seam between latent frames of "
                             f"{frames_per_latent}")
        for step, change in enumerate(_flips(frames, threshold)):  # step i: frame i -> i + 1
            (seam if step % frames_per_latent == frames_per_latent - 1 else inner).append(change)
    s, i = float(np.mean(seam)), float(np.mean(inner))
    return SeamReport(seam_change=s, inner_change=i, ratio=s / i if i > 0 else None, n_clips=len(clips))
