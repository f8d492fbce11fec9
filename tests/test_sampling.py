"""Sampling: time grid, Euler vs Heun on an analytic flow, modes, guidance, determinism."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from seedkit.flow import broadcast_time, clip_fraction_times, clock_noise_levels
from seedkit.sampling import (
    EulerSampler,
    Guidance,
    HeunSampler,
    LatentShapes,
    SamplerConfig,
    clock_schedule,
    guided_velocity,
    sample,
    shift_timesteps,
    timestep_schedule,
)


class TinyJointModel(nn.Module):
    """Per-sample velocities that depend on both streams (through a 'bridge'), t, and the text.

    video [B, T, C, H, W], audio [B, A, Ca]; no batch statistics, so a batch of 2B gives the same
    per-sample outputs as two batches of B.
    """

    def __init__(self, video_channels=2, audio_channels=3, vocab=10, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.video_in = nn.Linear(video_channels + 2, video_channels)
        self.audio_in = nn.Linear(audio_channels + 2, audio_channels)
        self.a2v = nn.Linear(audio_channels, video_channels)
        self.v2a = nn.Linear(video_channels, audio_channels)
        self.text = nn.Embedding(vocab, 2)
        self.null = nn.Parameter(torch.randn(2, generator=g))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def forward(self, video_latents, audio_latents, t_video, t_audio, text_ids, text_mask,
                bridge: bool = True):
        B = video_latents.shape[0]
        m = text_mask.float()[..., None]
        txt = (self.text(text_ids) * m).sum(1) / m.sum(1).clamp(min=1)
        txt = torch.where(text_mask.any(1, keepdim=True), txt, self.null.expand(B, 2))
        v = video_latents.permute(0, 1, 3, 4, 2)  # [B, T, H, W, C]
        tv = (t_video[:, None] + txt[:, :1]).reshape(B, 1, 1, 1, 1).expand(*v.shape[:-1], 1)
        ov = self.video_in(torch.cat([v, tv, torch.ones_like(tv) * txt[:, 1].reshape(B, 1, 1, 1, 1)], -1))
        ta = (t_audio[:, None] + txt[:, :1]).reshape(B, 1, 1).expand(*audio_latents.shape[:-1], 1)
        oa = self.audio_in(torch.cat([audio_latents, ta, torch.ones_like(ta) * txt[:, 1:2, None]], -1))
        if bridge:
            ov = ov + self.a2v(audio_latents.mean(1)).reshape(B, 1, 1, 1, -1)
            oa = oa + self.v2a(video_latents.mean((1, 3, 4)))[:, None, :]
        return SimpleNamespace(video=ov.permute(0, 1, 4, 2, 3), audio=oa)


class GaussianVelocity(nn.Module):
    """Exact marginal velocity of rectified flow when the data is x0 ~ N(mu, sigma^2) elementwise.

    With x_t = (1-t) x0 + t eps, s_t^2 = (1-t)^2 sigma^2 + t^2:
        v(x, t) = E[eps - x0 | x_t = x] = -mu + (t - (1-t) sigma^2) (x - (1-t) mu) / s_t^2
    and the ODE solution from x_1 = z is x_t = (1-t) mu + s_t z, so x_0 = mu + sigma z exactly.
    The same field drives both streams (mu/sigma broadcast over the trailing dims).
    """

    def __init__(self, mu, sigma):
        super().__init__()
        self.mu, self.sigma = torch.as_tensor(mu), torch.as_tensor(sigma)

    def field(self, x, t):
        t = broadcast_time(t, x)
        s2 = (1 - t) ** 2 * self.sigma**2 + t**2
        return -self.mu + (t - (1 - t) * self.sigma**2) * (x - (1 - t) * self.mu) / s2

    def forward(self, video_latents, audio_latents, t_video, t_audio, text_ids, text_mask,
                bridge: bool = True):
        return SimpleNamespace(video=self.field(video_latents, t_video),
                               audio=self.field(audio_latents, t_audio))


SHAPES = LatentShapes(video=(3, 2, 2, 2, 2), audio=(3, 4, 3))


def _text(B=3, L=4):
    ids = torch.arange(B * L).reshape(B, L) % 10
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[:, -1] = False
    return ids, mask


def test_schedule_runs_from_one_to_zero_and_shift_bends_it_towards_noise():
    ts = timestep_schedule(10, shift=3.0)
    assert ts[0] == 1.0 and ts[-1] == 0.0 and torch.all(ts[1:] < ts[:-1])
    plain = timestep_schedule(10)
    assert torch.all(ts[1:-1] > plain[1:-1])  # more of the grid near t = 1
    t = torch.tensor([0.5])
    assert torch.allclose(shift_timesteps(t, 3.0), torch.tensor([0.75]))
    assert torch.equal(shift_timesteps(t, 1.0), t)


@pytest.mark.parametrize("sampler_cls", [EulerSampler, HeunSampler])
def test_both_samplers_reach_the_gaussian_target_distribution(sampler_cls):
    mu, sigma = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 1.5])
    field = GaussianVelocity(mu, sigma)
    z = torch.randn(20000, 2, generator=torch.Generator().manual_seed(0))
    x0, _ = sampler_cls(SamplerConfig(steps=50)).integrate(
        lambda x, t: (field.field(x[0], torch.full((len(x[0]),), t)),), z)
    assert torch.allclose(x0.mean(0), mu, atol=0.05)
    assert torch.allclose(x0.std(0), sigma, atol=0.05)


def test_heun_is_more_accurate_than_euler_at_few_steps():
    mu, sigma = torch.tensor([2.0, -1.0]), torch.tensor([0.3, 1.5])
    field = GaussianVelocity(mu, sigma)
    z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = mu + sigma * z  # the ODE's exact endpoint from x_1 = z

    def err(sampler_cls, steps):
        x0, _ = sampler_cls(SamplerConfig(steps=steps)).integrate(
            lambda x, t: (field.field(x[0], torch.full((len(x[0]),), t, dtype=torch.float64)),), z)
        return (x0 - exact).abs().mean().item()

    for steps in (4, 8):
        assert err(HeunSampler, steps) < 0.5 * err(EulerSampler, steps)
    # and both converge: error shrinks with the number of steps (Heun faster, 2nd order)
    assert err(EulerSampler, 16) < err(EulerSampler, 4)
    assert err(HeunSampler, 16) < 0.25 * err(HeunSampler, 4)


def test_joint_sampling_of_the_analytic_model_ends_at_the_exact_endpoint():
    field = GaussianVelocity(1.0, 0.5)
    res = sample(field, "unconditional", None, None, SHAPES,
                 config=SamplerConfig(steps=40, method="heun", keep_trajectory=True))
    z_video, z_audio = res.trajectory_video[0], res.trajectory_audio[0]
    assert res.trajectory_video.shape == (41, *SHAPES.video)
    assert torch.allclose(res.video, 1.0 + 0.5 * z_video, atol=1e-3)
    assert torch.allclose(res.audio, 1.0 + 0.5 * z_audio, atol=1e-3)


def test_a2v_keeps_the_given_audio_exactly_and_feeds_it_at_t_zero():
    seen = []

    class Recorder(TinyJointModel):
        def forward(self, v, a, t_video, t_audio, *args, **kw):
            seen.append((t_video.clone(), t_audio.clone(), a.clone()))
            return super().forward(v, a, t_video, t_audio, *args, **kw)

    given = torch.randn(SHAPES.audio)
    ids, mask = _text()
    res = sample(Recorder(), "a2v", ids, mask, SHAPES, given_audio=given,
                 config=SamplerConfig(steps=5, method="heun", text_scale_video=2.0,
                                      modality_scale=1.5))
    assert torch.equal(res.audio, given)
    assert all(torch.all(ta == 0) and torch.equal(a[: len(given)], given) for _, ta, a in seen)
    assert all(torch.all(tv > 0) for tv, _, _ in seen[:2])  # video starts from noise
    assert not torch.equal(res.video, torch.zeros_like(res.video))


def test_v2a_keeps_the_given_video_exactly_and_feeds_it_at_t_zero():
    seen = []

    class Recorder(TinyJointModel):
        def forward(self, v, a, t_video, t_audio, *args, **kw):
            seen.append((t_video.clone(), t_audio.clone(), v.clone()))
            return super().forward(v, a, t_video, t_audio, *args, **kw)

    given = torch.randn(SHAPES.video)
    ids, mask = _text()
    shapes = {"video": SHAPES.video, "audio": SHAPES.audio}  # a plain dict works too
    res = sample(Recorder(), "v2a", ids, mask, shapes, given_video=given,
                 config=SamplerConfig(steps=4, method="heun", text_scale_audio=2.0, modality_scale=1.5))
    assert torch.equal(res.video, given)
    assert all(torch.all(tv == 0) and torch.equal(v[: len(given)], given) for tv, _, v in seen)
    assert all(torch.all(ta > 0) for _, ta, _ in seen[:2])  # audio starts from noise
    assert not torch.equal(res.audio, torch.zeros_like(res.audio))


def test_a2v_video_follows_the_given_audio_through_the_bridge():
    ids, mask = _text()
    cfg = SamplerConfig(steps=4)
    a = sample(TinyJointModel(), "a2v", ids, mask, SHAPES, given_audio=torch.zeros(SHAPES.audio), config=cfg)
    b = sample(TinyJointModel(), "a2v", ids, mask, SHAPES, given_audio=torch.ones(SHAPES.audio), config=cfg)
    assert not torch.allclose(a.video, b.video)


def test_guidance_scales_of_one_equal_the_plain_conditional_sample():
    ids, mask = _text()
    model = TinyJointModel()
    calls = []
    model.register_forward_hook(lambda m, args, kwargs, out: calls.append(args[0].shape[0]),
                                with_kwargs=True)
    guided = sample(model, "joint", ids, mask, SHAPES, config=SamplerConfig(steps=6, seed=3))
    assert set(calls) == {3} and len(calls) == 6  # one forward of B per step: no extra passes

    def plain(x, t):
        tt = torch.full((3,), t)
        out = model(x[0], x[1], tt, tt, ids, mask, bridge=True)
        return out.video, out.audio

    g = torch.Generator().manual_seed(3)
    x = (torch.randn(SHAPES.video, generator=g), torch.randn(SHAPES.audio, generator=g))
    (video, audio), _ = EulerSampler(SamplerConfig(steps=6)).integrate(plain, x)
    assert torch.allclose(guided.video, video) and torch.allclose(guided.audio, audio)


def test_batched_guidance_equals_three_separate_passes():
    model = TinyJointModel()
    ids, mask = _text()
    g = torch.Generator().manual_seed(0)
    xv, xa = torch.randn(SHAPES.video, generator=g), torch.randn(SHAPES.audio, generator=g)
    tv, ta = torch.rand(3, generator=g), torch.rand(3, generator=g)
    sv, sa, sm = 3.0, 2.0, 1.7
    v_video, v_audio = guided_velocity(model, xv, xa, tv, ta, ids, mask, Guidance(sv, sa, sm))

    cond = model(xv, xa, tv, ta, ids, mask, bridge=True)
    uncond = model(xv, xa, tv, ta, ids, torch.zeros_like(mask), bridge=True)
    off = model(xv, xa, tv, ta, ids, mask, bridge=False)
    ref_video = uncond.video + sv * (cond.video - uncond.video) + (sm - 1) * (cond.video - off.video)
    ref_audio = uncond.audio + sa * (cond.audio - uncond.audio) + (sm - 1) * (cond.audio - off.audio)
    assert torch.allclose(v_video, ref_video, atol=1e-5)
    assert torch.allclose(v_audio, ref_audio, atol=1e-5)
    assert not torch.allclose(v_video, cond.video)  # guidance did change something


def test_text_scale_is_per_modality():
    model = TinyJointModel()
    ids, mask = _text()
    xv, xa = torch.randn(SHAPES.video), torch.randn(SHAPES.audio)
    t = torch.full((3,), 0.5)
    cond = model(xv, xa, t, t, ids, mask)
    v_video, v_audio = guided_velocity(model, xv, xa, t, t, ids, mask, Guidance(4.0, 1.0, 1.0))
    assert torch.allclose(v_audio, cond.audio, atol=1e-6)
    assert not torch.allclose(v_video, cond.video)


def test_guidance_interval_guides_only_the_tokens_inside_it():
    model = TinyJointModel()
    ids, mask = _text()
    g = torch.Generator().manual_seed(1)
    xv, xa = torch.randn(SHAPES.video, generator=g), torch.randn(SHAPES.audio, generator=g)
    full = Guidance(3.0, 2.0, 1.5)
    window = Guidance(3.0, 2.0, 1.5, t_min=0.6, t_max=0.9)
    for t in (0.3, 0.95):  # outside: the conditional velocity, exactly
        tt = torch.full((3,), t)
        cond = model(xv, xa, tt, tt, ids, mask, bridge=True)
        v_video, v_audio = guided_velocity(model, xv, xa, tt, tt, ids, mask, window)
        assert torch.equal(v_video, cond.video) and torch.equal(v_audio, cond.audio)
    tt = torch.full((3,), 0.7)  # inside: as without an interval
    for a, b in zip(guided_velocity(model, xv, xa, tt, tt, ids, mask, window),
                    guided_velocity(model, xv, xa, tt, tt, ids, mask, full)):
        assert torch.equal(a, b)
    # one level per sample: each sample is guided or not by its own t
    tv = torch.tensor([0.3, 0.7, 0.95])
    v_video, _ = guided_velocity(model, xv, xa, tv, tv, ids, mask, window)
    cond = model(xv, xa, tv, tv, ids, mask, bridge=True)
    guided = guided_velocity(model, xv, xa, tv, tv, ids, mask, full)[0]
    assert torch.allclose(v_video[0], cond.video[0]) and torch.allclose(v_video[2], cond.video[2])
    assert torch.allclose(v_video[1], guided[1]) and not torch.allclose(v_video[1], cond.video[1])


def test_sampler_skips_the_guidance_passes_outside_the_interval():
    ids, mask = _text()
    model = TinyJointModel()
    calls = []
    model.register_forward_hook(lambda m, args, kwargs, out: calls.append(args[0].shape[0]), with_kwargs=True)
    cfg = SamplerConfig(steps=4, text_scale_video=3.0, guidance_t_min=0.5)  # t = 1, 0.75 inside; 0.5 too
    sample(model, "joint", ids, mask, SHAPES, config=cfg)
    assert calls == [6, 6, 6, 3]  # text pass batched with the conditional one (2B), then B alone
    with pytest.raises(ValueError, match="guidance_t_min"):
        SamplerConfig(guidance_t_min=0.9, guidance_t_max=0.5)


def test_same_seed_same_output_and_other_seed_differs():
    model = TinyJointModel()
    ids, mask = _text()
    cfg = SamplerConfig(steps=4, method="heun", text_scale_video=2.5, text_scale_audio=2.0,
                        modality_scale=1.5, seed=7)
    a = sample(model, "joint", ids, mask, SHAPES, config=cfg)
    torch.randn(5)  # the global generator state must not matter
    b = sample(model, "joint", ids, mask, SHAPES, config=cfg)
    c = sample(model, "joint", ids, mask, SHAPES, config=SamplerConfig(steps=4, method="heun", seed=8))
    assert torch.equal(a.video, b.video) and torch.equal(a.audio, b.audio)
    assert not torch.allclose(a.video, c.video)


def test_callback_sees_every_step_in_order():
    steps = []
    ids, mask = _text()
    sample(TinyJointModel(), "joint", ids, mask, SHAPES, config=SamplerConfig(steps=5),
           callback=steps.append)
    assert [s.index for s in steps] == list(range(5))
    assert steps[0].t == 1.0 and steps[-1].t_next == 0.0
    assert steps[-1].video.shape == SHAPES.video


def test_user_errors_name_the_problem():
    ids, mask = _text()
    with pytest.raises(ValueError, match="given_audio"):
        sample(TinyJointModel(), "a2v", ids, mask, SHAPES)
    with pytest.raises(ValueError, match="mode"):
        sample(TinyJointModel(), "text2audio", ids, mask, SHAPES)
    with pytest.raises(ValueError, match="method"):
        SamplerConfig(method="rk4")
    with pytest.raises(ValueError, match="given_video has shape"):
        sample(TinyJointModel(), "v2a", ids, mask, SHAPES, given_video=torch.zeros(3, 2, 2, 2))


def test_sampling_starts_from_the_models_video_noise_prior():
    """`video_noise_corr` draws the initial video noise as training did (frames correlated by rho),
    from the same seed; the audio noise and rho = 0 are unchanged."""
    from seedkit.noise import correlate_frames

    shapes = LatentShapes(video=(2, 4, 2, 2, 2), audio=(2, 4, 3))
    ids, mask = _text(B=2)
    cfg = SamplerConfig(steps=1, seed=5, keep_trajectory=True)
    plain = sample(TinyJointModel(), "joint", ids, mask, shapes, config=cfg)
    corr = sample(TinyJointModel(), "joint", ids, mask, shapes, config=cfg, video_noise_corr=0.7)
    torch.testing.assert_close(corr.trajectory_video[0], correlate_frames(plain.trajectory_video[0], 0.7))
    assert torch.equal(corr.trajectory_audio[0], plain.trajectory_audio[0])


def test_a_partial_schedule_spaces_its_steps_over_zero_to_start_like_a_full_run():
    full = timestep_schedule(10, 3.0)
    assert torch.equal(full, shift_timesteps(torch.linspace(1.0, 0.0, 11, dtype=torch.float64), 3.0))
    part = timestep_schedule(10, 3.0, start=0.6)
    assert part[0] == 0.6 and part[-1] == 0.0 and len(part) == 11 and bool((part.diff() < 0).all())
    torch.testing.assert_close(timestep_schedule(10, 1.0, start=0.6),
                               torch.linspace(0.6, 0.0, 11, dtype=torch.float64))
    # equally spaced before the shift: the unshifted partial grid is a linspace from unshift(0.6)
    u0 = 0.6 / (3.0 - 2.0 * 0.6)
    torch.testing.assert_close(part, shift_timesteps(torch.linspace(u0, 0.0, 11, dtype=torch.float64), 3.0))


def test_sdedit_starts_from_the_clip_noised_to_start_t_and_ends_on_the_exact_flow():
    """From x_t0 = (1 - t0) init + t0 noise (the full run's noise), the exact Gaussian flow ends at
    mu + sigma (x_t0 - (1 - t0) mu) / s_t0: the clip's place in the distribution is kept."""
    mu, sigma, t0 = 1.0, 0.5, 0.4
    field = GaussianVelocity(mu, sigma)
    init_v, init_a = torch.randn(SHAPES.video) + 3.0, torch.randn(SHAPES.audio) - 2.0
    full = sample(field, "unconditional", None, None, SHAPES, config=SamplerConfig(steps=1, keep_trajectory=True))
    cfg = SamplerConfig(steps=40, method="heun", start_t=t0, keep_trajectory=True)
    res = sample(field, "unconditional", None, None, SHAPES, config=cfg, init_video=init_v, init_audio=init_a)
    assert res.timesteps[0] == t0 and res.trajectory_video.shape == (41, *SHAPES.video)
    torch.testing.assert_close(res.trajectory_video[0], (1 - t0) * init_v + t0 * full.trajectory_video[0])
    torch.testing.assert_close(res.trajectory_audio[0], (1 - t0) * init_a + t0 * full.trajectory_audio[0])
    s_t0 = ((1 - t0) ** 2 * sigma**2 + t0**2) ** 0.5
    for x_t0, out in ((res.trajectory_video[0], res.video), (res.trajectory_audio[0], res.audio)):
        torch.testing.assert_close(out, mu + sigma * (x_t0 - (1 - t0) * mu) / s_t0, atol=1e-3, rtol=0)


def test_sdedit_evaluates_the_model_from_start_t_and_keeps_a_given_stream_clean():
    seen = []

    class Recorder(TinyJointModel):
        def forward(self, v, a, t_video, t_audio, *args, **kw):
            seen.append((t_video[0].item(), t_audio[0].item()))
            return super().forward(v, a, t_video, t_audio, *args, **kw)

    ids, mask = _text()
    given = torch.randn(SHAPES.audio)
    res = sample(Recorder(), "a2v", ids, mask, SHAPES, given_audio=given, init_video=torch.randn(SHAPES.video),
                 config=SamplerConfig(steps=4, start_t=0.3))
    assert [round(tv, 6) for tv, _ in seen] == [round(t, 6) for t in timestep_schedule(4, 1.0, 0.3)[:-1].tolist()]
    assert all(ta == 0 for _, ta in seen) and torch.equal(res.audio, given)


def test_sdedit_errors_name_the_missing_or_unused_clip():
    ids, mask = _text()
    with pytest.raises(ValueError, match="start_t"):
        SamplerConfig(start_t=0.0)
    with pytest.raises(ValueError, match="start_t"):
        SamplerConfig(start_t=1.5)
    part = SamplerConfig(steps=2, start_t=0.5)
    with pytest.raises(ValueError, match="pass init_audio"):
        sample(TinyJointModel(), "joint", ids, mask, SHAPES, config=part, init_video=torch.zeros(SHAPES.video))
    with pytest.raises(ValueError, match="init_video has shape"):
        sample(TinyJointModel(), "joint", ids, mask, SHAPES, config=part, init_video=torch.zeros(2, 2),
               init_audio=torch.zeros(SHAPES.audio))
    with pytest.raises(ValueError, match="init_video is only used"):  # v2a keeps the given video
        sample(TinyJointModel(), "v2a", ids, mask, SHAPES, config=part, given_video=torch.zeros(SHAPES.video),
               init_audio=torch.zeros(SHAPES.audio), init_video=torch.zeros(SHAPES.video))
    with pytest.raises(ValueError, match="init_video is only used"):
        sample(TinyJointModel(), "joint", ids, mask, SHAPES, config=SamplerConfig(steps=2),
               init_video=torch.zeros(SHAPES.video))


def test_clock_schedule_takes_every_frame_from_noise_to_clean_start_first():
    times = clock_schedule(10, 3.0, 1.0, (SHAPES.video, SHAPES.audio))
    assert len(times) == 11
    tv, ta = times[5]
    assert tv.shape == (1, 2, 1, 1, 1) and ta.shape == (1, 4, 1)
    assert all(torch.all(t == 1) for t in times[0]) and all(torch.all(t == 0) for t in times[-1])
    assert tv.flatten()[0] < tv.flatten()[1]  # half-way the clip's start is cleaner than its end
    torch.testing.assert_close(ta.flatten(), clock_noise_levels(torch.tensor([0.5]), clip_fraction_times(4), 1.0, 3.0)[0])


def test_ramped_sampling_of_the_analytic_model_ends_at_the_exact_endpoint():
    """The Gaussian field acts on each number alone, so any path of levels from 1 to 0 ends at
    mu + sigma z: the per-frame steps integrate each frame over its own whole path."""
    field = GaussianVelocity(1.0, 0.5)
    res = sample(field, "unconditional", None, None, SHAPES,
                 config=SamplerConfig(steps=80, method="heun", shift=3.0, clock_ramp=1.0, keep_trajectory=True))
    z_video, z_audio = res.trajectory_video[0], res.trajectory_audio[0]
    torch.testing.assert_close(res.video, 1.0 + 0.5 * z_video, atol=1e-3, rtol=0)
    torch.testing.assert_close(res.audio, 1.0 + 0.5 * z_audio, atol=1e-3, rtol=0)
    # half-way the start of the clip is further along than its end
    mid_v = res.trajectory_video[40]
    exact_v = 1.0 + 0.5 * z_video
    assert (mid_v[:, 0] - exact_v[:, 0]).abs().mean() < (mid_v[:, 1] - exact_v[:, 1]).abs().mean()


def test_ramped_a2v_feeds_per_frame_levels_and_keeps_the_given_audio():
    seen = []

    class Recorder(TinyJointModel):
        def forward(self, v, a, t_video, t_audio, *args, **kw):
            seen.append((t_video.clone(), t_audio.clone()))
            tv = t_video.mean(1) if t_video.dim() == 2 else t_video
            ta = t_audio.mean(1) if t_audio.dim() == 2 else t_audio
            return super().forward(v, a, tv, ta, *args, **kw)

    ids, mask = _text()
    given = torch.randn(SHAPES.audio)
    res = sample(Recorder(), "a2v", ids, mask, SHAPES, given_audio=given,
                 config=SamplerConfig(steps=4, clock_ramp=1.0))
    assert len(seen) == 4 and torch.equal(res.audio, given)
    assert all(tv.shape == (3, 2) and torch.all(ta == 0) for tv, ta in seen)
    assert seen[1][0][0, 0] < seen[1][0][0, 1]
    with pytest.raises(ValueError, match="clock_ramp"):
        SamplerConfig(clock_ramp=1.0, start_t=0.5)
