"""Fréchet distances on the kit's OWN tokenizer features: FD-kitvideo and FD-kitaudio.

    FD(X, Y) = |mu_X - mu_Y|^2 + tr(S_X + S_Y - 2 (S_X S_Y)^(1/2))      (Gaussians fitted to features)

These are *not* FVD (I3D features) or FAD (VGGish features): the features come from the kit's
small autoencoders (`seedkit.tokenizers`), trained on the same data, so the numbers are only
comparable between runs that use the same tokenizer checkpoints. Named accordingly.

Features of one clip (pooled so the dimension stays small next to the sample size):
    video latents [T', C, H', W'] -> average-pooled to 2x2 in space -> mean and std over time
                                     -> 2 * C * 4 dims (64 for C = 8)
    audio latents [A', C_a]       -> mean and std over time -> 2 * C_a dims

Sample size: FD is biased upwards at small n (the covariance estimates are noisy), and the bias
depends on n and on the dimension. Compare FDs only at the same n, and read them next to the
floor `fd_split_half` = FD between two halves of the *real* clips (what chance alone gives at
n / 2): a generated set is indistinguishable from real at this n when its FD is near the floor.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["frechet_distance", "gaussian_stats", "video_features", "audio_features", "FrechetResult",
           "fd_with_floor"]


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] of features [n, D] (n >= 2)."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected features [n, D], got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"Fréchet distance needs at least 2 clips per set, got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or inf")
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance(x, y) -> float:
    """FD between feature sets x [n, D] and y [m, D] (>= 0; the imaginary part of sqrtm is numerical noise)."""
    from scipy import linalg

    mu1, s1 = gaussian_stats(x)
    mu2, s2 = gaussian_stats(y)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature sizes differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        covmean = linalg.sqrtm(s1 @ s2)
    if caught or not np.isfinite(covmean).all():  # singular product: regularise (as pytorch-fid does)
        eps = 1e-6 * np.eye(len(mu1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    fd = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    return max(fd, 0.0)


@torch.no_grad()
def video_features(video_tokenizer, video: torch.Tensor, batch_size: int = 16) -> np.ndarray:
    """video [B, T, 3, H, W] in [-1, 1] -> features [B, 2 * C * 4] from the video autoencoder's latents."""
    out = []
    for i in range(0, video.shape[0], batch_size):
        z = video_tokenizer.encode(video[i: i + batch_size].float())  # [b, T', C, H', W']
        b, t, c, h, w = z.shape
        z = F.adaptive_avg_pool2d(z.reshape(b * t, c, h, w), 2).reshape(b, t, c * 4)
        out.append(torch.cat([z.mean(1), z.std(1, unbiased=False)], -1))
    return torch.cat(out).cpu().numpy().astype(np.float64)


@torch.no_grad()
def audio_features(audio_tokenizer, audio: torch.Tensor, batch_size: int = 16) -> np.ndarray:
    """audio [B, 1, N] -> features [B, 2 * C_a] from the audio autoencoder's latents [B, A', C_a]."""
    out = []
    for i in range(0, audio.shape[0], batch_size):
        z = audio_tokenizer.encode(audio[i: i + batch_size].float())
        out.append(torch.cat([z.mean(1), z.std(1, unbiased=False)], -1))
    return torch.cat(out).cpu().numpy().astype(np.float64)


@dataclass
class FrechetResult:
    fd: float  # FD(generated, real)
    fd_split_half: float  # FD between two random halves of the real clips: the floor at n / 2
    n_generated: int
    n_real: int
    dim: int  # feature dimension


def fd_with_floor(generated, real, seed: int = 0) -> FrechetResult:
    """FD of generated [n, D] against real [m, D], with the split-half floor of the real set (m >= 4)."""
    g, r = np.asarray(generated, dtype=np.float64), np.asarray(real, dtype=np.float64)
    fd = frechet_distance(g, r)
    floor = 0.0  # too few real clips for a floor: 0, and n_real says why
    if len(r) >= 4:
        perm = np.random.default_rng(seed).permutation(len(r))
        half = len(r) // 2
        floor = frechet_distance(r[perm[:half]], r[perm[half: 2 * half]])
    return FrechetResult(fd, floor, len(g), len(r), g.shape[1])
