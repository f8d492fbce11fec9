"""Multi-head attention with RoPE and RMS-normalised queries and keys.

One module serves three roles: self-attention inside a tower (context = None), cross-attention
to text tokens (context = text embeddings, with a key mask) and each direction of the bridge
(context = the other stream, projected from its width). The maths is
`softmax(q k^T / sqrt(head_dim)) v`, computed by `torch.nn.functional.scaled_dot_product_attention`;
explicit weights are formed only when the caller asks for them (for plots).

Backends (`DualTowerConfig.attention`, set on every Attention by `set_attention_backend`):
    sdpa   the fused kernel (flash attention on CPU and GPU) and RMSNorm with a hand-written
           backward: the default
    math   the formulas written out in eager ops (scores, softmax, weighted sum; RMSNorm through
           autograd): the naive baseline that benchmarks/bench_train.py measures the default against
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .rope import RopeTable, apply_rope

ATTENTION_BACKENDS = ("sdpa", "math")


class RMSNormFunction(torch.autograd.Function):
    """y = x * r * weight, r = 1 / sqrt(mean(x^2) + eps), with its backward written out.

    With x_hat = x * r and g_w = dL/dy * weight (means over the last dimension):

        dL/dx      = r * (g_w - x_hat * mean(g_w * x_hat))
        dL/dweight = sum over all other dimensions of dL/dy * x_hat

    Autograd would chain the backward of every step of the forward (pow, mean, add, rsqrt, two
    broadcast products): about twice as many passes over [B, heads, N, head_dim] tensors, and the
    kit runs 56 of these norms per training step of the grid model. Statistics in float32.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        xf = x.to(torch.promote_types(x.dtype, torch.float32))  # bf16/fp16 -> fp32; fp32, fp64 as is
        # mean(x^2) from the vector norm: one reduction pass, no [..., D] temporary of x^2
        sq_mean = torch.linalg.vector_norm(xf, dim=-1, keepdim=True).square_().div_(x.shape[-1])
        r = torch.rsqrt(sq_mean.add_(eps))
        x_hat = xf * r
        ctx.save_for_backward(x_hat, r, weight)
        y = x_hat * weight
        # cast only when the dtypes differ: under torch.compile a same-dtype `.to` here (a no-op
        # that returns its input) cut the gradient of every input to zero (torch 2.11, CPU)
        return y if y.dtype == x.dtype else y.to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x_hat, r, weight = ctx.saved_tensors
        g = grad.to(x_hat.dtype)
        g_w = g * weight
        # g_w - x_hat * mean(g_w * x_hat) in one pass (addcmul), then times r in place
        dx = torch.addcmul(g_w, x_hat, (g_w * x_hat).mean(-1, keepdim=True), value=-1).mul_(r)
        dweight = (g * x_hat).sum(dim=tuple(range(g.dim() - 1))) if ctx.needs_input_grad[1] else None
        return (dx if dx.dtype == grad.dtype else dx.to(grad.dtype)), dweight, None


class RMSNorm(nn.Module):
    """x / rms(x) * weight over the last dimension (no mean subtraction, no bias).

    `fused` (default) runs `RMSNormFunction` (hand-written backward); False runs the formula
    through autograd, as the naive baseline does (`set_attention_backend(model, "math")`).
    """

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.fused = True  # hand-written backward (False: autograd through the formula)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return RMSNormFunction.apply(x, self.weight, self.eps)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    """Queries from x [B, N, dim]; keys and values from `context` [B, M, context_dim] (or x).

    The inner width is `dim` (heads * head_dim); when the context is wider or narrower, the key and
    value projections map it onto this width: that is the projection between tower widths.
    """

    def __init__(self, dim: int, heads: int, context_dim: int | None = None, qk_norm: bool = True,
                 backend: str = "sdpa"):
        super().__init__()
        _check_backend(backend)
        self.backend = backend  # "sdpa" (fused kernel) | "math" (explicit softmax: the naive baseline)
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads, self.head_dim = heads, dim // heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(context_dim or dim, 2 * dim)
        self.q_norm = RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.to_out = nn.Linear(dim, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # [B, N, dim] -> [B, heads, N, head_dim]
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                q_angles: torch.Tensor | RopeTable | None = None, k_angles: torch.Tensor | RopeTable | None = None,
                key_mask: torch.Tensor | None = None, return_weights: bool = False):
        """x [B, N, dim]; context [B, M, C]; angles [N or M, head_dim / 2] (or their `RopeTable`);
        key_mask [B, M] bool (True = attend). Returns (out [B, N, dim], weights [B, heads, N, M] or None).
        """
        ctx = x if context is None else context
        q = self.q_norm(self._split(self.to_q(x)))
        k, v = self.to_kv(ctx).chunk(2, dim=-1)
        k, v = self.k_norm(self._split(k)), self._split(v)
        if q_angles is not None:
            q = apply_rope(q, q_angles)
        if k_angles is not None:
            k = apply_rope(k, k_angles)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        weights = None
        if return_weights or self.backend == "math":
            scores = (q @ k.transpose(-1, -2)) / self.head_dim ** 0.5
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            out = weights @ v
        else:
            out = fused_attention(q, k, v, mask)
        return self.to_out(out.transpose(1, 2).flatten(2)), weights


def fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    mask: torch.Tensor | None = None) -> torch.Tensor:
    """`scaled_dot_product_attention` of q [B, h, N, d], k, v [B, h, M, d] -> [B, h, N, d].

    On a CPU, half-precision inputs (bf16 autocast) are computed in float32 and the result cast
    back: PyTorch's CPU flash-attention backward kernel is several times slower in bf16 than in
    fp32 (profiled on a 2-core AMX Xeon, bounce model at batch 24: 278 vs 37 ms per training step),
    while the projections around it gain from bf16 (`benchmarks/bench_train.py --bf16`). On a GPU
    the inputs pass as they are.
    """
    if q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cpu", enabled=False):
            out = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask)
        return out.to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def _check_backend(backend: str) -> None:
    if backend not in ATTENTION_BACKENDS:
        raise ValueError(f"attention backend must be one of {ATTENTION_BACKENDS}, got {backend!r}")


def set_attention_backend(module: nn.Module, backend: str) -> nn.Module:
    """Make every `Attention` inside `module` use `backend` ("sdpa" | "math"), and every RMSNorm
    the matching norm ("math": autograd through the formula, the naive baseline); returns `module`."""
    _check_backend(backend)
    for m in module.modules():
        if isinstance(m, Attention):
            m.backend = backend
        elif isinstance(m, RMSNorm):
            m.fused = backend != "math"
    return module
