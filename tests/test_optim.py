"""Muon for the hidden matrices, AdamW for the rest (`seedkit.optim`); fits through `seedkit fit`: reliability/."""
import pytest
import torch
from torch import nn

from seedkit.model import DualTowerConfig, DualTowerDiT
from seedkit.optim import MuonAdamW, muon_split, orthogonalize


@pytest.mark.parametrize("shape", [(64, 64), (32, 128), (128, 32)])
def test_orthogonalize_flattens_the_spectrum_and_keeps_the_directions(shape):
    g = torch.Generator().manual_seed(0)
    # a badly conditioned matrix: singular values from 1e-3 to 10
    u, _ = torch.linalg.qr(torch.randn(shape[0], shape[0], generator=g))
    v, _ = torch.linalg.qr(torch.randn(shape[1], shape[1], generator=g))
    k = min(shape)
    s = torch.logspace(-3, 1, k)
    m = u[:, :k] @ torch.diag(s) @ v[:, :k].T
    o = orthogonalize(m)
    assert o.shape == m.shape and torch.linalg.svdvals(o).max() < 1.25
    # in m's own singular basis the result is diagonal: the same directions, flattened gains
    d = u[:, :k].T @ o @ v[:, :k]
    gains = d.diagonal()
    assert (d - torch.diag(gains)).abs().max() < 0.05
    big = s > 0.05  # relative to the largest 10; smaller ones rise more slowly in 5 steps
    assert gains[big].min() > 0.65 and gains.max() < 1.25
    assert gains[s < 1e-2].max() < gains[big].min()  # the order is kept


def test_the_split_puts_block_and_bridge_matrices_on_muon_only():
    model = DualTowerDiT(DualTowerConfig.bounce(video_channels=4, audio_channels=4))
    groups = muon_split(model)
    names = {id(p): n for n, p in model.named_parameters()}
    muon = [names[id(p)] for p in groups[0]["params"]]
    rest = [names[id(p)] for g in groups[1:] for p in g["params"]]
    assert groups[0]["use_muon"] and not groups[1]["use_muon"] and groups[2]["weight_decay"] == 0.0
    assert len(muon) + len(rest) == len(names)
    assert "video.blocks.0.attn.to_q.weight" in muon and "bridges.0.audio_to_video.to_kv.weight" in muon
    for name in ("video.embed.weight", "video.final.linear.weight", "text_embed.weight",
                 "video.blocks.0.attn.to_q.bias", "bridges.0.gate_audio_to_video"):
        assert name in rest
    assert all(names[id(p)].split(".")[-1] != "bias" for p in groups[1]["params"])  # biases: no decay


def test_a_muon_group_with_a_vector_is_refused():
    with pytest.raises(ValueError, match="non-matrix parameters"):
        MuonAdamW([{"params": [nn.Parameter(torch.zeros(3))], "use_muon": True}])


def test_muon_update_has_adamw_rms_and_the_adamw_part_equals_torch_adamw():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(96, 128) * 0.02)
    b = nn.Parameter(torch.randn(96) * 0.02)
    ref = nn.Parameter(b.detach().clone())
    opt = MuonAdamW([{"params": [w], "use_muon": True}, {"params": [b], "use_muon": False}],
                    lr=1e-2, weight_decay=0.1, momentum=0.0)
    torch_opt = torch.optim.AdamW([ref], lr=1e-2, weight_decay=0.1, betas=(0.9, 0.99), eps=1e-8)
    for _ in range(3):
        grad_b = torch.randn(96)
        w.grad, b.grad, ref.grad = torch.randn(96, 128), grad_b, grad_b.clone()
        before = w.detach().clone()
        opt.step()
        torch_opt.step()
        step = w.detach() - before * (1 - 1e-2 * 0.1)
        # a semi-orthogonal 96 x 128 matrix has RMS 1 / sqrt(128): x 0.2 sqrt(128) lr -> 0.2 lr, AdamW's
        # typical update RMS (Newton-Schulz leaves the singular values a little under 1 on average)
        rms = step.pow(2).mean().sqrt().item()
        assert 0.85 * 0.2 * 1e-2 < rms < 1.05 * 0.2 * 1e-2
    torch.testing.assert_close(b.detach(), ref.detach())


def test_muon_fits_a_linear_map():
    torch.manual_seed(0)
    x = torch.randn(256, 32)
    target = x @ torch.randn(32, 16)
    net = nn.Sequential(nn.Linear(32, 64), nn.Linear(64, 16))
    groups = [{"params": [net[0].weight, net[1].weight], "use_muon": True},
              {"params": [net[0].bias, net[1].bias], "use_muon": False, "weight_decay": 0.0}]
    opt = MuonAdamW(groups, lr=2e-2, weight_decay=0.0)
    first = None
    for _ in range(200):
        loss = (net(x) - target).pow(2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.02 * first
