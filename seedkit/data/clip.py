"""How a clip is described (ClipSpec) and held (the sample dict every dataset returns).

A sample is a plain dict so that the default DataLoader machinery and Lightning move it around
without custom classes:

    video   float32 [T, C, H, W] in [-1, 1]   (C = 3, RGB)
    audio   float32 [1, N] in [-1, 1]          (mono, N = T / fps * sample_rate)
    caption str                                ("red ball blue ball", "bin blue at f two now")
    events  list[(time_s, label)]              (ground-truth sound events; words for GRID)
    id      str                                (stable identifier of the clip)

`AVDataModule` collates a list of samples into a batch (`video [B,T,C,H,W]`, `audio [B,1,N]`,
`text_ids [B,L]`, `text_mask [B,L]` with True on real tokens).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClipSpec:
    """Size and rates of a clip. Defaults are the built-in `bounce` clip (DESIGN.md)."""

    fps: float = 16.0  # video frames per second
    num_frames: int = 32  # frames per clip (32 at 16 fps = 2 s)
    size: int = 32  # frames are size x size RGB
    sample_rate: int = 16000  # audio samples per second, mono

    def __post_init__(self) -> None:
        for name in ("fps", "num_frames", "size", "sample_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ClipSpec.{name} must be positive, got {getattr(self, name)!r}")

    @property
    def duration_s(self) -> float:
        """Clip length in seconds."""
        return self.num_frames / self.fps

    @property
    def num_samples(self) -> int:
        """Audio samples covering exactly `num_frames` frames."""
        return round(self.duration_s * self.sample_rate)

    @property
    def samples_per_frame(self) -> float:
        return self.sample_rate / self.fps


BOUNCE_SPEC = ClipSpec()  # 32x32, 16 fps, 32 frames (2 s), 16 kHz
GRID_SPEC = ClipSpec(fps=25.0, num_frames=72, size=64, sample_rate=16000)  # 2.88 s mouth crops


def frames_to_video(frames) -> torch.Tensor:
    """uint8 frames [T, H, W, 3] (numpy or tensor) -> float video [T, 3, H, W] in [-1, 1]."""
    x = torch.as_tensor(frames)
    if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames [T, H, W, 3], got {x.dtype} {tuple(x.shape)}")
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def video_to_frames(video: torch.Tensor) -> torch.Tensor:
    """float video [T, 3, H, W] in [-1, 1] -> uint8 frames [T, H, W, 3] (clamped)."""
    if video.ndim != 4 or video.shape[1] != 3:
        raise ValueError(f"expected video [T, 3, H, W], got {tuple(video.shape)}")
    x = video.detach().float().cpu().add(1.0).mul(127.5).round().clamp(0, 255)
    return x.to(torch.uint8).permute(0, 2, 3, 1).contiguous()
