"""A realism critic: a small 3-D CNN that tells a real bounce clip from a joint model's own sample.

    video [B, T, 3, H, W] in [-1, 1] -> 4 blocks Conv3d(3x3x3) + GroupNorm + GELU
        (widths w, 2w, 4w, 4w; the last three halve time, height and width)
    -> mean over (t, y, x) -> Linear -> logit [B]        (> 0: looks real)

It is a discriminator used only to pick (Azadi et al. 2019, "Discriminator Rejection Sampling"):
trained once, after the joint model, on training scenes (`seedkit fit --config
seedkit/configs/realism_bounce.yaml --data.joint C`), real clips through the joint model's video
tokenizer and decoder (so the decoder's blur is no cue) against the joint model's samples of the
same captions. What gives a sample away is what no real clip does: an object that smears or
changes size, one that turns in mid-air. `seedkit/rerank.py` weighs its logit beside the sync
critic's score when it keeps the best of N candidates. It never sees a test scene or a soundtrack,
and knows nothing of the event detectors that score the demo.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

KIND = "realism-critic"


@dataclass
class RealismConfig:
    width: int = 32  # channels of the first block (then 2x, 4x, 4x)
    groups: int = 8  # GroupNorm groups in every block
    fps: float = 16.0  # frame rate of the clips it was trained on (bounce)
    num_frames: int = 32  # frames per clip it was trained on
    size: int = 32  # frame height and width it was trained on


class RealismCritic(nn.Module):
    """video [B, T, 3, H, W] in [-1, 1] -> logit [B] that the clip is real (not generated)."""

    def __init__(self, config: RealismConfig = RealismConfig()):
        super().__init__()
        self.config = config
        w, g = config.width, config.groups

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1), nn.GroupNorm(g, cout), nn.GELU())

        self.blocks = nn.Sequential(block(3, w, 1), block(w, 2 * w, 2), block(2 * w, 4 * w, 2), block(4 * w, 4 * w, 2))
        self.head = nn.Linear(4 * w, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if video.ndim != 5 or video.shape[2] != 3:
            raise ValueError(f"expected video [B, T, 3, H, W], got {tuple(video.shape)}")
        h = self.blocks(video.transpose(1, 2))  # [B, 4w, T/8, H/8, W/8]
        return self.head(h.mean((2, 3, 4)))[:, 0]

    def check_clips(self, fps: float, num_frames: int, size: int) -> None:
        """ValueError unless clips of this format are what the critic was trained on."""
        c = self.config
        if abs(fps - c.fps) > 0.01 or num_frames != c.num_frames or size != c.size:
            raise ValueError(f"the realism critic was trained on {c.num_frames} frames of {c.size}x{c.size} at "
                             f"{c.fps:g} fps; these clips are {num_frames} frames of {size}x{size} at {fps:g} fps "
                             "(train one on this clip format: seedkit/configs/realism_bounce.yaml)")


def save_realism(model: RealismCritic, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write {"kind", "config", "state_dict", "meta"} (fp16 weights), atomically."""
    from ..tokenizers.checkpoint import save_weights

    return save_weights(model, KIND, path, meta=meta)


def load_realism(path: str | os.PathLike, map_location: str = "cpu") -> RealismCritic:
    """Load a realism critic checkpoint (eval mode). FileNotFoundError / ValueError name the file."""
    from ..tokenizers.checkpoint import load_weights

    return load_weights(path, KIND, "realism critic",
                        "`seedkit fit --config seedkit/configs/realism_bounce.yaml --data.joint C`",
                        lambda c: RealismCritic(RealismConfig(**c)), map_location)
