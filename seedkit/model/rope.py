"""Rotary position embeddings (RoPE): 3D for video tokens, 1D for audio, and a shared clock.

RoPE rotates each pair of channels of a query or key by an angle `position * frequency`, so
the dot product q.k depends only on the *difference* of positions. Three uses here:

* video self-attention: positions (frame, row, col) of the patched latent grid; the head's
  channel pairs are split in three groups, one per axis (`video_grid_positions`, `angles_3d`);
* audio self-attention: the latent index (`angles_1d`);
* the bridge: both streams on one clock. `token_times_s` gives each token's time in seconds
  (every token of a video latent frame shares that frame's time; audio latents tick at their
  own rate). Multiplying by `time_scale` (default: the audio latent rate) expresses the clock
  in audio-latent periods, so the fastest frequency resolves neighbouring audio latents.

All angle tensors have shape [N, head_dim / 2] and broadcast over batch and heads. The angles
depend only on the positions, never on the layer, so a forward pass turns each set of angles into
a `RopeTable` (their cos and sin) once and every attention that rotates by them reuses it.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


def rope_frequencies(num_pairs: int, theta: float = 10000.0) -> torch.Tensor:
    """Frequencies [num_pairs] in radians per position unit: theta^(-k / num_pairs), k = 0.."""
    return theta ** (-torch.arange(num_pairs, dtype=torch.float32) / max(num_pairs, 1))


def angles_1d(positions: torch.Tensor, head_dim: int, theta: float = 10000.0) -> torch.Tensor:
    """positions [N] (any unit, float) -> angles [N, head_dim / 2]."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head dimension, got {head_dim}")
    freqs = rope_frequencies(head_dim // 2, theta).to(positions.device)
    return positions.float()[:, None] * freqs[None, :]


def split_pairs_3d(num_pairs: int) -> tuple[int, int, int]:
    """How many channel pairs each axis (t, h, w) gets; time takes the remainder."""
    hw = num_pairs // 3
    return num_pairs - 2 * hw, hw, hw


def angles_3d(positions: torch.Tensor, head_dim: int, theta: float = 10000.0) -> torch.Tensor:
    """positions [N, 3] (frame, row, col) -> angles [N, head_dim / 2], one pair group per axis."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head dimension, got {head_dim}")
    groups = split_pairs_3d(head_dim // 2)
    parts = []
    for axis, pairs in enumerate(groups):
        if pairs:
            parts.append(positions[:, axis].float()[:, None] * rope_frequencies(pairs, theta).to(positions.device))
    return torch.cat(parts, dim=-1)


def video_grid_positions(frames: int, rows: int, cols: int) -> torch.Tensor:
    """Token positions [frames * rows * cols, 3] as (frame, row, col), frame-major order."""
    t, h, w = torch.meshgrid(torch.arange(frames), torch.arange(rows), torch.arange(cols), indexing="ij")
    return torch.stack([t, h, w], dim=-1).reshape(-1, 3)


def token_times_s(num_steps: int, rate: float, tokens_per_step: int = 1) -> torch.Tensor:
    """Time in seconds [num_steps * tokens_per_step] of each token of a stream.

    A stream advances `rate` steps per second (video: latent frames per second, every one of its
    `tokens_per_step` spatial tokens shares the frame's time; audio: latents per second, one token
    per step). Token order is step-major, like the patchified sequences. A latent summarises the
    span [k / rate, (k + 1) / rate): its time is the middle of that span, (k + 1/2) / rate, so
    the streams agree whatever their rates (span starts would put a 4-per-second video latent
    105 ms earlier on the clock than the 25-per-second audio latents of the same instant).
    """
    if rate <= 0:
        raise ValueError(f"rate must be positive (steps per second), got {rate}")
    steps = (torch.arange(num_steps, dtype=torch.float64) + 0.5) / rate
    return steps.repeat_interleave(tokens_per_step).float()


class RopeTable(NamedTuple):
    """cos and sin [N, D / 2] of a set of RoPE angles: built once per forward, shared by layers."""

    cos: torch.Tensor  # [N, D / 2]
    sin: torch.Tensor  # [N, D / 2]

    @classmethod
    def from_angles(cls, angles: torch.Tensor) -> RopeTable:
        return cls(angles.cos(), angles.sin())


def apply_rope(x: torch.Tensor, angles: torch.Tensor | RopeTable) -> torch.Tensor:
    """Rotate x [B, heads, N, D] by angles [N, D / 2] (pairs are (i, i + D/2), 'rotate half').

    `angles` may be a precomputed `RopeTable` of the same angles: the result is identical.
    """
    table = angles if isinstance(angles, RopeTable) else RopeTable.from_angles(angles)
    cos, sin = table.cos.to(x.dtype), table.sin.to(x.dtype)
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def rotation_similarity(positions_a: torch.Tensor, positions_b: torch.Tensor, head_dim: int,
                        theta: float = 10000.0) -> torch.Tensor:
    """How alike the rotations at two sets of 1D positions are: [Na, Nb] in [-1, 1].

    It is the RoPE attention score of a query and key that are the same all-ones vector, divided
    by its maximum: mean over channel pairs of cos((p_a - p_b) * frequency). It equals 1 exactly
    when the positions coincide, which is what the aligned clock is for.
    """
    a = angles_1d(positions_a, head_dim, theta)
    b = angles_1d(positions_b, head_dim, theta)
    return torch.cos(a[:, None, :] - b[None, :, :]).mean(dim=-1)
