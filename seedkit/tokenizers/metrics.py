"""How good a reconstruction is, and how many tokens a stream costs.

Video:  PSNR and SSIM between clips `video [B, T, 3, H, W] in [-1, 1]`.
Audio:  log-mel L1 (nats) and spectral convergence between log-mels `mel [B, M, F]`.
Rates:  `tokens_table` lists tokens per second and compression ratio of each stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def psnr(video: torch.Tensor, reference: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, per clip [B]; pixel values in [-1, 1] (range 2)."""
    mse = (video.float() - reference.float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(data_range**2 / mse.clamp_min(1e-12))


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(video: torch.Tensor, reference: torch.Tensor, data_range: float = 2.0,
         window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per clip [B], averaged over frames and channels.

    Gaussian window of `window` px (7, not 11, so that 32x32 frames keep a valid interior).
    """
    b = video.shape[0]
    x = video.float().reshape(-1, 1, *video.shape[-2:])
    y = reference.float().reshape(-1, 1, *reference.shape[-2:])
    w = _gaussian_window(window, sigma).to(x.device)[None, None]
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    var_x = F.conv2d(x * x, w) - mu_x**2
    var_y = F.conv2d(y * y, w) - mu_y**2
    cov = F.conv2d(x * y, w) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.reshape(b, -1).mean(1)


def mel_l1(mel: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of log-mels (natural-log power, nats) per clip [B]."""
    f = min(mel.shape[-1], reference.shape[-1])
    return (mel[..., :f] - reference[..., :f]).abs().flatten(1).mean(1)


def spectral_convergence(mel: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """|| |S| - |S_ref| ||_F / || |S_ref| ||_F on mel magnitudes (from log power), per clip [B].

    0 is perfect; 1 is as large as the reference itself (e.g. predicting silence).
    """
    f = min(mel.shape[-1], reference.shape[-1])
    mag, ref = (mel[..., :f] / 2).exp(), (reference[..., :f] / 2).exp()
    return (mag - ref).flatten(1).norm(dim=1) / ref.flatten(1).norm(dim=1).clamp_min(1e-12)


@dataclass
class StreamRate:
    """One stream's raw and tokenized rates (per second of media)."""

    name: str  # "video", "audio", ...
    raw_values_per_s: float  # numbers per second before tokenizing (pixels x 3, samples)
    tokens_per_s: float  # latent positions per second (before any patchify in the model)
    channels: int  # numbers per token

    @property
    def latent_values_per_s(self) -> float:
        return self.tokens_per_s * self.channels

    @property
    def compression(self) -> float:
        """How many raw numbers one latent number stands for."""
        return self.raw_values_per_s / self.latent_values_per_s


def tokens_table(*streams: StreamRate, file=None, print_it: bool = True) -> str:
    """Table of tokens/s and compression per stream; printed (to `file`) and returned."""
    head = f"{'stream':<22}{'raw values/s':>14}{'tokens/s':>11}{'ch':>5}{'latent values/s':>17}{'compression':>13}"
    lines = [head, "-" * len(head)]
    for s in streams:
        lines.append(f"{s.name:<22}{s.raw_values_per_s:>14,.0f}{s.tokens_per_s:>11,.1f}{s.channels:>5d}"
                     f"{s.latent_values_per_s:>17,.0f}{s.compression:>12,.1f}x")
    text = "\n".join(lines)
    if print_it:
        print(text, file=file)
    return text
