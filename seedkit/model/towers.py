"""DiT blocks with adaLN-Zero, and the two towers built from them.

A tower turns noisy latents into a velocity of the same shape:

    patchify -> tokens [B, N, dim] -> blocks -> final adaLN + linear -> unpatchify

Each block (DiT, Peebles & Xie 2023, plus text cross-attention as in PixArt):

    (shift, scale, gate) x 2 = Linear(SiLU(c))           c = timestep embedding [B, dim]
    x = x + gate1 * SelfAttn(norm(x) * (1 + scale1) + shift1, RoPE)
    x = x + CrossAttn(norm(x), text)
    x = x + gate2 * MLP(norm(x) * (1 + scale2) + shift2)

adaLN-Zero: the modulation Linear and the output head start at zero, so every block starts as
the identity on its residual path and the whole tower starts by predicting zero velocity.
The two towers differ only in how latents become tokens and which RoPE they use; the dual model
drives their blocks itself so that it can insert the bridge between them.
"""
from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention import Attention
from .rope import RopeTable, angles_1d, angles_3d, video_grid_positions


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """t [B] (or [B, F], a timestep per frame) in [0, 1] -> sinusoidal features [..., dim]
    (t scaled by 1000 like integer DDPM steps)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = 1000.0 * t.float()[..., None] * freqs
    return torch.cat([args.cos(), args.sin()], dim=-1)


class TimestepEmbedder(nn.Module):
    """t [B] -> conditioning vector c [B, dim] through sinusoids and a small MLP; t [B, F] (one
    timestep per frame of tokens, `FlowConfig.clock_ramp`) -> c [B, F, dim]."""

    def __init__(self, dim: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_embedding(t, self.freq_dim))


def per_token(m: torch.Tensor, n: int) -> torch.Tensor:
    """A modulation for tokens [B, N, D]: m [B, D] (per sample) -> [B, 1, D]; m [B, F, D] (per
    frame, the N tokens in F equal frame-major groups) -> [B, N, D]."""
    if m.dim() == 2:
        return m[:, None]
    if n % m.shape[1]:
        raise ValueError(f"{n} tokens do not split into {m.shape[1]} frames of timesteps")
    return m.repeat_interleave(n // m.shape[1], dim=1) if m.shape[1] != n else m


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x [B, N, D] with shift, scale [B, D] per sample or [B, F, D] per frame (see `per_token`)."""
    n = x.shape[1]
    return x * (1 + per_token(scale, n)) + per_token(shift, n)


class DepthwiseConv3dFunction(torch.autograd.Function):
    """Depthwise 3D convolution (stride 1, "same" padding, odd kernel) with its backward written out.

    PyTorch's CPU backward of a depthwise Conv3d is slow: on the bounce grid conv ([24, 128, 8, 4, 4],
    3x3x3) it took 30 ms against 1-2 ms for the forward (2-core AMD EPYC; 40 ms per block inside a
    training step). Both gradients are cheap when written out, with x [B, D, T, H, W], g = dL/dy:

        dL/dx      = the same depthwise convolution of g with the kernel flipped in t, h and w
        dL/dw[d,o] = sum over b, t, h, w of x_padded[b, d, (t, h, w) + o] * g[b, d, t, h, w],
                     one product-and-sum per kernel offset o (k^3 of them)
        dL/dbias   = sum of g over b, t, h, w

    The forward is `F.conv3d`, unchanged. (`benchmarks/bench_train.py --grid-conv 3` times it.)
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return F.conv3d(x, weight, bias, padding=weight.shape[-1] // 2, groups=weight.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        k, p, d = weight.shape[-1], weight.shape[-1] // 2, weight.shape[0]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv3d(grad, weight.flip(2, 3, 4), padding=p, groups=d)
        if ctx.needs_input_grad[1]:
            t, h, w = grad.shape[2:]
            xp = F.pad(x, (p, p, p, p, p, p)).permute(0, 2, 3, 4, 1)  # [B, T+2p, H+2p, W+2p, D]
            g = grad.permute(0, 2, 3, 4, 1)  # [B, T, H, W, D]
            grad_w = torch.stack([(xp[:, i:i + t, j:j + h, m:m + w] * g).sum((0, 1, 2, 3))
                                  for i in range(k) for j in range(k) for m in range(k)], dim=1)
            grad_w = grad_w.reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3, 4))
        return grad_x, grad_w, grad_b


class GridConv(nn.Module):
    """Depthwise 3D convolution of video tokens on their (T', H', W') grid, added to the tokens:
    the positional encoding generator of CPVT (Chu et al. 2021), here for space-time.

        x = x + DepthwiseConv3d(x on the grid)          x [B, T' * H' * W', dim]

    Attention starts out spread evenly over all tokens and needs many steps to learn that a
    token's neighbours in space and time matter most; the convolution has that locality from the
    first step, and with a full k x k x k kernel per channel it can follow motion along a diagonal
    of space-time (a factorised space-then-time kernel cannot). On bounce (docs/joint_bounce.md)
    it lowers the held-out video loss by 13-17 % at the same step and the latent-frame seam ratio
    from 3.13 to 2.63 at 300 steps. With the written-out backward of `DepthwiseConv3dFunction` it
    costs 1-4 % more time per training step on a CPU, where nn.Conv3d's own backward cost 23 %
    (`benchmarks/bench_train.py --models bounce --grid-conv 3`, batch 32, both in one session on a
    2-core AMD EPYC; 12-18 % was measured with nn.Conv3d on the Intel Xeon of earlier sessions).
    """

    def __init__(self, dim: int, kernel: int):
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"the video grid convolution kernel must be odd and >= 1, got {kernel}")
        self.conv = nn.Conv3d(dim, dim, kernel, padding=kernel // 2, groups=dim)

    def forward(self, x: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """x [B, N, dim] in frame-major grid order, N = T' * H' * W' -> [B, N, dim]."""
        b, n, d = x.shape
        # under CPU autocast the convolution stays in float32: the depthwise Conv3d backward is
        # about 2x slower in bf16 there (on a GPU autocast decides)
        fp32 = x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
        with torch.autocast("cpu", enabled=False) if fp32 else contextlib.nullcontext():
            # a permuted view, no copy: its strides are channels-last 3D, the faster CPU path
            g = (x.float() if fp32 else x).reshape(b, *grid, d).permute(0, 4, 1, 2, 3)
            if g.device.type == "cpu":  # the written-out backward (DepthwiseConv3dFunction)
                y = DepthwiseConv3dFunction.apply(g, self.conv.weight, self.conv.bias)
            else:
                y = self.conv(g)
        return x + y.permute(0, 2, 3, 4, 1).reshape(b, n, d).to(x.dtype)


class GridPosition(nn.Module):
    """Learned absolute position of each video token on its (T', H', W') grid, added to the tokens:
    one table per axis, summed (factorised, as in ViViT's and Latte's space-time embeddings).

        x = x + frame[t] + row[h] + col[w]          x [B, T' * H' * W', dim], frame-major order

    RoPE in self-attention is relative: a token knows how far it is from another, never where it is
    in the picture or in the clip, and with zero-init blocks the towers start translation-equivariant.
    In a world where objects bounce off the frame's edges, where the edge is decides the motion.
    """

    def __init__(self, dim: int, grid: tuple[int, int, int]):
        super().__init__()
        self.grid = tuple(int(n) for n in grid)
        self.frame, self.row, self.col = (nn.Parameter(torch.randn(n, dim) * 0.02) for n in self.grid)

    def forward(self, x: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """x [B, N, dim] in frame-major grid order, N = T' * H' * W' -> [B, N, dim]."""
        t, h, w = grid
        if t > self.grid[0] or (h, w) != self.grid[1:]:
            raise ValueError(f"video token grid {grid} does not fit the position tables {self.grid} "
                             "(frames up to the table's, rows and columns equal)")
        pos = self.frame[:t, None, None] + self.row[None, :, None] + self.col[None, None, :]
        return x + pos.reshape(t * h * w, -1).to(x.dtype)


class DiTBlock(nn.Module):
    """One transformer block on tokens [B, N, dim], conditioned on c [B, dim] (or [B, F, dim], a
    timestep per frame of tokens) and text [B, L, text_dim].

    With `grid_conv` > 0 (video towers) a `GridConv` of that kernel runs first, on the token grid."""

    def __init__(self, dim: int, heads: int, text_dim: int, mlp_ratio: float = 4.0, grid_conv: int = 0):
        super().__init__()
        self.grid_conv = GridConv(dim, grid_conv) if grid_conv else None
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm_text = nn.LayerNorm(dim, eps=1e-6)
        self.text_attn = Attention(dim, heads, context_dim=text_dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.adaLN_modulation[-1].weight)  # adaLN-Zero: the block starts as identity
        nn.init.zeros_(self.adaLN_modulation[-1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
                angles: torch.Tensor | RopeTable, grid: tuple[int, int, int] | None = None) -> torch.Tensor:
        """x [B, N, dim]; c [B, dim] or [B, F, dim]; text [B, L, text_dim]; text_mask [B, L] bool;
        angles [N, hd/2] of the self-attention RoPE (or their `RopeTable`, built once per forward);
        grid (T', H', W') of the tokens, needed with a grid convolution."""
        if self.grid_conv is not None:
            if grid is None:
                raise ValueError("this DiTBlock convolves its tokens on their grid: pass grid=(T', H', W')")
            x = self.grid_conv(x, grid)
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN_modulation(c).chunk(6, dim=-1)
        h, _ = self.attn(modulate(self.norm1(x), shift1, scale1), q_angles=angles, k_angles=angles)
        n = x.shape[1]
        x = x + per_token(gate1, n) * h
        h, _ = self.text_attn(self.norm_text(x), text, key_mask=text_mask)
        x = x + h
        return x + per_token(gate2, n) * self.mlp(modulate(self.norm2(x), shift2, scale2))


class FinalLayer(nn.Module):
    """tokens [B, N, dim] -> patch values [B, N, out_dim], adaLN-modulated, zero-initialised."""

    def __init__(self, dim: int, out_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.linear = nn.Linear(dim, out_dim)
        for layer in (self.adaLN_modulation[-1], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


def patchify_video(latents: torch.Tensor, patch: int) -> torch.Tensor:
    """latents [B, T, C, H, W] -> tokens [B, T * (H/p) * (W/p), C * p * p], frame-major order."""
    b, t, c, h, w = latents.shape
    if h % patch or w % patch:
        raise ValueError(f"video latent size {h}x{w} is not divisible by the patch size {patch}")
    x = latents.reshape(b, t, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 1, 3, 5, 2, 4, 6).reshape(b, t * (h // patch) * (w // patch), c * patch * patch)


def unpatchify_video(tokens: torch.Tensor, frames: int, channels: int, height: int, width: int,
                     patch: int) -> torch.Tensor:
    """Inverse of `patchify_video`: tokens [B, N, C * p * p] -> latents [B, T, C, H, W]."""
    b = tokens.shape[0]
    x = tokens.reshape(b, frames, height // patch, width // patch, channels, patch, patch)
    return x.permute(0, 1, 4, 2, 5, 3, 6).reshape(b, frames, channels, height, width)


class Tower(nn.Module):
    """Shared machinery of a tower: timestep embedder, input projection, blocks, output head."""

    def __init__(self, in_dim: int, dim: int, depth: int, heads: int, text_dim: int,
                 mlp_ratio: float, rope_theta: float, grid_conv: int = 0):
        super().__init__()
        self.dim, self.heads, self.rope_theta = dim, heads, rope_theta
        self.embed = nn.Linear(in_dim, dim)
        self.time_embed = TimestepEmbedder(dim)
        self.blocks = nn.ModuleList(DiTBlock(dim, heads, text_dim, mlp_ratio, grid_conv) for _ in range(depth))
        self.final = FinalLayer(dim, in_dim)

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads


class VideoTower(Tower):
    """Video latents [B, T', C, H', W'] <-> tokens [B, T' * (H'/p) * (W'/p), dim] with 3D RoPE."""

    def __init__(self, channels: int, patch: int, dim: int, depth: int, heads: int, text_dim: int,
                 mlp_ratio: float = 4.0, rope_theta: float = 10000.0, grid_conv: int = 0,
                 abs_pos_grid: tuple[int, int, int] | None = None):
        super().__init__(channels * patch * patch, dim, depth, heads, text_dim, mlp_ratio, rope_theta, grid_conv)
        self.channels, self.patch = channels, patch
        # (T', H'/p, W'/p): learned absolute positions of the tokens (`GridPosition`); None: RoPE only
        self.abs_pos = GridPosition(dim, abs_pos_grid) if abs_pos_grid else None

    def tokens(self, latents: torch.Tensor) -> torch.Tensor:
        x = self.embed(patchify_video(latents, self.patch))
        return x if self.abs_pos is None else self.abs_pos(x, self.grid(latents))

    def grid(self, latents: torch.Tensor) -> tuple[int, int, int]:
        """(T', H'/p, W'/p): the token grid, in the frame-major order of `patchify_video`."""
        _, t, _, h, w = latents.shape
        return t, h // self.patch, w // self.patch

    def rope_angles(self, latents: torch.Tensor) -> torch.Tensor:
        """Self-attention angles [N, head_dim / 2] from (frame, row, col) of each token."""
        _, t, _, h, w = latents.shape
        pos = video_grid_positions(t, h // self.patch, w // self.patch).to(latents.device)
        return angles_3d(pos, self.head_dim, self.rope_theta)

    def output(self, x: torch.Tensor, c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        _, t, ch, h, w = like.shape
        return unpatchify_video(self.final(x, c), t, ch, h, w, self.patch)


class AudioTower(Tower):
    """Audio latents [B, A', C_a] <-> tokens [B, A', dim] (one token per latent) with 1D RoPE."""

    def __init__(self, channels: int, dim: int, depth: int, heads: int, text_dim: int,
                 mlp_ratio: float = 4.0, rope_theta: float = 10000.0):
        super().__init__(channels, dim, depth, heads, text_dim, mlp_ratio, rope_theta)
        self.channels = channels

    def tokens(self, latents: torch.Tensor) -> torch.Tensor:
        return self.embed(latents)

    def rope_angles(self, latents: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(latents.shape[1], device=latents.device)
        return angles_1d(pos, self.head_dim, self.rope_theta)

    def output(self, x: torch.Tensor, c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.final(x, c)
