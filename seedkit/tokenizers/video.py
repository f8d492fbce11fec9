"""Video autoencoder: 3D convolutions squeeze a clip into a small grid of latent frames.

    video [B, T, 3, H, W] in [-1, 1]  --encode-->  latents [B, T/4, C, H/s, W/s]   (s = 4 or 8)
    latents                           --decode-->  video   [B, T, 3, H, W]

Time and space are halved by stride-2 3D convolutions (two in time, two or three in space); the
decoder mirrors them with nearest upsampling + convolution. An optional KL term (`kl_weight`)
makes the latent a Gaussian posterior, as in the VAEs of LTX-2 / MOVA; 0 gives a plain AE.

`encode` returns latents normalised by a shift/scale measured on the training set (stored in the
checkpoint), so the diffusion model sees roughly zero-mean unit-variance tokens. The `pixels`
option is the identity tokenizer (time /1, space /1, C = 3) for ablations.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.clip import ClipSpec
from .checkpoint import config_from_dict, load_plain_checkpoint, save_plain_checkpoint
from .metrics import StreamRate, tokens_table

KIND = "video_autoencoder"


@dataclass
class VideoAutoencoderConfig:
    latent_channels: int = 8  # C: numbers per latent position
    base_channels: int = 32  # width of the first stage; doubles after each time+space downsampling
    space_down: int = 4  # 4 (bounce, 32 px -> 8) or 8 (GRID, 64 px -> 8)
    time_down: int = 4  # frames per latent frame (always 4 here; 1 only with pixels=True)
    kl_weight: float = 0.0  # weight of the KL term; 0 = deterministic autoencoder
    pixels: bool = False  # identity tokenizer: latents are the (normalised) pixels themselves

    def __post_init__(self) -> None:
        if self.pixels:
            self.latent_channels, self.space_down, self.time_down = 3, 1, 1
            return
        if self.space_down not in (4, 8):
            raise ValueError(f"VideoAutoencoderConfig.space_down must be 4 or 8, got {self.space_down}")
        if self.time_down != 4:
            raise ValueError(f"VideoAutoencoderConfig.time_down must be 4, got {self.time_down}")


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


def space_time_to_depth(x: torch.Tensor, f: int = 2) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, C*f^3, T/f, H/f, W/f]: each f x f x f cube becomes one position."""
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t // f, f, h // f, f, w // f, f)
    return x.permute(0, 1, 3, 5, 7, 2, 4, 6).reshape(b, c * f**3, t // f, h // f, w // f)


def depth_to_space_time(x: torch.Tensor, f: int = 2) -> torch.Tensor:
    """Inverse of `space_time_to_depth`."""
    b, c, t, h, w = x.shape
    c0 = c // f**3
    x = x.reshape(b, c0, f, f, f, t, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, c0, t * f, h * f, w * f)


class Upsample3d(nn.Module):
    """Nearest upsampling by `factor` (t, h, w), then a 3x3x3 convolution (no checkerboard)."""

    def __init__(self, c_in: int, c_out: int, factor: tuple[int, int, int]):
        super().__init__()
        self.factor = factor
        self.conv = nn.Conv3d(c_in, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.factor, mode="nearest"))


def _strides(config: VideoAutoencoderConfig) -> list[tuple[int, int, int]]:
    """(time, height, width) stride of each strided-conv stage after the 2x2x2 patch stem."""
    return [(2, 2, 2)] + ([(1, 2, 2)] if config.space_down == 8 else [])


class VideoEncoder(nn.Module):
    """video [B, 3, T, H, W] -> posterior moments [B, 2C or C, T/4, H/s, W/s] (channels first).

    The first /2 in time and space is a lossless 2x2x2 patch stem (no full-resolution convs,
    which would cost most of the compute); the rest are stride-2 3D convolutions.
    """

    def __init__(self, config: VideoAutoencoderConfig):
        super().__init__()
        c = config.base_channels
        layers: list[nn.Module] = [nn.Conv3d(3 * 8, c, 3, padding=1), ResBlock3d(c)]
        for stride in _strides(config):
            layers += [nn.Conv3d(c, 2 * c, 3, stride=stride, padding=1), ResBlock3d(2 * c)]
            c = 2 * c
        out = config.latent_channels * (2 if config.kl_weight > 0 else 1)
        layers += [ResBlock3d(c), nn.GroupNorm(8, c), nn.SiLU(), nn.Conv3d(c, out, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(space_time_to_depth(x))


class VideoDecoder(nn.Module):
    """latents [B, C, T/4, H/s, W/s] -> video [B, 3, T, H, W] (channels first, unbounded)."""

    def __init__(self, config: VideoAutoencoderConfig):
        super().__init__()
        strides = _strides(config)
        c = config.base_channels * 2 ** len(strides)
        layers: list[nn.Module] = [nn.Conv3d(config.latent_channels, c, 3, padding=1),
                                   ResBlock3d(c), ResBlock3d(c)]
        for stride in reversed(strides):
            layers += [Upsample3d(c, c // 2, stride), ResBlock3d(c // 2)]
            c //= 2
        layers += [nn.GroupNorm(8, c), nn.SiLU(), nn.Conv3d(c, 3 * 8, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return depth_to_space_time(self.net(z))


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
        """video [B, T, 3, H, W] in [-1, 1] -> normalised latents [B, T/4, C, H/s, W/s]."""
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
        model.load_state_dict(payload["state_dict"], strict=False)
        model.set_latent_stats(payload["latent_shift"], payload["latent_scale"])
        return model.to(map_location).eval()
