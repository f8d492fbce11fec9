"""Muon for the towers' hidden weight matrices, AdamW for every other parameter, as one optimizer.

Muon (Jordan et al. 2024) steps a weight matrix W (out x in) along the nearest semi-orthogonal
matrix to its Nesterov momentum M: U V^T for M = U S V^T, found without an SVD by five quintic
Newton-Schulz iterations (they push every singular value into about [0.7, 1.2]). Every direction
of the update then moves as far, where AdamW's update is dominated by a few large directions.
The update is scaled by 0.2 sqrt(max(out, in)) so that its RMS matches a typical AdamW update
(Liu et al. 2025, "Muon is scalable for LLM training"): one learning rate, one warm-up and one
weight decay serve both kinds of parameter, and the kit's schedule (`lit.lr_factor`) drives both.

Muon is for hidden matrices only: embeddings, output layers, norms, biases, gates and the grid
conv's kernels stay on AdamW (`muon_split`).

    opt = MuonAdamW(muon_split(model), lr=1e-3, weight_decay=0.01)
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Quintic Newton-Schulz coefficients of Jordan et al.: the fastest rise of small singular values
# that keeps every singular value bounded (they do not converge to 1, they land in ~[0.7, 1.2]).
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalize(m: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """The nearest semi-orthogonal matrix to `m` (out, in), approximately: U V^T for m = U S V^T.

    Runs in float32 on the wider-than-tall orientation (the Gram matrix is the smaller one).
    """
    a, b, c = NS_COEFFICIENTS
    x = m.float()
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (x.norm() + eps)  # spectral norm <= Frobenius norm <= 1: inside the iteration's basin
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).to(m.dtype)


def muon_split(model: nn.Module, hidden: tuple[str, ...] = ("blocks.", "bridges.")) -> list[dict]:
    """Parameter groups for `MuonAdamW`: 2-D weights inside `hidden` modules on Muon, the rest on AdamW.

    A parameter is hidden when its name contains one of `hidden` (a tower block or a bridge);
    embeddings, timestep MLPs, final layers, biases, norms, scalar gates and conv kernels are not.
    AdamW's no-decay group holds the parameters with fewer than 2 dims (biases, norms, gates).
    """
    muon, adam_decay, adam_plain = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim == 2 and any(h in name for h in hidden):
            muon.append(p)
        elif p.ndim >= 2:
            adam_decay.append(p)
        else:
            adam_plain.append(p)
    return [{"params": muon, "use_muon": True},
            {"params": adam_decay, "use_muon": False},
            {"params": adam_plain, "use_muon": False, "weight_decay": 0.0}]


class MuonAdamW(torch.optim.Optimizer):
    """Muon on the groups with `use_muon`, AdamW on the others; decoupled weight decay on both.

    Args:
        params: parameter groups, each with a `use_muon` flag (see `muon_split`).
        lr: peak learning rate of both (Muon's update is rescaled to AdamW's RMS).
        weight_decay: decoupled weight decay (a group may set its own, e.g. 0 for norms).
        momentum: Muon's (Nesterov) momentum.
        betas, eps: AdamW's moment decays and denominator floor.
        ns_steps: Newton-Schulz iterations per Muon update.
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.01, momentum: float = 0.95,
                 betas: tuple[float, float] = (0.9, 0.99), eps: float = 1e-8, ns_steps: int = 5):
        if lr < 0 or weight_decay < 0 or not 0 <= momentum < 1:
            raise ValueError(f"MuonAdamW: lr, weight_decay >= 0 and 0 <= momentum < 1 expected, got "
                             f"lr={lr}, weight_decay={weight_decay}, momentum={momentum}")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, betas=betas, eps=eps,
                        ns_steps=ns_steps, use_muon=False)
        super().__init__(params, defaults)
        for group in self.param_groups:
            if group["use_muon"] and any(p.ndim != 2 for p in group["params"]):
                shapes = [tuple(p.shape) for p in group["params"] if p.ndim != 2]
                raise ValueError(f"MuonAdamW: a use_muon group holds non-matrix parameters {shapes}; "
                                 "Muon steps 2-D weights only (see muon_split)")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if wd:
                    p.mul_(1 - lr * wd)
                if group["use_muon"]:
                    self._muon(p, state, group, lr)
                else:
                    self._adamw(p, state, group, lr)
        return loss

    @staticmethod
    def _muon(p: torch.Tensor, state: dict, group: dict, lr: float) -> None:
        if not state:
            state["momentum_buffer"] = torch.zeros_like(p)
        buf, mu = state["momentum_buffer"], group["momentum"]
        buf.lerp_(p.grad, 1 - mu)
        update = p.grad.lerp(buf, mu)  # Nesterov: look one momentum step ahead
        scale = 0.2 * math.sqrt(max(p.shape))
        p.add_(orthogonalize(update, group["ns_steps"]), alpha=-lr * scale)

    @staticmethod
    def _adamw(p: torch.Tensor, state: dict, group: dict, lr: float) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        (b1, b2), state["step"] = group["betas"], state["step"] + 1
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m.lerp_(p.grad, 1 - b1)
        v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
        denom = (v / (1 - b2 ** t)).sqrt_().add_(group["eps"])
        p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))
