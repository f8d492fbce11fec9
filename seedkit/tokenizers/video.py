"""Video autoencoder: squeeze a clip into a small grid of latent frames, and back.

    video [B, T, 3, H, W] in [-1, 1]  --encode-->  latents [B, T/k, C, H/s, W/s]   (s = 4 or 8)
    latents                           --decode-->  video   [B, T, 3, H, W]

k (`time_down`, frames per latent frame) is 4 as in the anchors' video VAEs, or 2, or 1 (one latent
frame per frame: more tokens, no seams between latent frames).

Encoder, in two stages:
  1. per frame: every p x p patch of pixels becomes one position (space-to-depth, lossless), then
     a few residual 3x3 convolutions *within each frame* at H/p x W/p;
  2. every k frames (and s/p x s/p positions) are stacked into channels (time-to-depth), then
     residual (2+1)D blocks (1x3x3 over space, 3x1x1 over time) at the latent grid -> C channels.
The decoder mirrors it: latent-grid blocks, depth-to-time back to single frames, per-frame blocks,
depth-to-space back to pixels. No convolution ever runs at full resolution, and each frame gets its
own features before pixels are drawn: with time /4 a fast object is in four places inside one
latent frame, and a decoder that only upsamples blurs it along its path (measured on bounce: see
`seedkit/configs/tokenizer_video_bounce.yaml`).

An optional KL term (`kl_weight`) makes the latent a Gaussian posterior, as in the VAEs of LTX-2 /
MOVA; 0 gives a plain AE. `encode` returns latents normalised by a shift/scale measured on the
training set (stored in the checkpoint), so the diffusion model sees roughly zero-mean
unit-variance tokens. The `pixels` option is the identity tokenizer (time /1, space /1, C = 3).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.clip import ClipSpec
from .checkpoint import (CheckpointError, config_from_dict, load_plain_checkpoint, load_tokenizer_state,
                         save_plain_checkpoint)
from .metrics import StreamRate, tokens_table

KIND = "video_autoencoder"


@dataclass
class VideoAutoencoderConfig:
    latent_channels: int = 8  # C: numbers per latent position
    base_channels: int = 32  # width of the per-frame stage; the latent-grid stage is twice as wide
    space_down: int = 4  # 4 (bounce, 32 px -> 8) or 8 (GRID, 64 px -> 8)
    time_down: int = 4  # frames per latent frame: 4 (the anchors' VAEs), 2, or 1 (one latent frame per frame)
    patch_size: int = 4  # p: pixels per side folded into one position of the per-frame stage
    frame_blocks: int = 1  # residual 3x3 blocks per frame (encoder and decoder each)
    latent_blocks: int = 2  # residual (2+1)D blocks on the latent grid (encoder and decoder each)
    kl_weight: float = 0.0  # weight of the KL term; 0 = deterministic autoencoder
    pixels: bool = False  # identity tokenizer: latents are the (normalised) pixels themselves

    def __post_init__(self) -> None:
        if self.pixels:
            self.latent_channels, self.space_down, self.time_down, self.patch_size = 3, 1, 1, 1
            return
        if self.space_down not in (4, 8):
            raise ValueError(f"VideoAutoencoderConfig.space_down must be 4 or 8, got {self.space_down}")
        if self.time_down not in (1, 2, 4):
            raise ValueError(f"VideoAutoencoderConfig.time_down must be 1, 2 or 4, got {self.time_down}")
        if self.patch_size < 1 or self.space_down % self.patch_size:
            raise ValueError(f"VideoAutoencoderConfig.patch_size={self.patch_size} must divide "
                             f"space_down={self.space_down}")
        if self.base_channels % 8:
            raise ValueError(f"VideoAutoencoderConfig.base_channels must be a multiple of 8 "
                             f"(GroupNorm of 8 groups), got {self.base_channels}")


def space_time_to_depth(x: torch.Tensor, time: int = 2, space: int = 2) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, C*time*space^2, T/time, H/space, W/space]: each block -> one position."""
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t // time, time, h // space, space, w // space, space)
    x = x.permute(0, 1, 3, 5, 7, 2, 4, 6)  # the within-block axes next to C
    return x.reshape(b, c * time * space * space, t // time, h // space, w // space)


def depth_to_space_time(x: torch.Tensor, time: int = 2, space: int = 2) -> torch.Tensor:
    """Inverse of `space_time_to_depth`."""
    b, c, t, h, w = x.shape
    c0 = c // (time * space * space)
    x = x.reshape(b, c0, time, space, space, t, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, c0, t * time, h * space, w * space)


class FrameBlock(nn.Module):
    """Residual block of two 1x3x3 convolutions: mixes space inside each frame, never across time."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels)
        self.conv1 = nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1))
        self.norm2 = nn.GroupNorm(8, channels)
        self.conv2 = nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class ResBlock3d(nn.Module):
    """Residual block of factorised 3D convolutions: 1x3x3 over space, then 3x1x1 over time
    ((2+1)D, about half the cost of a full 3x3x3 kernel at the same width)."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels)
        self.space = nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1))
        self.norm2 = nn.GroupNorm(8, channels)
        self.time = nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.space(F.silu(self.norm1(x)))
        return x + self.time(F.silu(self.norm2(h)))


def _merge(config: VideoAutoencoderConfig) -> tuple[int, int]:
    """(time, space) factors stacked into channels between the per-frame and latent-grid stages."""
    return config.time_down, config.space_down // config.patch_size


class VideoEncoder(nn.Module):
    """video [B, 3, T, H, W] -> posterior moments [B, 2C or C, T/k, H/s, W/s] (channels first)."""

    def __init__(self, config: VideoAutoencoderConfig):
        super().__init__()
        self.config = config
        w, p = config.base_channels, config.patch_size
        ft, fs = _merge(config)
        self.frame = nn.Sequential(nn.Conv3d(3 * p * p, w, 1),
                                   *[FrameBlock(w) for _ in range(config.frame_blocks)])
        out = config.latent_channels * (2 if config.kl_weight > 0 else 1)
        self.grid = nn.Sequential(
            nn.Conv3d(w * ft * fs * fs, 2 * w, 1), *[ResBlock3d(2 * w) for _ in range(config.latent_blocks)],
            nn.GroupNorm(8, 2 * w), nn.SiLU(), nn.Conv3d(2 * w, out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ft, fs = _merge(self.config)
        h = self.frame(space_time_to_depth(x, 1, self.config.patch_size))  # [B, w, T, H/p, W/p]
        return self.grid(space_time_to_depth(h, ft, fs))


class VideoDecoder(nn.Module):
    """latents [B, C, T/k, H/s, W/s] -> video [B, 3, T, H, W] (channels first, unbounded)."""

    def __init__(self, config: VideoAutoencoderConfig):
        super().__init__()
        self.config = config
        w, p = config.base_channels, config.patch_size
        ft, fs = _merge(config)
        self.grid = nn.Sequential(
            nn.Conv3d(config.latent_channels, 2 * w, 3, padding=1),
            *[ResBlock3d(2 * w) for _ in range(config.latent_blocks)],
            nn.GroupNorm(8, 2 * w), nn.SiLU(), nn.Conv3d(2 * w, w * ft * fs * fs, 1))
        self.frame = nn.Sequential(*[FrameBlock(w) for _ in range(config.frame_blocks)],
                                   nn.GroupNorm(8, w), nn.SiLU(), nn.Conv3d(w, 3 * p * p, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        ft, fs = _merge(self.config)
        h = depth_to_space_time(self.grid(z), ft, fs)  # [B, w, T, H/p, W/p]: one feature map per frame
        return depth_to_space_time(self.frame(h), 1, self.config.patch_size)


@dataclass
class VideoReconstruction:
    video: torch.Tensor  # [B, T, 3, H, W], the decoded clip
    latents: torch.Tensor  # [B, T', C, H', W'], raw (unnormalised) latents that were decoded
    kl: torch.Tensor  # scalar, KL(q(z|x) || N(0, I)) per latent number (0 without kl_weight)


class VideoAutoencoder(nn.Module):
    """Video tokenizer. See the module docstring for layouts; `latent_shift/scale` normalise."""

    def __init__(self, config: VideoAutoencoderConfig | None = None, **overrides):
        super().__init__()
        config = config or VideoAutoencoderConfig(**overrides)
        self.config = config
        self.latent_channels = config.latent_channels
        self.time_down = config.time_down
        self.space_down = config.space_down
        if not config.pixels:
            self.encoder = VideoEncoder(config)
            self.decoder = VideoDecoder(config)
        # scalar normalisation of the latents, measured on training data (see `measure_latent_stats`)
        self.register_buffer("latent_shift", torch.zeros(()))
        self.register_buffer("latent_scale", torch.ones(()))

    # -- shapes and rates ------------------------------------------------------------------------
    def latent_shape(self, spec: ClipSpec) -> tuple[int, int, int, int]:
        """(T', C, H', W') of the latents of a clip described by `spec`."""
        for name, n, d in (("num_frames", spec.num_frames, self.time_down), ("size", spec.size, self.space_down)):
            if n % d:
                raise ValueError(f"ClipSpec.{name}={n} is not divisible by the video tokenizer's "
                                 f"downsampling {d}")
        s = spec.size // self.space_down
        return spec.num_frames // self.time_down, self.latent_channels, s, s

    def stream_rate(self, spec: ClipSpec) -> StreamRate:
        t, c, h, w = self.latent_shape(spec)
        name = "video (pixels)" if self.config.pixels else "video latents"
        return StreamRate(name, spec.fps * spec.size * spec.size * 3, t * h * w / spec.duration_s, c)

    def describe(self, spec: ClipSpec, print_it: bool = True) -> str:
        """Print and return the tokens/s and compression table for this tokenizer on `spec`."""
        return tokens_table(self.stream_rate(spec), print_it=print_it)

    # -- encode / decode ------------------------------------------------------------------------
    def encode_moments(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """video [B, T, 3, H, W] -> (mean, logvar or None), each [B, C, T', H', W'], unnormalised."""
        if video.ndim != 5 or video.shape[2] != 3:
            raise ValueError(f"expected video [B, T, 3, H, W], got {tuple(video.shape)}")
        x = video.permute(0, 2, 1, 3, 4)
        if self.config.pixels:
            return x, None
        h = self.encoder(x)
        if self.config.kl_weight > 0:
            mean, logvar = h.chunk(2, dim=1)
            return mean, logvar.clamp(-20, 10)
        return h, None

    def _decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """raw latents [B, C, T', H', W'] -> video [B, T, 3, H, W]."""
        x = z if self.config.pixels else self.decoder(z)
        return x.permute(0, 2, 1, 3, 4)

    def forward(self, video: torch.Tensor, sample: bool | None = None) -> VideoReconstruction:
        """Reconstruct a clip (training path; the KL posterior is sampled in training mode)."""
        mean, logvar = self.encode_moments(video)
        z, kl = mean, mean.new_zeros(())
        if logvar is not None:
            if self.training if sample is None else sample:
                z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        return VideoReconstruction(self._decode_raw(z), z.permute(0, 2, 1, 3, 4), kl)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, T, 3, H, W] in [-1, 1] -> normalised latents [B, T/time_down, C, H/s, W/s]."""
        mean, _ = self.encode_moments(video)
        return ((mean - self.latent_shift) / self.latent_scale).permute(0, 2, 1, 3, 4)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """normalised latents [B, T', C, H', W'] -> video [B, T, 3, H, W] (about [-1, 1])."""
        if latents.ndim != 5 or latents.shape[2] != self.latent_channels:
            raise ValueError(f"expected latents [B, T', {self.latent_channels}, H', W'], "
                             f"got {tuple(latents.shape)}")
        z = latents.permute(0, 2, 1, 3, 4) * self.latent_scale + self.latent_shift
        return self._decode_raw(z)

    @torch.no_grad()
    def set_latent_stats(self, shift: float, scale: float) -> None:
        self.latent_shift.fill_(float(shift))
        self.latent_scale.fill_(max(float(scale), 1e-6))

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike):
        """Write a plain-dict checkpoint (atomic rename); load it with `from_checkpoint`."""
        state = {k: v for k, v in self.state_dict().items() if k not in ("latent_shift", "latent_scale")}
        return save_plain_checkpoint(path, KIND, self.config, state,
                                     self.latent_shift.item(), self.latent_scale.item())

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu"):
        payload = load_plain_checkpoint(path, KIND)
        model = cls(config_from_dict(VideoAutoencoderConfig, payload["config"]))
        load_tokenizer_state(model, payload["state_dict"], path, KIND, optional=("latent_shift", "latent_scale"))
        model.set_latent_stats(payload["latent_shift"], payload["latent_scale"])
        return model.to(map_location).eval()


def with_decoder_of(tok: VideoAutoencoder, path: str | os.PathLike,
                    map_location: str | torch.device = "cpu") -> VideoAutoencoder:
    """The video tokenizer at `path` in place of `tok`, once checked to share tok's encoder and latent
    normalisation: its decoder alone differs (trained on with `TokenizerModule(decoder_of=...)`), so
    latents of models trained on `tok` mean the same to it. Raises CheckpointError otherwise."""
    new = VideoAutoencoder.from_checkpoint(path, map_location)
    a, b = tok.state_dict(), new.state_dict()
    kept = [k for k in a if not k.startswith("decoder.")]
    if set(a) != set(b) or any(not torch.equal(a[k].cpu(), b[k].cpu()) for k in kept):
        raise CheckpointError(f"{path}: its encoder or latent normalisation differs from the model's video tokenizer; "
                              "expected that tokenizer with only its decoder trained on "
                              "(seedkit fit --config seedkit/configs/tokenizer_video_*.yaml --model.decoder_of ...)")
    return new.to(next(iter(tok.buffers())).device).eval().requires_grad_(False)
