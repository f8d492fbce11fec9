"""Rectified flow: the path, the target, timestep draws, clean conditions and the masked loss."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from seedkit.flow import FlowConfig, RectifiedFlow, broadcast_time, clip_fraction_times, clock_noise_levels

B = 64
VIDEO = (B, 2, 3, 2, 2)  # [B, T', C, H', W']
AUDIO = (B, 5, 4)  # [B, A', C_a]


def _batch(dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(VIDEO, generator=g, dtype=dtype), torch.randn(AUDIO, generator=g, dtype=dtype),
            torch.randint(0, 10, (B, 3), generator=g), torch.ones(B, 3, dtype=torch.bool))


class Oracle(nn.Module):
    """Knows the clean latents, so it returns the exact velocity eps - x0 = (x_t - x0) / t.

    For a clean stream (t = 0) there is nothing to predict; it returns garbage (NaN) there, which the
    loss must ignore.
    """

    def __init__(self, video0, audio0):
        super().__init__()
        self.video0, self.audio0 = video0, audio0
        self.calls = []

    @staticmethod
    def _velocity(x, x0, t):
        t = broadcast_time(t, x)
        return torch.where(t > 0, (x - x0) / t.clamp(min=1e-30), torch.full_like(x, float("nan")))

    def forward(self, video_latents, audio_latents, t_video, t_audio, text_ids, text_mask,
                bridge: bool = True):
        self.calls.append(SimpleNamespace(video=video_latents, audio=audio_latents, t_video=t_video,
                                          t_audio=t_audio, text_mask=text_mask, bridge=bridge))
        return SimpleNamespace(video=self._velocity(video_latents, self.video0, t_video),
                               audio=self._velocity(audio_latents, self.audio0, t_audio))


class Zero(nn.Module):
    def forward(self, video_latents, audio_latents, *args, **kwargs):
        return SimpleNamespace(video=torch.zeros_like(video_latents), audio=torch.zeros_like(audio_latents))


def test_noising_is_clean_at_t_zero_and_pure_noise_at_t_one():
    x0, eps = torch.randn(VIDEO), torch.randn(VIDEO)
    assert torch.equal(RectifiedFlow.noise(x0, eps, torch.zeros(B)), x0)
    assert torch.equal(RectifiedFlow.noise(x0, eps, torch.ones(B)), eps)
    half = RectifiedFlow.noise(x0, eps, 0.5)
    assert torch.allclose(half, 0.5 * (x0 + eps))


def test_noising_broadcasts_a_per_sample_time_over_any_shape():
    t = torch.linspace(0, 1, B)
    for shape in (VIDEO, AUDIO):
        x0, eps = torch.randn(shape), torch.randn(shape)
        xt = RectifiedFlow.noise(x0, eps, t)
        assert torch.allclose(xt[10], (1 - t[10]) * x0[10] + t[10] * eps[10])


def test_target_is_the_derivative_of_the_path():
    x0, eps = torch.randn(AUDIO), torch.randn(AUDIO)
    t, dt = torch.full((B,), 0.3), 1e-3
    finite_diff = (RectifiedFlow.noise(x0, eps, t + dt) - RectifiedFlow.noise(x0, eps, t)) / dt
    assert torch.allclose(RectifiedFlow.target(x0, eps), eps - x0)
    assert torch.allclose(finite_diff, eps - x0, atol=1e-3)


def test_loss_is_zero_for_an_oracle_that_knows_x0_and_eps():
    video, audio, ids, mask = _batch(torch.float64)
    flow = RectifiedFlow(FlowConfig(p_clean_audio=0.2, p_clean_video=0.2))
    out = flow.loss(Oracle(video, audio), video, audio, ids, mask, generator=torch.Generator().manual_seed(0))
    assert out.total.item() == pytest.approx(0.0, abs=1e-12)
    assert out.clean_audio.any() and out.clean_video.any()  # the NaN there really was masked out
    zero = flow.loss(Zero(), video, audio, ids, mask, generator=torch.Generator().manual_seed(0))
    assert zero.total.item() > 1.0  # a model that predicts nothing pays ~ E|eps - x0|^2 = 2 each


def test_loss_sums_the_modalities_with_their_weights():
    video, audio, ids, mask = _batch()
    g = lambda: torch.Generator().manual_seed(3)
    out = RectifiedFlow(FlowConfig(weight_video=2.0, weight_audio=0.5)).loss(Zero(), video, audio, ids, mask, g())
    assert torch.allclose(out.total, 2.0 * out.video + 0.5 * out.audio)
    assert out.video > 0 and out.audio > 0


def test_shared_mode_gives_both_streams_the_same_timestep():
    ts = RectifiedFlow(FlowConfig(timestep_mode="shared")).sample_timesteps(
        1000, torch.Generator().manual_seed(0))
    assert torch.equal(ts.video, ts.audio)


def test_independent_mode_draws_the_streams_apart():
    ts = RectifiedFlow(FlowConfig(timestep_mode="independent")).sample_timesteps(
        1000, torch.Generator().manual_seed(0))
    assert (ts.video != ts.audio).all()
    assert abs(torch.corrcoef(torch.stack([ts.video, ts.audio]))[0, 1]) < 0.1


def test_logit_normal_concentrates_mid_path_and_uniform_does_not():
    g = torch.Generator().manual_seed(0)
    ln = RectifiedFlow(FlowConfig(timestep_sampling="logit_normal")).sample_timesteps(20000, g).video
    un = RectifiedFlow(FlowConfig(timestep_sampling="uniform")).sample_timesteps(20000, g).video
    for t in (ln, un):
        assert t.min() >= 0 and t.max() <= 1 and abs(t.mean() - 0.5) < 0.01
    mid = lambda t: ((t > 0.3) & (t < 0.7)).float().mean()
    assert mid(un) == pytest.approx(0.4, abs=0.02)
    assert mid(ln) > 0.55  # sigmoid(N(0, 1)) puts ~0.59 there


def test_clean_modality_gets_t_zero_is_fed_clean_and_is_excluded_from_the_loss():
    video, audio, ids, mask = _batch()
    flow = RectifiedFlow(FlowConfig(p_clean_audio=0.3, p_clean_video=0.3))
    model = Oracle(video, audio)
    out = flow.loss(model, video, audio, ids, mask, torch.Generator().manual_seed(1))
    call = model.calls[0]
    ca, cv = out.clean_audio, out.clean_video
    assert ca.any() and cv.any() and not (ca & cv).any()  # never both clean
    assert torch.all(out.t_audio[ca] == 0) and torch.all(out.t_audio[~ca] > 0)
    assert torch.all(out.t_video[cv] == 0) and torch.all(out.t_video[~cv] > 0)
    assert torch.equal(call.audio[ca], audio[ca]) and torch.equal(call.video[cv], video[cv])
    assert torch.isfinite(out.total)  # the NaN predicted for clean streams did not leak


def test_clean_fractions_match_the_configured_probabilities():
    video, audio, ids, mask = _batch()
    flow = RectifiedFlow(FlowConfig(p_clean_audio=0.25, p_clean_video=0.5))
    g = torch.Generator().manual_seed(0)
    outs = [flow.loss(Zero(), video, audio, ids, mask, g) for _ in range(40)]
    ca = torch.cat([o.clean_audio for o in outs]).float().mean()
    cv = torch.cat([o.clean_video for o in outs]).float().mean()
    assert ca == pytest.approx(0.25, abs=0.04) and cv == pytest.approx(0.5, abs=0.04)


def test_an_all_clean_stream_contributes_zero_loss():
    video, audio, ids, mask = _batch()
    out = RectifiedFlow(FlowConfig(p_clean_audio=1.0, p_clean_video=0.0)).loss(
        Zero(), video, audio, ids, mask, torch.Generator().manual_seed(0))
    assert out.audio.item() == 0.0 and out.video.item() > 0


def test_text_dropout_empties_the_mask_of_dropped_samples():
    video, audio, ids, mask = _batch()
    model = Oracle(video, audio)
    out = RectifiedFlow(FlowConfig(p_drop_text=0.5)).loss(model, video, audio, ids, mask,
                                                          torch.Generator().manual_seed(0))
    m = model.calls[0].text_mask
    assert out.text_dropped.any() and (~out.text_dropped).any()
    assert not m[out.text_dropped].any() and m[~out.text_dropped].all()


def test_bridge_off_batches_follow_p_bridge_off():
    video, audio, ids, mask = _batch()
    g = torch.Generator().manual_seed(0)
    always = [RectifiedFlow(FlowConfig(p_bridge_off=1.0)).loss(Zero(), video, audio, ids, mask, g).bridge
              for _ in range(5)]
    never = [RectifiedFlow(FlowConfig(p_bridge_off=0.0)).loss(Zero(), video, audio, ids, mask, g).bridge
             for _ in range(5)]
    assert always == [False] * 5 and never == [True] * 5


def test_seeded_generator_makes_the_loss_deterministic():
    video, audio, ids, mask = _batch()
    flow = RectifiedFlow(FlowConfig(timestep_mode="independent", p_drop_text=0.3))
    torch.manual_seed(123)
    a = flow.loss(Zero(), video, audio, ids, mask, torch.Generator().manual_seed(5))
    torch.manual_seed(456)
    b = flow.loss(Zero(), video, audio, ids, mask, torch.Generator().manual_seed(5))
    c = flow.loss(Zero(), video, audio, ids, mask, torch.Generator().manual_seed(6))
    assert torch.equal(a.total, b.total) and torch.equal(a.t_audio, b.t_audio)
    assert not torch.equal(a.total, c.total)


def test_a_share_of_the_timesteps_comes_from_the_high_noise_draw():
    """p_high_noise: that share of the samples has t = sigmoid(2.2 + 0.8 n) (84 % above 0.8), the
    rest the main draw; at 0 the draw is the main one, from the same random numbers as before."""
    def draw(**flow):
        return RectifiedFlow(FlowConfig(**flow)).sample_timesteps(40000, torch.Generator().manual_seed(0)).video

    base, mixed, high = draw(), draw(p_high_noise=0.33), draw(p_high_noise=1.0)
    n = torch.randn(40000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(base, torch.sigmoid(n)) and torch.equal(high, torch.sigmoid(2.2 + 0.8 * n))
    assert torch.equal(draw(p_high_noise=0.0), base)
    above = lambda t: (t > 0.8).float().mean().item()  # noqa: E731
    assert above(base) == pytest.approx(0.08, abs=0.01) and above(high) == pytest.approx(0.84, abs=0.01)
    assert above(mixed) == pytest.approx(0.67 * above(base) + 0.33 * above(high), abs=0.01)
    from_high = mixed != base
    assert from_high.float().mean().item() == pytest.approx(0.33, abs=0.01)
    assert torch.equal(mixed[from_high], high[from_high])


def test_bad_config_values_are_rejected_with_the_option_name():
    with pytest.raises(ValueError, match="timestep_mode"):
        FlowConfig(timestep_mode="per_token")
    with pytest.raises(ValueError, match="timestep_sampling"):
        FlowConfig(timestep_sampling="cosine")
    with pytest.raises(ValueError, match="never has both"):
        FlowConfig(p_clean_audio=0.6, p_clean_video=0.6)
    with pytest.raises(ValueError, match="p_drop_text"):
        FlowConfig(p_drop_text=1.5)
    with pytest.raises(ValueError, match="clock_ramp"):
        FlowConfig(clock_ramp=-1.0)
    with pytest.raises(ValueError, match="p_clock_ramp"):
        FlowConfig(p_clock_ramp=2.0)
    with pytest.raises(ValueError, match="p_high_noise"):
        FlowConfig(p_high_noise=1.2)
    with pytest.raises(ValueError, match="high_noise_std"):
        FlowConfig(high_noise_std=0.0)


def test_noise_ignores_memory_layout():
    """A permuted view (what the video tokenizer returns) and its contiguous copy get the same noise,
    with the global generator and with a given one: stored latents then train like encoded ones."""
    from seedkit.flow import randn_like

    view = torch.zeros(2, 4, 3, 5).permute(0, 2, 1, 3)  # [2, 3, 4, 5], not contiguous
    for gen in (None, 1):
        draws = []
        for x in (view, view.contiguous()):
            torch.manual_seed(0)
            g = torch.Generator().manual_seed(gen) if gen is not None else None
            draws.append(randn_like(x, g))
        torch.testing.assert_close(draws[0], draws[1], atol=0, rtol=0)


def test_correlated_video_noise_keeps_unit_marginals_and_links_consecutive_latent_frames():
    """PYoCo's progressive prior: every entry still N(0, 1); frames k apart correlate by rho^k."""
    from seedkit.flow import correlate_frames

    eps = torch.randn(4000, 4, 2, 3, generator=torch.Generator().manual_seed(0))
    assert correlate_frames(eps, 0.0) is eps
    e = correlate_frames(eps, 0.8)
    assert e.shape == eps.shape and torch.equal(e[:, 0], eps[:, 0])
    flat = e.transpose(0, 1).reshape(4, -1)  # [T', samples]
    corr = torch.corrcoef(flat)
    assert torch.allclose(flat.std(dim=1), torch.ones(4), atol=0.02)
    for k in (1, 2, 3):
        assert abs(corr[0, k].item() - 0.8**k) < 0.02, (k, corr[0, k])
    with pytest.raises(ValueError, match="video_noise_corr"):
        FlowConfig(video_noise_corr=1.0)


def test_training_noise_follows_the_configured_video_prior():
    """The noise the loss mixes into the video correlates between consecutive latent frames by rho."""
    video, audio, ids, mask = _batch()
    seen = {}

    class Probe(nn.Module):
        def forward(self, xv, xa, tv, ta, text_ids, text_mask, bridge=True):
            seen["xv"], seen["tv"] = xv, tv
            return SimpleNamespace(video=torch.zeros_like(xv), audio=torch.zeros_like(xa))

    for rho in (0.0, 0.9):
        flow = RectifiedFlow(FlowConfig(video_noise_corr=rho, p_clean_video=0.0, p_clean_audio=0.0))
        flow.loss(Probe(), video, audio, ids, mask, generator=torch.Generator().manual_seed(3))
        t = seen["tv"].reshape(-1, 1, 1, 1, 1)
        eps = (seen["xv"] - (1 - t) * video) / t  # the noise the loss used, [B, 2, C, H', W']
        r = torch.corrcoef(eps.transpose(0, 1).reshape(2, -1))[0, 1].item()
        assert abs(r - rho) < 0.1, (rho, r)


def test_clock_ramp_levels_run_from_noise_to_clean_with_the_clip_start_ahead():
    tau = clip_fraction_times(8)
    assert torch.allclose(tau, (torch.arange(8) + 0.5) / 8)
    s = torch.tensor([0.0, 0.3, 0.5, 0.7, 1.0])
    levels = clock_noise_levels(s, tau, ramp=1.0, shift=3.0)
    assert levels.shape == (5, 8)
    assert torch.all(levels[0] == 1) and torch.all(levels[-1] == 0)
    assert torch.all(levels[:, 1:] >= levels[:, :-1])  # later in the clip: noisier
    assert torch.all(levels[1:] <= levels[:-1])  # further on: cleaner, every frame
    assert levels[2, 0] < levels[2, -1]  # half-way the start is ahead of the end
    flat = clock_noise_levels(s, tau, ramp=0.0, shift=1.0)
    assert torch.allclose(flat, (1 - s)[:, None].expand(5, 8))  # w = 0: one level, the plain path


def test_ramped_samples_give_each_frame_its_level_and_leave_clean_frames_out_of_the_loss():
    video, audio, ids, mask = _batch()
    flow = RectifiedFlow(FlowConfig(clock_ramp=1.0, p_clock_ramp=0.5, p_clean_audio=0.2, p_clean_video=0.2))
    oracle = Oracle(video, audio)
    out = flow.loss(oracle, video, audio, ids, mask, generator=torch.Generator().manual_seed(0))
    # the oracle answers NaN at t = 0: a finite loss of 0 (to rounding) means every clean frame was left out
    assert torch.isfinite(out.total) and out.total.item() < 1e-10
    assert out.t_video.shape == (B, VIDEO[1]) and out.t_audio.shape == (B, AUDIO[1])
    ramped = (out.t_video[:, 0] != out.t_video[:, -1]) | (out.t_audio[:, 0] != out.t_audio[:, -1])
    assert 10 < int(ramped.sum()) < 54  # about half of the samples
    for i in torch.nonzero(ramped).flatten().tolist():
        if out.clean_video[i] or out.clean_audio[i]:
            continue
        # video and audio on one clock: sorted by clip time, the levels never fall
        times = torch.cat([clip_fraction_times(VIDEO[1]), clip_fraction_times(AUDIO[1])])
        levels = torch.cat([out.t_video[i], out.t_audio[i]])
        assert torch.all(levels[times.argsort()].diff() >= 0)
    assert torch.all(out.t_video[out.clean_video] == 0) and torch.all(out.t_audio[out.clean_audio] == 0)


def test_a_ramp_never_drawn_leaves_the_loss_as_it_was():
    video, audio, ids, mask = _batch()
    def velocity(v, a, tv, ta, *args, **kw):  # depends on the input and the level

        return SimpleNamespace(video=v * broadcast_time(tv, v), audio=a * broadcast_time(ta, a))
    plain = RectifiedFlow(FlowConfig()).loss(velocity, video, audio, ids, mask,
                                             generator=torch.Generator().manual_seed(3))
    never = RectifiedFlow(FlowConfig(clock_ramp=1.0, p_clock_ramp=0.0)).loss(
        velocity, video, audio, ids, mask, generator=torch.Generator().manual_seed(3))
    assert never.t_video.shape == (B, VIDEO[1])
    torch.testing.assert_close(never.total, plain.total)
    torch.testing.assert_close(never.t_video[:, 0], plain.t_video)
