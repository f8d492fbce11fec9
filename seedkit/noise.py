"""Noise correlated along the latent-frame axis (PYoCo's progressive prior) and its inverse.

`correlate_frames` draws the video noise of training (`FlowConfig.video_noise_corr`) and sampling;
`whiten_frames` undoes it, for the Gaussian flow (`seedkit.model.gaussian`) and the benchmarks
that compute exact flows.
"""
from __future__ import annotations

import torch


def correlate_frames(eps: torch.Tensor, rho: float) -> torch.Tensor:
    """Progressive noise along the latent-frame axis (PYoCo): eps [B, T', ...] i.i.d. N(0, 1) ->
    e_0 = eps_0, e_i = rho e_{i-1} + sqrt(1 - rho^2) eps_i. Every entry is still N(0, 1), and two
    latent frames k apart correlate by rho^k, so the noise that lays out one latent frame lays out
    the next one almost alike. rho = 0 returns `eps` itself."""
    if rho == 0.0:
        return eps
    frames = [eps[:, 0]]
    for i in range(1, eps.shape[1]):
        frames.append(rho * frames[-1] + (1.0 - rho * rho) ** 0.5 * eps[:, i])
    return torch.stack(frames, dim=1)


def whiten_frames(e: torch.Tensor, rho: float) -> torch.Tensor:
    """The inverse of `correlate_frames` along dim 1: e [B, T', ...] -> e_0, (e_i - rho e_{i-1}) /
    sqrt(1 - rho^2); noise drawn by `correlate_frames` comes back i.i.d. rho = 0 returns `e` itself."""
    if rho == 0.0:
        return e
    rest = (e[:, 1:] - rho * e[:, :-1]) / (1.0 - rho * rho) ** 0.5
    return torch.cat([e[:, :1], rest], dim=1)
