"""How do the towers talk? A bidirectional, gated cross-modal attention (the bridge).

In a bridged block, video tokens query audio tokens and audio tokens query video tokens:

    video' = video + g_av * Attn(q = norm(video), kv = norm(audio))     audio -> video
    audio' = audio + g_va * Attn(q = norm(audio), kv = norm(video))     video -> audio

* Both directions read the *pre-exchange* snapshots (`video`, `audio` above), so the result does
  not depend on which direction runs first, and neither stream sees a half-updated partner.
* The gates g_av, g_va are learnable scalars initialised to zero: training starts from two
  independent towers and opens the channel only as far as the loss asks for it. With a gate at
  exactly zero the receiving stream is bit-for-bit independent of the other one.
* Queries and keys are RMS-normalised; keys/values are projected from the other tower's width.
* Both streams rotate by a temporal RoPE on one clock (positions supplied by the caller: seconds
  times a scale when aligned, indices otherwise), so a video token and the audio tokens of the
  same instant get the same rotation.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .attention import Attention, RMSNorm
from .rope import RopeTable, angles_1d


class BridgeRope(NamedTuple):
    """The bridge's RoPE tables for one pair of position sets, at the head width of each direction.

    Every bridge of a model has the same head widths and positions, so `DualTowerDiT` builds this
    once per forward (`BridgeAttention.rope`) and hands it to every bridge slot.
    """

    video_q: RopeTable  # video positions at the video head width (audio -> video queries)
    audio_k: RopeTable  # audio positions at the video head width (its keys)
    audio_q: RopeTable  # audio positions at the audio head width (video -> audio queries)
    video_k: RopeTable  # video positions at the audio head width (its keys)


class BridgeAttention(nn.Module):
    """Video [B, Nv, video_dim] <-> audio [B, Na, audio_dim] exchange with zero-initialised gates."""

    def __init__(self, video_dim: int, audio_dim: int, video_heads: int, audio_heads: int,
                 rope_theta: float = 10000.0):
        super().__init__()
        self.rope_theta = rope_theta
        self.video_norm, self.audio_norm = RMSNorm(video_dim), RMSNorm(audio_dim)
        self.audio_to_video = Attention(video_dim, video_heads, context_dim=audio_dim)  # video queries
        self.video_to_audio = Attention(audio_dim, audio_heads, context_dim=video_dim)  # audio queries
        self.gate_audio_to_video = nn.Parameter(torch.zeros(()))  # 0: video starts deaf to audio
        self.gate_video_to_audio = nn.Parameter(torch.zeros(()))  # 0: audio starts blind to video

    def rope(self, video_pos: torch.Tensor, audio_pos: torch.Tensor) -> BridgeRope:
        """RoPE tables of video_pos [Nv] and audio_pos [Na] (shared clock) for both directions."""
        hd_v, hd_a = self.audio_to_video.head_dim, self.video_to_audio.head_dim
        tables: dict[tuple[str, int], RopeTable] = {}  # equal head widths share their tables

        def table(name: str, pos: torch.Tensor, head_dim: int) -> RopeTable:
            if (name, head_dim) not in tables:
                tables[name, head_dim] = RopeTable.from_angles(angles_1d(pos, head_dim, self.rope_theta))
            return tables[name, head_dim]

        return BridgeRope(video_q=table("video", video_pos, hd_v), audio_k=table("audio", audio_pos, hd_v),
                          audio_q=table("audio", audio_pos, hd_a), video_k=table("video", video_pos, hd_a))

    def forward(self, video: torch.Tensor, audio: torch.Tensor, video_pos: torch.Tensor,
                audio_pos: torch.Tensor, capture: bool = False, rope: BridgeRope | None = None):
        """video [B, Nv, Dv], audio [B, Na, Da]; video_pos [Nv], audio_pos [Na] on the shared clock.

        `rope`: the tables `self.rope(video_pos, audio_pos)` if the caller already built them
        (the positions are then not read again). Returns (video', audio', maps) where maps is {}
        or, with `capture`, {"audio_to_video": [B, Hv, Nv, Na], "video_to_audio": [B, Ha, Na, Nv]}.
        """
        if rope is None:
            rope = self.rope(video_pos, audio_pos)
        v_in, a_in = self.video_norm(video), self.audio_norm(audio)  # pre-exchange snapshots
        to_video, w_av = self.audio_to_video(v_in, a_in, q_angles=rope.video_q, k_angles=rope.audio_k,
                                             return_weights=capture)
        to_audio, w_va = self.video_to_audio(a_in, v_in, q_angles=rope.audio_q, k_angles=rope.video_k,
                                             return_weights=capture)
        maps = {"audio_to_video": w_av, "video_to_audio": w_va} if capture else {}
        return (video + self.gate_audio_to_video * to_video,
                audio + self.gate_video_to_audio * to_audio, maps)


def attention_over_time(weights: torch.Tensor, video_tokens_per_frame: int,
                        direction: str = "audio_to_video") -> torch.Tensor:
    """Bridge weights -> a [T', A'] map: rows are video latent frames, columns audio latents.

    direction "audio_to_video": weights [B, heads, Nv, Na] (video queries), averaged over the
    spatial tokens of each frame. "video_to_audio": weights [B, heads, Na, Nv] (audio queries),
    summed over the keys of each frame and transposed. Batch and heads are averaged.
    """
    w = weights.float().mean(dim=(0, 1))  # [Nq, Nk]
    if direction == "audio_to_video":
        return w.unflatten(0, (-1, video_tokens_per_frame)).mean(dim=1)
    if direction == "video_to_audio":
        return w.unflatten(1, (-1, video_tokens_per_frame)).sum(dim=2).T
    raise ValueError(f"direction must be 'audio_to_video' or 'video_to_audio', got {direction!r}")
