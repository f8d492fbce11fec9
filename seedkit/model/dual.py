"""DualTowerDiT: a video tower and an audio tower that talk through bridges.

    video latents [B, T', C, H', W'] --patchify--> video tokens --blocks------+--> video velocity
                                                                 bridge | ^   |
    audio latents [B, A', C_a]       ----------->  audio tokens --blocks------+--> audio velocity
    text ids [B, L] -> embeddings (+ a learned null token) -> cross-attention in every block

Each modality has its own timestep (t = 1 pure noise, t = 0 clean data), so one stream can be
given clean (conditioning) while the other is generated. `bridge=False` runs both towers alone:
the "bridge off" prediction used by modality guidance, identical to placement "none".
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from ..typed import check_types
from .attention import set_attention_backend
from .bridge import BridgeAttention
from .gaussian import GaussianFlow
from .rope import RopeTable, token_times_s
from .towers import AudioTower, VideoTower, patchify_video


@dataclass
class DualTowerConfig:
    """Shapes, widths and bridge settings of the dual-tower model (defaults: the bounce preset)."""

    video_channels: int = 16  # C: channels of a video latent (the video autoencoders give 16)
    video_frames: int = 8  # T': latent frames per clip (32 frames / 4)
    video_height: int = 8  # H': latent rows (32 pixels / 4)
    video_width: int = 8  # W': latent columns (32 pixels / 4)
    video_patch: int = 2  # spatial patch size p: each token covers p x p latent positions
    audio_channels: int = 16  # C_a: channels of an audio latent (audio autoencoder)
    audio_length: int = 50  # A': audio latents per clip (2 s at 25 per s)
    video_latent_fps: float = 4.0  # latent frames per second (16 fps / 4)
    audio_latent_rate: float = 25.0  # audio latents per second (100 mel frames/s / 4)
    video_dim: int = 128  # video tower width
    video_depth: int = 4  # video tower blocks
    video_heads: int = 4  # video attention heads (head dim 32)
    audio_dim: int = 96  # audio tower width: narrower than video (asymmetric towers)
    audio_depth: int = 4  # audio tower blocks
    audio_heads: int = 4  # audio attention heads (head dim 24)
    mlp_ratio: float = 4.0  # MLP hidden width / tower width
    video_grid_conv: int = 0  # k > 0: depthwise k^3 conv of the video tokens on their grid before each block
    video_abs_pos: bool = False  # learned absolute (frame, row, col) embeddings added to the video tokens
    text_dim: int = 64  # width of the text token embeddings both towers attend to
    vocab_size: int = 64  # text vocabulary size (ids >= this are an error)
    max_text_len: int = 16  # longest text (words) the positional table covers
    bridge: str = "all"  # bridge placement: all | first:N | every:k | none
    aligned_rope: bool = True  # bridge RoPE on the shared clock in seconds (False: token indices)
    rope_theta: float = 10000.0  # RoPE base: frequencies theta^(-k / pairs)
    bridge_time_scale: float | None = None  # bridge positions = time_s * this (None: audio_latent_rate)
    attention: str = "sdpa"  # attention kernel: sdpa (fused) | math (explicit softmax, the naive baseline)
    # What the towers' heads predict: "velocity" (eps - x0, directly), "data" (the clean latents
    # x0, turned into the velocity (x_t - x0) / max(t, t_min) before returning: x-prediction, JiT)
    # or "preconditioned" (below); the loss and the sampler see velocities in every case.
    # "preconditioned" (EDM's preconditioning, Karras et al. 2022, on the straight path): the towers
    # read c_in x_t (unit variance at every t) and the velocity is c_skip x_t + c_out F, c_skip x_t
    # the best linear guess of the velocity from x_t (`precondition`), so near t = 1 the network need
    # not carry the noise through itself to return it
    prediction: str = "velocity"
    data_t_min: float = 0.05  # with prediction "data": the smallest t dividing x_t - x0 (bounds 1 / t)
    sigma_data: float = 1.0  # with prediction "preconditioned": RMS of the latents (the tokenizers make it 1)
    # Self-conditioning (Chen et al. 2022, analog bits): each tower also reads an earlier estimate
    # of the clean latents (the sampler's previous step; in training a first pass without
    # gradients, `FlowConfig.p_self_cond`), added to its input tokens through a zero-initialised
    # projection; no estimate reads as zeros
    self_condition: bool = False
    # Pooled text in the adaLN conditioning (DiT's class embedding, SD3's pooled caption): the masked
    # mean of the text tokens, through a small MLP whose last layer starts at zero, is added to each
    # tower's timestep embedding, so every block's modulation knows the caption, not only its
    # cross-attention
    pooled_text: bool = False
    # Motion head (Track4Gen, REPA): an MLP on the video tokens after block `motion_head_block` predicts
    # `motion_head` numbers per token, where the objects are and how they move
    # (`seedkit.data.motion.motion_targets`; `FlowConfig.motion_weight` weighs its loss). Training
    # only: the velocities do not read it. 0: no head
    motion_head: int = 0
    motion_head_block: int = 2  # the video block whose output the head reads (1 = the first)
    # Gaussian skip (`seedkit.model.gaussian`): the velocity of a Gaussian fit of each stream's
    # latents (rank: principal directions kept; the rest isotropic) is added to the towers' output,
    # so at the start the model is the best linear denoiser and the network learns what it misses.
    # `JointAV` fits it on `gaussian_fit_clips` training clips when training starts. 0: off (on
    # bounce it did not help, at every t or above t 0.5: docs/joint_bounce.md)
    gaussian_skip: int = 0
    gaussian_fit_clips: int = 4096  # training clips the Gaussian skip is fitted on
    # None: the skip is added at every t; a in [0, 1): its weight rises linearly from 0 at t = a to
    # 1 at t = 1, so below a the network predicts the velocity alone, as without the skip
    gaussian_skip_from: float | None = None

    def __post_init__(self) -> None:
        check_types(self)  # a YAML slip ("video_dim: wide") names the option, not a torch layer

    @classmethod
    def bounce(cls, video_channels: int = 16, audio_channels: int = 16, **overrides) -> DualTowerConfig:
        """32 frames of 32x32 at 16 fps (2 s) -> 8 x C x 8 x 8 video latents; 50 audio latents."""
        base = {"video_channels": video_channels, "audio_channels": audio_channels, "video_frames": 8,
                    "video_height": 8, "video_width": 8, "audio_length": 50, "video_latent_fps": 16 / 4,
                    "audio_latent_rate": 25.0}
        return cls(**{**base, **overrides})

    @classmethod
    def grid(cls, video_channels: int = 16, audio_channels: int = 16, **overrides) -> DualTowerConfig:
        """72 frames of 64x64 at 25 fps (2.88 s) -> 18 x C x 8 x 8 video latents; 72 audio latents.

        Wider than bounce: 256 / 192 with 4 + 4 blocks. At width 128 a CPU training step used
        only 0.27 of the measured fp32 matmul peak (a bare transformer of that width: 0.30); at
        256 / 192 it uses 0.44-0.49 eager and 0.54 with torch.compile (benchmarks/results/analysis.md):
        inner dimensions of 128 and 32-channel heads leave the matmuls too small to be efficient,
        so the wider model costs 2.0-2.4x the CPU time per step for 3.5x the FLOPs.
        """
        base = {"video_channels": video_channels, "audio_channels": audio_channels, "video_frames": 18,
                    "video_height": 8, "video_width": 8, "audio_length": 72, "video_latent_fps": 25 / 4,
                    "audio_latent_rate": 25.0, "max_text_len": 8,
                    "video_dim": 256,  # video tower width (the reference skeleton width)
                    "video_heads": 4,  # head dim 64
                    "audio_dim": 192,  # audio tower narrower than video (asymmetric towers)
                    "audio_heads": 4}  # head dim 48
        return cls(**{**base, **overrides})

    @classmethod
    def from_dict(cls, values: dict, source: str = "config") -> DualTowerConfig:
        """Build from a mapping; an optional `preset: bounce|grid` key picks the starting point."""
        values = dict(values)
        preset = values.pop("preset", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{source}: unknown model option(s) {unknown}; expected some of {sorted(known)}")
        if preset is None:
            return cls(**values)
        if preset not in ("bounce", "grid"):
            raise ValueError(f"{source}: preset must be 'bounce' or 'grid', got {preset!r}")
        return getattr(cls, preset)(**values)

    @classmethod
    def from_yaml(cls, path) -> DualTowerConfig:
        """Read a model YAML: either DualTowerConfig fields (with optional `preset`) at the top
        level, or a joint training config whose `model.init_args` has `clip` (the preset),
        `vocabulary` and `model` (field overrides). Latent shapes then come from the preset."""
        from ..yamlfile import read_yaml

        data = read_yaml(path, "model config")
        joint = data.get("model")
        if isinstance(joint, dict):
            args = joint.get("init_args", joint)
            values = {"preset": args.get("clip", "bounce"), **(args.get("model") or {})}
            if args.get("vocabulary") and "vocab_size" not in values:
                values["vocab_size"] = len(set(args["vocabulary"])) + 2  # + <pad>, <unk>
            return cls.from_dict(values, source=f"{path}: model.init_args")
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def video_tokens_per_frame(self) -> int:
        return (self.video_height // self.video_patch) * (self.video_width // self.video_patch)

    @property
    def video_tokens_per_s(self) -> float:
        return self.video_latent_fps * self.video_tokens_per_frame

    @property
    def audio_tokens_per_s(self) -> float:
        return self.audio_latent_rate

    @property
    def duration_s(self) -> float:
        return self.video_frames / self.video_latent_fps


def data_to_velocity(x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, t_min: float) -> torch.Tensor:
    """The velocity of the straight path through x_t that ends at x0: (x_t - x0) / max(t, t_min).

    x_t, x0 [B, F, ...]; t [B] (one level per sample) or [B, F] (one per frame / audio latent).
    On x_t = (1 - t) x0 + t eps it is exactly eps - x0 wherever t >= t_min.
    """
    return (x_t - x0) / broadcast_time(t, x_t).clamp(min=t_min)


def precondition(t: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(c_in, c_skip, c_out) at t (any shape) for x_t = (1 - t) x0 + t eps, x0 of RMS sigma, eps N(0, 1).

    With s2 = (1 - t)^2 sigma^2 + t^2 the variance of x_t: c_in = 1 / sqrt(s2) scales x_t to unit
    variance; c_skip = (t - (1 - t) sigma^2) / s2 is the least-squares factor of the velocity
    eps - x0 on x_t; c_out = sigma / sqrt(s2) is the std of what it leaves, so the network's target
    (v - c_skip x_t) / c_out has unit variance. At t = 1: (1, 1, sigma); at t = 0: (1 / sigma, -1, 1).
    """
    s2 = (1 - t) ** 2 * sigma ** 2 + t ** 2
    c_in = s2.rsqrt()
    return c_in, (t - (1 - t) * sigma ** 2) / s2, sigma * c_in


def velocity_to_data(x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The clean latents x0 = x_t - t v that a velocity v points to from x_t (shapes as in
    `data_to_velocity`): the estimate a self-conditioning model is fed back."""
    return x_t - broadcast_time(t, x_t) * v


def broadcast_time(t: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """t (scalar, [B], or [B, F] per frame) reshaped to [B, 1, ..., 1] / [B, F, 1, ..., 1] so that
    it broadcasts over x [B, F, ...]."""
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if t.dim() == 0:
        return t
    if t.shape[0] != x.shape[0] or (t.dim() == 2 and t.shape[1] != x.shape[1]):
        raise ValueError(f"timesteps of shape {tuple(t.shape)} do not fit latents of shape {tuple(x.shape)}")
    return t.reshape(*t.shape, *([1] * (x.dim() - t.dim())))


def pooled_text_mlp(text_dim: int, dim: int) -> nn.Sequential:
    """text_dim -> dim MLP whose last layer is zero-initialised (adds nothing until trained)."""
    mlp = nn.Sequential(nn.Linear(text_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
    nn.init.zeros_(mlp[-1].weight)
    nn.init.zeros_(mlp[-1].bias)
    return mlp


def pool_text(text: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the kept text tokens: text [B, L, D], mask [B, L] bool (True = kept; `encode_text`
    always keeps its null token, so no row is empty) -> [B, D]."""
    w = mask.to(text.dtype).unsqueeze(-1)
    return (text * w).sum(1) / w.sum(1)


def per_frame_like(c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """c [B, D] shaped to add to a conditioning `like` [B, D] or [B, F, D] (a timestep per frame)."""
    return c if like.dim() == 2 else c.unsqueeze(1)


def bridge_layers(placement: str, num_slots: int) -> list[int]:
    """Which bridge slots (0-based, one after each paired block) carry a bridge.

    "all" every slot; "none" no slot; "first:N" slots 0..N-1; "every:k" slots 0, k, 2k, ...
    """
    p = placement.strip().lower()
    if p == "all":
        return list(range(num_slots))
    if p == "none":
        return []
    kind, _, arg = p.partition(":")
    if kind in ("first", "every") and arg.isdigit() and int(arg) > 0:
        n = int(arg)
        return list(range(min(n, num_slots))) if kind == "first" else list(range(0, num_slots, n))
    raise ValueError(f"bridge placement must be 'all', 'none', 'first:N' or 'every:k' (N, k >= 1), "
                     f"got {placement!r}")


@dataclass
class DualOutput:
    """Velocities of both streams, and bridge attention maps when captured."""

    video: torch.Tensor  # [B, T', C, H', W']
    audio: torch.Tensor  # [B, A', C_a]
    attention: dict[str, torch.Tensor] = field(default_factory=dict)  # "bridge{i}/{direction}" -> weights
    motion: torch.Tensor | None = None  # [B, N_video_tokens, motion_head] with a motion head


class DualTowerDiT(nn.Module):
    """Two asymmetric DiT towers joined by bridges; predicts a rectified-flow velocity for each."""

    def __init__(self, config: DualTowerConfig | None = None, verbose: bool = False):
        super().__init__()
        cfg = self.config = config or DualTowerConfig()
        if cfg.prediction not in ("velocity", "data", "preconditioned"):
            raise ValueError(f"model option prediction must be 'velocity', 'data' or 'preconditioned', "
                             f"got {cfg.prediction!r}")
        self.video = VideoTower(cfg.video_channels, cfg.video_patch, cfg.video_dim, cfg.video_depth,
                                cfg.video_heads, cfg.text_dim, cfg.mlp_ratio, cfg.rope_theta, cfg.video_grid_conv,
                                (cfg.video_frames, cfg.video_height // cfg.video_patch,
                                 cfg.video_width // cfg.video_patch) if cfg.video_abs_pos else None)
        self.audio = AudioTower(cfg.audio_channels, cfg.audio_dim, cfg.audio_depth, cfg.audio_heads,
                                cfg.text_dim, cfg.mlp_ratio, cfg.rope_theta)
        self.video_self_cond = self.audio_self_cond = None
        if cfg.self_condition:  # zero at the start: the model begins as one without self-conditioning
            self.video_self_cond = nn.Linear(cfg.video_channels * cfg.video_patch ** 2, cfg.video_dim, bias=False)
            self.audio_self_cond = nn.Linear(cfg.audio_channels, cfg.audio_dim, bias=False)
            nn.init.zeros_(self.video_self_cond.weight)
            nn.init.zeros_(self.audio_self_cond.weight)
        self.video_text_pool = self.audio_text_pool = None
        if cfg.pooled_text:  # zero at the start: the model begins as one without pooled text
            self.video_text_pool, self.audio_text_pool = (pooled_text_mlp(cfg.text_dim, d)
                                                          for d in (cfg.video_dim, cfg.audio_dim))
        self.motion_head = None
        if cfg.motion_head:
            if not 1 <= cfg.motion_head_block <= cfg.video_depth:
                raise ValueError(f"model option motion_head_block must be in 1..video_depth={cfg.video_depth}, "
                                 f"got {cfg.motion_head_block}")
            self.motion_head = nn.Sequential(nn.LayerNorm(cfg.video_dim), nn.Linear(cfg.video_dim, cfg.video_dim),
                                             nn.SiLU(), nn.Linear(cfg.video_dim, cfg.motion_head))
        self.video_gaussian = self.audio_gaussian = None
        if cfg.gaussian_skip:
            if cfg.gaussian_skip_from is not None and not 0 <= cfg.gaussian_skip_from < 1:
                raise ValueError(f"model option gaussian_skip_from must be in [0, 1) or None, "
                                 f"got {cfg.gaussian_skip_from}")
            if cfg.prediction != "velocity":
                raise ValueError(f"model option gaussian_skip adds to a velocity: it needs prediction "
                                 f"'velocity', got {cfg.prediction!r}")
            video_shape = (cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width)
            audio_shape = (cfg.audio_length, cfg.audio_channels)
            self.video_gaussian, self.audio_gaussian = (
                GaussianFlow(shape, min(cfg.gaussian_skip, math.prod(shape))) for shape in (video_shape, audio_shape))
        self.text_embed = nn.Embedding(cfg.vocab_size, cfg.text_dim)
        self.text_pos = nn.Parameter(torch.randn(cfg.max_text_len, cfg.text_dim) * 0.02)
        # Always attended to, so a text dropped for classifier-free guidance (mask all False)
        # still gives every query one valid key: no empty softmax, no NaN.
        self.text_null = nn.Parameter(torch.randn(1, cfg.text_dim) * 0.02)
        # Towers of different depth pair up at evenly spaced points; one bridge slot per pair.
        self.num_slots = min(cfg.video_depth, cfg.audio_depth)
        self.video_ends = [round((i + 1) * cfg.video_depth / self.num_slots) for i in range(self.num_slots)]
        self.audio_ends = [round((i + 1) * cfg.audio_depth / self.num_slots) for i in range(self.num_slots)]
        self.bridge_slots = bridge_layers(cfg.bridge, self.num_slots)
        self.bridges = nn.ModuleDict({
            str(i): BridgeAttention(cfg.video_dim, cfg.audio_dim, cfg.video_heads, cfg.audio_heads, cfg.rope_theta)
            for i in self.bridge_slots})
        set_attention_backend(self, cfg.attention)
        if verbose:
            print(self.describe())

    # ------------------------------------------------------------------------------------------
    def bridge_positions(self, video_frames: int, audio_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Temporal positions [Nv], [Na] of the bridge RoPE.

        Aligned: time in seconds on one clock (times `bridge_time_scale`, default the audio latent
        rate, so audio latents sit at 0.5, 1.5, 2.5, ... and a video frame at its instant in between).
        Not aligned: the raw index of the latent frame / audio latent (the ablation).
        """
        cfg = self.config
        tpf = cfg.video_tokens_per_frame
        if not cfg.aligned_rope:
            return token_times_s(video_frames, 1.0, tpf), token_times_s(audio_length, 1.0)
        scale = cfg.bridge_time_scale or cfg.audio_latent_rate
        return (token_times_s(video_frames, cfg.video_latent_fps, tpf) * scale,
                token_times_s(audio_length, cfg.audio_latent_rate) * scale)

    def encode_text(self, text_ids: torch.Tensor, text_mask: torch.Tensor):
        """text_ids [B, L] long, text_mask [B, L] bool -> tokens [B, 1 + L, text_dim], mask [B, 1 + L]."""
        b, length = text_ids.shape
        if length > self.config.max_text_len:
            raise ValueError(f"text has {length} tokens; max_text_len is {self.config.max_text_len}")
        x = self.text_embed(text_ids) + self.text_pos[:length]
        null = self.text_null.expand(b, 1, -1)
        keep = torch.ones(b, 1, dtype=torch.bool, device=text_mask.device)
        return torch.cat([null, x], dim=1), torch.cat([keep, text_mask.bool()], dim=1)

    def forward(self, video_latents: torch.Tensor, audio_latents: torch.Tensor, t_video: torch.Tensor,
                t_audio: torch.Tensor, text_ids: torch.Tensor, text_mask: torch.Tensor,
                bridge: bool = True, capture_attention: bool = False, video_cond: torch.Tensor | None = None,
                audio_cond: torch.Tensor | None = None) -> DualOutput:
        """video_latents [B, T', C, H', W']; audio_latents [B, A', C_a]; t_video, t_audio [B] in [0, 1],
        or one timestep per latent frame / audio latent, t_video [B, T'] and t_audio [B, A'] (the
        clock ramp of `FlowConfig.clock_ramp`); text_ids [B, L] long; text_mask [B, L] bool
        (True = real token). With `self_condition`: video_cond / audio_cond, estimates of the clean
        latents shaped like the latents (None: zeros). Returns velocities."""
        for name, t, frames in (("t_video", t_video, video_latents.shape[1]), ("t_audio", t_audio, audio_latents.shape[1])):
            if t.dim() == 2 and t.shape[1] != frames:
                raise ValueError(f"{name} has {t.shape[1]} timesteps per sample; the latents have {frames} frames "
                                 "(expected one timestep per sample, [B], or one per frame)")
        text, mask = self.encode_text(text_ids, text_mask)
        pre = self.config.prediction == "preconditioned"
        if pre:
            (in_v, skip_v, out_v_scale), (in_a, skip_a, out_a_scale) = (
                precondition(broadcast_time(t, x), self.config.sigma_data)
                for t, x in ((t_video, video_latents), (t_audio, audio_latents)))
            v, a = self.video.tokens(video_latents * in_v), self.audio.tokens(audio_latents * in_a)
        else:
            v, a = self.video.tokens(video_latents), self.audio.tokens(audio_latents)
        if (video_cond is not None or audio_cond is not None) and not self.config.self_condition:
            raise ValueError("video_cond / audio_cond are read only by a model with self_condition=True")
        if video_cond is not None:
            v = v + self.video_self_cond(patchify_video(video_cond.to(v.dtype), self.config.video_patch))
        if audio_cond is not None:
            a = a + self.audio_self_cond(audio_cond.to(a.dtype))
        cv, ca = self.video.time_embed(t_video), self.audio.time_embed(t_audio)
        if self.config.pooled_text:
            pooled = pool_text(text, mask)  # [B, text_dim]
            cv = cv + per_frame_like(self.video_text_pool(pooled), cv)
            ca = ca + per_frame_like(self.audio_text_pool(pooled), ca)
        # RoPE tables (cos, sin) depend on positions only: built once here, shared by every layer.
        rope_v = RopeTable.from_angles(self.video.rope_angles(video_latents))
        rope_a = RopeTable.from_angles(self.audio.rope_angles(audio_latents))
        pos_v, pos_a = self.bridge_positions(video_latents.shape[1], audio_latents.shape[1])
        pos_v, pos_a = pos_v.to(v.device), pos_a.to(a.device)
        rope_bridge = next(iter(self.bridges.values())).rope(pos_v, pos_a) if bridge and self.bridges else None
        grid_v = self.video.grid(video_latents)
        maps: dict[str, torch.Tensor] = {}
        motion = None
        vi = ai = 0
        for slot in range(self.num_slots):
            for i, block in enumerate(self.video.blocks[vi:self.video_ends[slot]], start=vi + 1):
                v = block(v, cv, text, mask, rope_v, grid_v)
                if self.motion_head is not None and i == self.config.motion_head_block:
                    motion = self.motion_head(v)
            for block in self.audio.blocks[ai:self.audio_ends[slot]]:
                a = block(a, ca, text, mask, rope_a)
            vi, ai = self.video_ends[slot], self.audio_ends[slot]
            if bridge and str(slot) in self.bridges:
                v, a, m = self.bridges[str(slot)](v, a, pos_v, pos_a, capture=capture_attention, rope=rope_bridge)
                maps.update({f"bridge{slot}/{k}": w for k, w in m.items()})
        out_v, out_a = self.video.output(v, cv, video_latents), self.audio.output(a, ca, audio_latents)
        if self.config.prediction == "data":
            out_v = data_to_velocity(video_latents, out_v, t_video, self.config.data_t_min)
            out_a = data_to_velocity(audio_latents, out_a, t_audio, self.config.data_t_min)
        elif pre:
            out_v = skip_v * video_latents + out_v_scale * out_v
            out_a = skip_a * audio_latents + out_a_scale * out_a
        if self.video_gaussian is not None:
            out_v = out_v + self.gaussian_weight(t_video, out_v) * self.video_gaussian(video_latents, t_video)
            out_a = out_a + self.gaussian_weight(t_audio, out_a) * self.audio_gaussian(audio_latents, t_audio)
        return DualOutput(video=out_v, audio=out_a, attention=maps, motion=motion)

    def gaussian_weight(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor | float:
        """Weight of the Gaussian skip at t [B] (`gaussian_skip_from`), shaped to scale `like`."""
        a = self.config.gaussian_skip_from
        if a is None:
            return 1.0
        return broadcast_time(((t - a) / (1 - a)).clamp(0, 1), like)

    # ------------------------------------------------------------------------------------------
    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part: video tower, audio tower, bridges, text embeddings, total."""
        def count(*mods):
            return sum(p.numel() for m in mods for p in (m.parameters() if isinstance(m, nn.Module) else [m]))
        counts = {"video_tower": count(self.video), "audio_tower": count(self.audio),
                  "bridges": count(self.bridges),
                  "text": count(self.text_embed, self.text_pos, self.text_null)}
        counts["total"] = sum(p.numel() for p in self.parameters())
        return counts

    def describe(self) -> str:
        """A few lines: token rate of each stream, token counts, parameter counts."""
        cfg = self.config
        n_v = cfg.video_frames * cfg.video_tokens_per_frame
        c = self.parameter_counts()
        lines = [
            (f"video stream: {cfg.video_tokens_per_s:g} tokens/s ({cfg.video_latent_fps:g} latent frames/s x "
            f"{cfg.video_tokens_per_frame} tokens/frame), {n_v} tokens per clip"),
            f"audio stream: {cfg.audio_tokens_per_s:g} tokens/s, {cfg.audio_length} tokens per clip",
            (f"video/audio token rate ratio {cfg.video_tokens_per_s / cfg.audio_tokens_per_s:.3g}; "
            f"latent frame every {1 / cfg.video_latent_fps * 1000:g} ms, audio latent every "
            f"{1 / cfg.audio_latent_rate * 1000:g} ms; bridge RoPE {'aligned (seconds)' if cfg.aligned_rope else 'index'}"),
            f"bridge placement {cfg.bridge!r}: slots {self.bridge_slots} of {self.num_slots}",
            "parameters: " + ", ".join(f"{k} {v:,}" for k, v in c.items()),
        ]
        return "\n".join(lines)
