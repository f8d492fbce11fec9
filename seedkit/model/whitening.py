"""Spectral whitening of the video latents: the layout decided where the network is good.

On the straight path x_t = (1 - t) x0 + t eps, a direction of the latents with variance lam (the
noise white along it, variance 1) stands out of the noise once lam (1 - t)^2 > t^2, that is below
t* = sqrt(lam) / (1 + sqrt(lam)). On bounce the top principal directions of the video latents (the
coarse layout: where the objects are, clip-wide) have lam of several hundred, so they are decided
at t* ~ 0.95, where the network's velocity is no better than a Gaussian's
(`benchmarks/noise_gain_bounce.py`), while the fine directions (lam ~ 1) are decided at t* ~ 0.5,
where the network is six times better. `SpectralWhitening` rescales the latents along their top
principal directions so that a direction of variance lam > 1 gets variance lam^(1 - alpha):
alpha = 1 gives every such direction the noise's variance (all decided near t = 0.5), alpha = 0.5
halves the gap on a log scale. The flow trains and samples on the rescaled latents; the sampler's
result goes back through the inverse before the decoder. Directions of variance <= 1 and those
outside the basis are left as they are.

Noise correlated across latent frames (`FlowConfig.video_noise_corr`) is whitened first (as for
`seedkit.model.gaussian.GaussianFlow`), so that "variance" means variance against the noise:

    y = W x (flattened),  c = B^T (y - m),  y' = y + B ((g - 1) c),  x' = W^-1 y'

with W the frame-axis whitening, m, B the fitted mean and basis, g = min(1, lam^(-alpha / 2)).
"""
from __future__ import annotations

import torch

from ..noise import correlate_frames, whiten_frames
from .gaussian import PrincipalFit


class SpectralWhitening(PrincipalFit):
    """Invertible rescaling of latents shaped [F, ...] along their top `rank` principal directions.

    Buffers: those of `seedkit.model.gaussian.PrincipalFit` (fitted on the tokenizer's latents),
    and `gain` [K] the factor applied along each direction. Until fitted both directions are the
    identity.
    """

    def __init__(self, shape: tuple[int, ...], rank: int, alpha: float):
        super().__init__(shape, rank, "whitening_rank")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"video_whitening (alpha) must be in (0, 1] (1: every strong direction at the "
                             f"noise's variance; 0 turns whitening off), got {alpha}")
        self.alpha = alpha
        self.register_buffer("gain", torch.ones(rank))

    def _after_fit(self, rest: torch.Tensor) -> None:
        self.gain.copy_(self.eig.clamp(min=1.0) ** (-self.alpha / 2))

    def _scale(self, x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        """x [B, F, ...] -> the same with its principal coordinates multiplied by `gain` [K]."""
        if not self._is_fitted:
            return x
        with torch.autocast(x.device.type, enabled=False):
            y = whiten_frames(x.float(), self._rho).flatten(1)
            c = (y - self.mean) @ self.basis  # [B, K]
            y = y + (c * (gain - 1.0)) @ self.basis.T
            return correlate_frames(y.reshape(x.shape), self._rho).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokenizer latents [B, F, ...] -> the latents the flow works on (same shape)."""
        return self._scale(x, self.gain)

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """The flow's latents [B, F, ...] -> tokenizer latents: the exact inverse of `forward`."""
        return self._scale(x, 1.0 / self.gain)
