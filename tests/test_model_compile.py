"""torch.compile of the dual-tower model on CPU (small config; inductor needs a C++ compiler).

One block per tower keeps the number of generated kernels, hence the C++ build time, small:
about 80 s of CPU cold, 20 s with the inductor cache warm.
"""
import pytest
import torch

from seedkit.model import DualTowerConfig, DualTowerDiT


@pytest.mark.slow
def test_compiled_model_is_one_graph_and_matches_eager_on_cpu():
    cfg = DualTowerConfig.bounce(video_dim=32, video_heads=2, video_depth=1, audio_dim=16, audio_heads=2,
                                 audio_depth=1, text_dim=16, mlp_ratio=2.0)
    torch.manual_seed(0)
    model = DualTowerDiT(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():  # wake the zero-initialised layers up
            if torch.all(p == 0):
                p.normal_(0, 0.1)
    video = torch.randn(2, cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width)
    audio = torch.randn(2, cfg.audio_length, cfg.audio_channels)
    t = torch.rand(2)
    ids = torch.randint(0, cfg.vocab_size, (2, 4))
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    compiled = torch.compile(model, fullgraph=True)  # fullgraph: a graph break is an error
    with torch.no_grad():
        eager, fast = model(video, audio, t, t, ids, mask), compiled(video, audio, t, t, ids, mask)
    torch.testing.assert_close(fast.video, eager.video, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fast.audio, eager.audio, atol=1e-4, rtol=1e-4)
    assert fast.video.abs().sum() > 0


@pytest.mark.slow
def test_compiled_rms_norm_passes_gradients_like_eager():
    """RMSNormFunction (hand-written backward) under torch.compile: the gradients of its input and
    weight equal eager ones. A same-dtype `.to` at the end of its forward made them all zero under
    compile (torch 2.11, CPU): every query/key projection and norm of a compiled model got no
    gradient, so `--model.compile true` trained no attention pattern."""
    from seedkit.model.attention import RMSNorm

    torch.manual_seed(0)
    norm, lin = RMSNorm(8), torch.nn.Linear(8, 8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    x, c = torch.randn(4, 8), torch.randn(4, 8)

    def loss(inp):
        return (norm(lin(inp)) * c).sum()

    params = [lin.weight, lin.bias, norm.weight]
    eager = torch.autograd.grad(loss(x), params)
    compiled = torch.autograd.grad(torch.compile(loss, fullgraph=True)(x), params)
    for got, want in zip(compiled, eager):
        assert want.abs().max() > 0.1
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
