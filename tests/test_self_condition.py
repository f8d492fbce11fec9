"""Self-conditioning (Chen et al. 2022): training feeds the model the estimate of a first pass
without gradients, the sampler the guided estimate of the step before (the model's side, its
zero-initialised projections, is tested in test_model.py)."""
from types import SimpleNamespace

import pytest
import torch

from seedkit.flow import FlowConfig, RectifiedFlow
from seedkit.model import DualOutput, velocity_to_data
from seedkit.sampling import LatentShapes, SamplerConfig, sample


class Spy(torch.nn.Module):
    """A self-conditioning stand-in: velocity w * x (+ the estimate, when given); records its calls."""

    def __init__(self, self_condition: bool = True):
        super().__init__()
        self.config = SimpleNamespace(self_condition=self_condition)
        self.w = torch.nn.Parameter(torch.tensor(0.5))
        self.calls: list[dict] = []

    def forward(self, xv, xa, tv, ta, ids, mask, bridge=True, video_cond=None, audio_cond=None):
        self.calls.append({"xv": xv.clone(), "tv": tv.clone(), "video_cond": video_cond, "audio_cond": audio_cond,
                           "grad": torch.is_grad_enabled(), "batch": xv.shape[0]})
        v, a = self.w * xv, self.w * xa
        if video_cond is not None:
            v, a = v + 0.1 * video_cond, a + 0.1 * audio_cond
        return DualOutput(video=v, audio=a)


def batch(b: int = 6):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(b, 2, 3, 2, 2, generator=g), torch.randn(b, 4, 3, generator=g),
            torch.randint(2, 9, (b, 3), generator=g), torch.ones(b, 3, dtype=torch.bool))


def test_training_feeds_the_first_pass_estimate_to_the_chosen_samples_without_its_gradient():
    spy = Spy()
    loss = RectifiedFlow(FlowConfig(p_self_cond=0.5)).loss(spy, *batch(), generator=torch.Generator().manual_seed(3))
    first, second = spy.calls
    assert not first["grad"] and second["grad"] and first["video_cond"] is None
    estimate = velocity_to_data(first["xv"], 0.5 * first["xv"], first["tv"])
    chosen = second["video_cond"].flatten(1).abs().sum(1) > 0
    assert 0 < chosen.sum() < 6  # a share of the samples; the rest read zeros
    torch.testing.assert_close(second["video_cond"][chosen], estimate[chosen])
    loss.total.backward()  # the gradient reaches w through the second pass only
    assert spy.w.grad is not None and torch.isfinite(spy.w.grad)


def test_a_model_without_self_conditioning_trains_exactly_as_before(monkeypatch):
    """No extra pass and no extra random draw: the seeded loss and the generator's state after it are
    those of the flow without the feature; a self-conditioning model that chooses no sample runs once."""
    flow = RectifiedFlow(FlowConfig(p_self_cond=0.5))

    def loss_and_state(model, flow=flow):
        g = torch.Generator().manual_seed(3)
        return flow.loss(model, *batch(), generator=g).total, g.get_state()

    plain = Spy(self_condition=False)
    got, got_state = loss_and_state(plain)
    assert len(plain.calls) == 1 and plain.calls[0]["video_cond"] is None
    spy = Spy()
    loss_and_state(spy, RectifiedFlow(FlowConfig(p_self_cond=0.0)))  # chooses none of the samples
    assert len(spy.calls) == 1 and spy.calls[0]["video_cond"] is None
    monkeypatch.setattr(RectifiedFlow, "_self_condition", lambda self, *args, **kwargs: {})  # no feature
    want, want_state = loss_and_state(Spy(self_condition=False))
    assert torch.equal(got, want) and torch.equal(got_state, want_state)


@pytest.mark.parametrize("text_scale", [1.0, 3.0])
def test_the_sampler_feeds_back_the_guided_estimate_of_the_step_before(text_scale):
    spy = Spy()
    shapes = LatentShapes(video=(2, 2, 3, 2, 2), audio=(2, 4, 3))
    ids, mask = torch.randint(2, 9, (2, 3)), torch.ones(2, 3, dtype=torch.bool)
    cfg = SamplerConfig(steps=4, text_scale_video=text_scale, text_scale_audio=text_scale, seed=0)
    sample(spy, "joint", ids, mask, shapes, config=cfg)
    assert len(spy.calls) == 4 and spy.calls[0]["video_cond"] is None
    for before, now in zip(spy.calls, spy.calls[1:]):
        b = shapes.video[0]
        v = 0.5 * before["xv"][:b] + (0.1 * before["video_cond"][:b] if before["video_cond"] is not None else 0)
        # guidance leaves this spy's velocity as it is (its text and null passes agree)
        torch.testing.assert_close(now["video_cond"][:b], velocity_to_data(before["xv"][:b], v, before["tv"][:b]))
        assert now["batch"] == (2 * b if text_scale != 1.0 else b)
