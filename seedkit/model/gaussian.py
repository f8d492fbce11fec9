"""The flow of a Gaussian fit of the latents: the exact velocity if the data were N(mu, S).

On the straight path x_t = (1 - t) x0 + t eps, if x0 ~ N(mu, S) and eps ~ N(0, R), the best guess of
the velocity eps - x0 from x_t is linear in x_t. Near t = 1 it is what any good model must return
(the noisy input says too little for more), and it already carries the data's second-order
structure across the whole clip: how a latent position moves with every other one, which a
transformer of local blocks has to learn token by token ("The Hidden Linear Structure in
Diffusion Models", Wang & Vastola 2023). `GaussianFlow` holds a low-rank fit of S (the top `rank`
principal directions, the rest isotropic) and returns that velocity; `DualTowerConfig.gaussian_skip`
adds it to the towers' output, so the network learns only what the Gaussian gets wrong.

Noise correlated across latent frames (`FlowConfig.video_noise_corr`, R = rho^|i - j| per frame
pair) is whitened first: with W the frame-axis whitening (`seedkit.noise.whiten_frames`), y = W x
has white noise, the fit is of W x0, and the velocity is W^-1 (`correlate_frames`) of the white one.

Per coordinate of variance lam and mean m (in the whitened principal basis), with u = y_t - m:

    v(y_t, t) = (u (t - lam (1 - t)) - m lam (1 - t)) / ((1 - t)^2 lam + t^2)

which is x_t - mu at t = 1 (eps - E x0) and -x_t at t = 0.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..noise import correlate_frames, whiten_frames


VARIANCE_FLOOR = 1e-4  # smallest variance of a direction, relative to the latents' mean variance


@torch.no_grad()
def principal_fit(latents: torch.Tensor, rho: float, rank: int, who: str = "principal_fit"):
    """Mean and top `rank` principal directions of `latents` [N, F, ...] (N >= 2) after whitening
    noise correlated by `rho` between consecutive frames (0: white noise), in float64.

    Returns mean [D], basis [D, rank] (orthonormal columns), eigenvalues [rank] and the mean
    variance of the D - rank directions outside the basis, each variance floored at
    `VARIANCE_FLOOR` x the mean variance (a direction the clips never vary in would make a flow
    formula 0 / 0 at t = 0). `who` names the caller in errors.
    """
    if latents.shape[0] < 2:
        raise ValueError(f"{who} needs at least 2 latents, got {latents.shape[0]}")
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"{who}: noise frame correlation rho={rho}, expected 0 <= rho < 1")
    y = whiten_frames(latents.double(), rho).flatten(1)
    mean = y.mean(0)
    y = y - mean
    n, d = y.shape
    k = rank
    r = min(n, d)  # directions the clips can vary in
    if r <= 2048 or k > r // 2:  # exact: SVD of the centred data
        _, s, vh = torch.linalg.svd(y, full_matrices=False)
        evals, evecs = (s[:k] ** 2) / (n - 1), vh[:k].T
    else:  # randomised SVD: the top k directions only
        _, s, v = torch.svd_lowrank(y, q=min(k + 32, r), niter=6)
        evals, evecs = (s[:k] ** 2) / (n - 1), v[:, :k]
    if evecs.shape[1] < k:  # fewer clips than the rank: complete with directions of zero variance
        g = torch.Generator().manual_seed(0)
        extra = torch.randn(d, k - evecs.shape[1], generator=g, dtype=evecs.dtype)
        extra = torch.linalg.qr(extra - evecs @ (evecs.T @ extra)).Q
        evecs, evals = torch.cat([evecs, extra], 1), torch.cat([evals, evals.new_zeros(extra.shape[1])])
    total = (y * y).sum() / (n - 1)
    floor = VARIANCE_FLOOR * float(total) / d
    rest = ((total - evals.sum()) / max(1, d - k)).clamp(min=floor)
    return mean, evecs, evals.clamp(min=floor), rest


def _gaussian_velocity(u: torch.Tensor, m: torch.Tensor, lam: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The formula of the module docstring; u [B, K], m [K] or [1], lam [K] or scalar, t [B, 1]."""
    s = 1.0 - t
    return (u * (t - lam * s) - m * lam * s) / (s * s * lam + t * t)


class PrincipalFit(nn.Module):
    """Mean and top `rank` principal directions of noise-whitened latents shaped [F, ...] (F: the
    frame axis), fitted by `principal_fit` and kept in buffers (saved in the state dict): mean [D],
    basis [D, K], eigenvalues [K], `rho` the frame correlation of the noise it was fitted for, and
    `fitted` (False until `fit` has run). The base of `GaussianFlow` and of
    `seedkit.model.whitening.SpectralWhitening`; a subclass keeps what else it needs in `_after_fit`.
    """

    def __init__(self, shape: tuple[int, ...], rank: int, rank_option: str):
        super().__init__()
        self.shape = tuple(shape)
        d = math.prod(self.shape)
        if not 0 < rank <= d:
            raise ValueError(f"{rank_option} must be in [1, {d}] for latents of shape {self.shape}, got {rank}")
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("basis", torch.zeros(d, rank))
        self.register_buffer("eig", torch.zeros(rank))
        self.register_buffer("rho", torch.zeros(()))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        # Python copies of rho and fitted, so the forward pass reads no device tensor (a GPU sync);
        # refreshed by `fit` and whenever a state dict is loaded
        self._rho, self._is_fitted = 0.0, False
        self.register_load_state_dict_post_hook(lambda module, keys: module._read_buffers())

    def _read_buffers(self) -> None:
        self._rho, self._is_fitted = float(self.rho), bool(self.fitted)

    @torch.no_grad()
    def fit(self, latents: torch.Tensor, rho: float = 0.0):
        """Fit on `latents` [N, F, ...] (N >= 2), in float64, for noise correlated by `rho` between
        consecutive frames (0: white noise). Returns self."""
        who = f"{type(self).__name__}.fit"
        if tuple(latents.shape[1:]) != self.shape:
            raise ValueError(f"{who}: latents of shape {tuple(latents.shape[1:])}, expected {self.shape}")
        mean, basis, eig, rest = principal_fit(latents, rho, self.basis.shape[1], who)
        self.mean.copy_(mean)
        self.basis.copy_(basis)
        self.eig.copy_(eig)
        self.rho.fill_(rho)
        self._after_fit(rest)
        self.fitted.fill_(True)
        self._read_buffers()
        return self

    def _after_fit(self, rest: torch.Tensor) -> None:
        """After a fit: a subclass stores what it derives (`rest`: the mean variance outside the basis)."""


class GaussianFlow(PrincipalFit):
    """Velocity of a low-rank Gaussian fit of latents shaped [F, ...] (F: the frame axis).

    Buffers: those of `PrincipalFit`, and `rest` the mean variance of the D - K directions outside
    the basis. Until fitted it returns zeros.
    """

    def __init__(self, shape: tuple[int, ...], rank: int):
        super().__init__(shape, rank, "gaussian_skip rank")
        self.register_buffer("rest", torch.zeros(()))

    def _after_fit(self, rest: torch.Tensor) -> None:
        self.rest.copy_(rest)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t [B, F, ...] at t [B] -> the Gaussian velocity [B, F, ...] (float32, zeros if unfitted)."""
        if t.dim() != 1:
            raise ValueError("gaussian_skip takes one timestep per sample (t [B]); per-frame timesteps "
                             "(the clock ramp) are not supported with it")
        if not self._is_fitted:
            return torch.zeros_like(x_t)
        rho = self._rho
        with torch.autocast(x_t.device.type, enabled=False):
            y = whiten_frames(x_t.float(), rho).flatten(1)
            tt = t.float().unsqueeze(1)
            c, cm = y @ self.basis, self.mean @ self.basis  # [B, K], [K]
            v = _gaussian_velocity(y - self.mean, self.mean, self.rest, tt)
            v = v + (_gaussian_velocity(c - cm, cm, self.eig, tt)
                     - _gaussian_velocity(c - cm, cm, self.rest, tt)) @ self.basis.T
            return correlate_frames(v.reshape(x_t.shape), rho).to(x_t.dtype)
