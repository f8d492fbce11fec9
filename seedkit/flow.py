"""Rectified flow for two latent streams: noising, timestep sampling, velocity target, loss.

The path (MOVA, LTX-2, SD3) joins a clean latent x0 to Gaussian noise eps on a straight line

    x_t = (1 - t) x0 + t eps,        t in [0, 1]   (t = 1: pure noise, t = 0: clean)

whose velocity dx_t/dt = eps - x0 is the regression target. A model v(x_t, t) trained with

    L = w_video E|v_video - (eps_v - x0_v)|^2 + w_audio E|v_audio - (eps_a - x0_a)|^2

learns the marginal velocity E[eps - x0 | x_t]; integrating dx/dt = v from t = 1 to 0 turns noise
into data (seedkit.sampling).

Each modality has its own timestep (`t_video`, `t_audio`), equal in `shared` mode. With probability
`p_clean_audio` (resp. `p_clean_video`) a sample's audio (video) is given clean, t = 0: the model
sees it as a condition and learns audio->video (video->audio) with the same weights. A clean stream
has nothing to predict, so its loss is masked out for that sample. Text is dropped (mask all False,
the model's learned null token) with probability `p_drop_text`, and whole batches run with the
bridge off with probability `p_bridge_off`: both give the unconditional predictions that guidance
needs at sampling time.

Clock ramp (`clock_ramp` w > 0; Rolling Diffusion, Ruhe et al. 2024; Diffusion Forcing, Chen et al.
2024): in a share `p_clock_ramp` of the samples the noise level is not one number but rises along
the clip's own clock. With the generation's progress s in [0, 1] and a token's time tau in [0, 1]
(its span's middle over the clip's length, the bridge's clock),

    p(s, tau) = clamp(s (1 + w) - w tau, 0, 1),     t = shift(1 - p)

so the start of the clip is cleaner than its end, and video and audio of the same instant share
their noise level. A sampler that walks s from 0 to 1 (`SamplerConfig.clock_ramp`) then draws the
clip from its start onwards: each latent frame is drawn while the frames before it are already
mostly decided, a continuation rather than a whole layout at once. Tokens at t = 0 are context
and leave the loss.

The model is any callable
    model(video_latents [B, T', C, H', W'], audio_latents [B, A', C_a], t_video [B], t_audio [B],
          text_ids [B, L] long, text_mask [B, L] bool, bridge: bool = True) -> out
with `out.video` and `out.audio` velocities shaped like the latents; with a clock ramp it gets
t_video [B, T'] and t_audio [B, A'], a level per latent frame / audio latent.

Self-conditioning (Chen et al. 2022): a model whose `config.self_condition` is true also takes
`video_cond` / `audio_cond`, estimates of the clean latents. For a share `p_self_cond` of the
samples the loss first runs the model without gradients and feeds its estimate x_t - t v back
(zeros for the others, as at the sampler's first step); the sampler feeds each step the estimate
of the step before (seedkit.sampling).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .model.dual import broadcast_time, velocity_to_data
from .model.rope import token_times_s
from .noise import correlate_frames  # the video noise prior (also imported from here by callers)
from .typed import check_types

TIMESTEP_SAMPLINGS = ("logit_normal", "uniform")
TIMESTEP_MODES = ("shared", "independent")


@dataclass
class FlowConfig:
    """How training draws timesteps, clean conditions and dropped conditions, and weighs the loss."""

    timestep_sampling: str = "logit_normal"  # "logit_normal" (SD3: more steps mid-path) | "uniform"
    logit_mean: float = 0.0  # mean of the normal before the sigmoid (0: centred on t = 0.5)
    logit_std: float = 1.0  # std of that normal (larger: more mass near t = 0 and t = 1)
    # A second logit-normal near the noise end, drawn for a share of the samples (0: never): the
    # first stretch of the path, where the layout of the clip is decided, gets more of the training
    p_high_noise: float = 0.0
    high_noise_mean: float = 2.2  # its logit mean (sigmoid(2.2) = 0.90)
    high_noise_std: float = 0.8  # its logit std
    timestep_mode: str = "shared"  # "shared": t_audio = t_video | "independent": one draw each
    p_clean_audio: float = 0.1  # P(audio given clean, t_audio = 0): teaches audio -> video
    p_clean_video: float = 0.1  # P(video given clean, t_video = 0): teaches video -> audio
    p_drop_text: float = 0.1  # P(text replaced by the null token): for text guidance
    p_bridge_off: float = 0.0  # P(a whole batch runs without the bridge): for modality guidance
    weight_video: float = 1.0  # weight of the video MSE in the total loss
    weight_audio: float = 1.0  # weight of the audio MSE in the total loss
    video_noise_corr: float = 0.0  # correlation rho of the video noise between consecutive latent
    #   frames (0: i.i.d. noise; PYoCo's progressive noise prior); the sampler draws the same prior
    clock_ramp: float = 0.0  # w: noise rising along the clip's clock in ramped samples (0: never;
    #   1: the clip's end starts when its start is done, its middle when the start is half
    #   done); see the module docstring
    p_clock_ramp: float = 0.5  # share of the samples drawn with the ramp when clock_ramp > 0
    ramp_shift: float = 3.0  # timestep shift of the ramp's noise levels (match the sampler's shift)
    p_self_cond: float = 0.5  # with a self-conditioning model (`DualTowerConfig.self_condition`): share
    #   of the samples fed a first pass's estimate of the clean latents (the rest read zeros)
    motion_weight: float = 1.0  # with a motion head (`DualTowerConfig.motion_head`): weight of its MSE

    def __post_init__(self):
        check_types(self)
        if self.timestep_sampling not in TIMESTEP_SAMPLINGS:
            raise ValueError(f"FlowConfig.timestep_sampling={self.timestep_sampling!r}: "
                             f"expected one of {TIMESTEP_SAMPLINGS}")
        if self.timestep_mode not in TIMESTEP_MODES:
            raise ValueError(f"FlowConfig.timestep_mode={self.timestep_mode!r}: "
                             f"expected one of {TIMESTEP_MODES}")
        for name in ("p_clean_audio", "p_clean_video", "p_drop_text", "p_bridge_off", "p_self_cond",
                     "p_high_noise"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"FlowConfig.{name}={p}: expected a probability in [0, 1]")
        if self.p_clean_audio + self.p_clean_video > 1.0:
            raise ValueError(f"FlowConfig.p_clean_audio + p_clean_video = "
                             f"{self.p_clean_audio + self.p_clean_video}: expected <= 1 "
                             "(a sample never has both modalities clean)")
        for name in ("logit_std", "high_noise_std"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FlowConfig.{name}={getattr(self, name)}: expected > 0")
        if self.clock_ramp < 0:
            raise ValueError(f"FlowConfig.clock_ramp={self.clock_ramp}: expected >= 0 (0: no ramp)")
        if not 0.0 <= self.p_clock_ramp <= 1.0:
            raise ValueError(f"FlowConfig.p_clock_ramp={self.p_clock_ramp}: expected a probability in [0, 1]")
        if self.ramp_shift <= 0:
            raise ValueError(f"FlowConfig.ramp_shift={self.ramp_shift}: expected > 0")
        if self.motion_weight < 0:
            raise ValueError(f"FlowConfig.motion_weight={self.motion_weight}: expected >= 0")
        if not 0.0 <= self.video_noise_corr < 1.0:
            raise ValueError(f"FlowConfig.video_noise_corr={self.video_noise_corr}: expected a "
                             "correlation in [0, 1)")


@dataclass
class Timesteps:
    """One training draw of timesteps: `video` [B] and `audio` [B] in [0, 1]."""

    video: Tensor
    audio: Tensor


@dataclass
class FlowLoss:
    """Result of `RectifiedFlow.loss`.

    total: scalar, weighted sum of the two modality losses (the thing to backpropagate).
    video, audio: scalar MSE of each modality over the samples (frames) where it was noised (0 if none).
    t_video, t_audio: [B] timesteps used (0 where the modality was given clean); with a clock
        ramp one per latent frame / audio latent, [B, T'] and [B, A'].
    clean_video, clean_audio: [B] bool, which samples had that modality as a clean condition.
    text_dropped: [B] bool, which samples had their text replaced by the null token.
    bridge: whether the bridge was on for this batch.
    motion: scalar MSE of the motion head (None without one); in `total` times `motion_weight`.
    """

    total: Tensor
    video: Tensor
    audio: Tensor
    t_video: Tensor
    t_audio: Tensor
    clean_video: Tensor
    clean_audio: Tensor
    text_dropped: Tensor
    bridge: bool
    motion: Tensor | None = None


def randn_like(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard normal noise shaped like `x`, drawn from `generator` on its own device (so a CPU
    generator gives the same numbers whatever device `x` lives on), returned on x's device/dtype.

    The numbers fill x's shape in row-major order whatever x's memory layout (`torch.randn_like`
    would follow its strides), so a permuted view and a contiguous copy get the same noise."""
    if generator is None:
        return torch.randn(x.shape, device=x.device, dtype=x.dtype)
    eps = torch.randn(x.shape, generator=generator, device=generator.device, dtype=torch.float32)
    return eps.to(device=x.device, dtype=x.dtype)


def _rand(n: int, generator: torch.Generator | None, device) -> Tensor:
    gen_device = generator.device if generator is not None else device
    return torch.rand(n, generator=generator, device=gen_device).to(device)


def _randn(n: int, generator: torch.Generator | None, device) -> Tensor:
    gen_device = generator.device if generator is not None else device
    return torch.randn(n, generator=generator, device=gen_device).to(device)


def shift_timesteps(t: Tensor, shift: float) -> Tensor:
    """t' = s t / (1 + (s - 1) t); keeps 0 and 1 fixed, s > 1 bends the schedule towards 1.
    The sampler's timestep shift (seedkit.sampling), and the shape of a clock ramp's levels."""
    return shift * t / (1 + (shift - 1) * t)


def clip_fraction_times(frames: int, device=None) -> Tensor:
    """tau [frames] in (0, 1): each latent frame's time on the bridge's clock (`token_times_s`, the
    middle of its span) in units of the clip's length."""
    return token_times_s(frames, float(frames)).to(device)


def clock_noise_levels(progress: Tensor, tau: Tensor, ramp: float, shift: float = 1.0) -> Tensor:
    """Noise level t [B, F] of tokens at clip times tau [F] when the generation has progressed
    `progress` [B] in [0, 1] (0: all noise, 1: all clean) along a clock ramp of width `ramp` w:
    p = clamp(s (1 + w) - w tau, 0, 1), t = shift_timesteps(1 - p, shift). w = 0 gives every
    token the same level."""
    p = (progress[:, None] * (1 + ramp) - ramp * tau[None, :]).clamp(0.0, 1.0)
    return shift_timesteps(1.0 - p, shift)


class RectifiedFlow:
    """Rectified flow on (video, audio) latents; see the module docstring for the maths."""

    def __init__(self, config: FlowConfig | None = None):
        self.config = config or FlowConfig()

    def _draw_t(self, batch_size: int, generator, device) -> Tensor:
        c = self.config
        if c.timestep_sampling == "uniform":
            return _rand(batch_size, generator, device)
        # logit-normal: t = sigmoid(m + s n), n ~ N(0, 1)
        n = _randn(batch_size, generator, device)
        t = torch.sigmoid(c.logit_mean + c.logit_std * n)
        if c.p_high_noise > 0:  # the same n, through the high-noise logit-normal, for a share of the samples
            high = _rand(batch_size, generator, device) < c.p_high_noise
            t = torch.where(high, torch.sigmoid(c.high_noise_mean + c.high_noise_std * n), t)
        return t

    def sample_timesteps(self, batch_size: int, generator: torch.Generator | None = None,
                         device: torch.device | str = "cpu") -> Timesteps:
        """Draw t_video, t_audio [B] in (0, 1): the same draw in `shared` mode, two in `independent`."""
        t_video = self._draw_t(batch_size, generator, device)
        if self.config.timestep_mode == "shared":
            return Timesteps(video=t_video, audio=t_video.clone())
        return Timesteps(video=t_video, audio=self._draw_t(batch_size, generator, device))

    @staticmethod
    def noise(x0: Tensor, eps: Tensor, t: Tensor | float) -> Tensor:
        """x_t = (1 - t) x0 + t eps; x0, eps [B, ...], t scalar or [B] (broadcast over the rest)."""
        t = broadcast_time(t, x0)
        return (1 - t) * x0 + t * eps

    @staticmethod
    def target(x0: Tensor, eps: Tensor) -> Tensor:
        """Velocity of the straight path, d x_t / dt = eps - x0 (independent of t)."""
        return eps - x0

    def loss(self, model, video_latents: Tensor, audio_latents: Tensor, text_ids: Tensor,
             text_mask: Tensor, generator: torch.Generator | None = None,
             motion_target: Tensor | None = None) -> FlowLoss:
        """One training loss on a batch.

        video_latents [B, T', C, H', W'], audio_latents [B, A', C_a] (clean, x0), text_ids [B, L]
        long, text_mask [B, L] bool; for a model with a motion head, motion_target
        [B, N_video_tokens, motion_head] (`seedkit.data.motion.motion_targets`). All randomness
        (timesteps, clean/dropped choices, noise, bridge flag) comes from `generator` when given,
        in a fixed order, so a seeded generator gives the same loss twice.
        """
        c = self.config
        B, device = video_latents.shape[0], video_latents.device
        if audio_latents.shape[0] != B or text_ids.shape[0] != B or text_mask.shape != text_ids.shape:
            raise ValueError(f"batch mismatch: video {tuple(video_latents.shape)}, audio "
                             f"{tuple(audio_latents.shape)}, text_ids {tuple(text_ids.shape)}, "
                             f"text_mask {tuple(text_mask.shape)}")
        ts = self.sample_timesteps(B, generator, device)
        # One uniform draw per sample picks at most one clean modality (never both).
        u = _rand(B, generator, device)
        clean_audio = u < c.p_clean_audio
        clean_video = (u >= c.p_clean_audio) & (u < c.p_clean_audio + c.p_clean_video)
        text_dropped = _rand(B, generator, device) < c.p_drop_text
        bridge = bool(_rand(1, generator, "cpu").item() >= c.p_bridge_off)
        eps_v = correlate_frames(randn_like(video_latents, generator), c.video_noise_corr)
        eps_a = randn_like(audio_latents, generator)

        t_video = torch.where(clean_video, torch.zeros_like(ts.video), ts.video)
        t_audio = torch.where(clean_audio, torch.zeros_like(ts.audio), ts.audio)
        keep_video, keep_audio = ~clean_video, ~clean_audio
        if c.clock_ramp > 0:  # one level per latent frame / audio latent: [B, T'], [B, A']
            t_video, t_audio = self._ramp(t_video, t_audio, video_latents.shape[1], audio_latents.shape[1],
                                          generator)
            # a token at t = 0 (a given stream, or the ramp's finished start) is context, not a target
            keep_video, keep_audio = t_video > 0, t_audio > 0
        x_video = self.noise(video_latents, eps_v, t_video)
        x_audio = self.noise(audio_latents, eps_a, t_audio)
        mask = text_mask & ~text_dropped[:, None]

        tv, ta = t_video.to(video_latents.dtype), t_audio.to(audio_latents.dtype)
        cond = self._self_condition(model, x_video, x_audio, tv, ta, text_ids, mask, bridge, generator)
        out = model(x_video, x_audio, tv, ta, text_ids, mask, bridge=bridge, **cond)
        loss_v = _masked_mse(out.video, self.target(video_latents, eps_v), keep_video)
        loss_a = _masked_mse(out.audio, self.target(audio_latents, eps_a), keep_audio)
        total = c.weight_video * loss_v + c.weight_audio * loss_a
        loss_m, motion = None, getattr(out, "motion", None)  # (a model without a motion head may omit it)
        if motion is not None:
            if motion_target is None:
                raise ValueError("the model has a motion head but the batch has no motion targets "
                                 "(train it on bounce with --data.motion true)")
            if motion_target.shape != motion.shape:
                raise ValueError(f"motion targets of shape {tuple(motion_target.shape)} do not fit the "
                                 f"motion head's output {tuple(motion.shape)}")
            loss_m = (motion.float() - motion_target.float()).pow(2).mean()
            total = total + c.motion_weight * loss_m
        return FlowLoss(total=total, video=loss_v, audio=loss_a, t_video=t_video, t_audio=t_audio,
                        clean_video=clean_video, clean_audio=clean_audio, text_dropped=text_dropped,
                        bridge=bridge, motion=loss_m)

    def _self_condition(self, model, x_video: Tensor, x_audio: Tensor, t_video: Tensor, t_audio: Tensor,
                        text_ids: Tensor, mask: Tensor, bridge: bool, generator) -> dict:
        """The estimates a self-conditioning model reads (`video_cond`, `audio_cond`; {} for any other
        model, with no random draw, so its losses stay as they were): for a share `p_self_cond` of
        the samples the clean latents x_t - t v of a first pass without gradients, zeros for the
        rest, as the sampler's first step sees."""
        if not getattr(getattr(model, "config", None), "self_condition", False):
            return {}
        chosen = _rand(x_video.shape[0], generator, x_video.device) < self.config.p_self_cond
        if not chosen.any():
            return {}
        with torch.no_grad():
            first = model(x_video, x_audio, t_video, t_audio, text_ids, mask, bridge=bridge)
        est_v = velocity_to_data(x_video, first.video.to(x_video.dtype), t_video)
        est_a = velocity_to_data(x_audio, first.audio.to(x_audio.dtype), t_audio)
        return {"video_cond": est_v * broadcast_time(chosen.to(est_v.dtype), est_v),
                "audio_cond": est_a * broadcast_time(chosen.to(est_a.dtype), est_a)}

    def _ramp(self, t_video: Tensor, t_audio: Tensor, video_frames: int, audio_frames: int,
              generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        """Per-frame levels [B, T'], [B, A']: the drawn t for every frame, or in a share
        `p_clock_ramp` of the samples (a stream given clean stays clean) the clock ramp at a
        uniformly drawn progress."""
        c, B, device = self.config, t_video.shape[0], t_video.device
        ramped = _rand(B, generator, device) < c.p_clock_ramp
        progress = _rand(B, generator, device)
        levels = []
        for t, frames in ((t_video, video_frames), (t_audio, audio_frames)):
            ramp = clock_noise_levels(progress, clip_fraction_times(frames, device), c.clock_ramp, c.ramp_shift)
            flat = t[:, None].expand(B, frames)
            levels.append(torch.where(ramped[:, None] & (t[:, None] > 0), ramp.to(t.dtype), flat))
        return levels[0], levels[1]


def _masked_mse(pred: Tensor, target: Tensor, keep: Tensor) -> Tensor:
    """Mean squared error over the samples where `keep` [B] is True, or over the frames where
    `keep` [B, F] is True (F: the second axis of pred); 0 (still in the graph) if none.

    Masked entries are removed with `where`, not multiplied by 0, so a non-finite prediction for a
    clean stream cannot leak into the loss as NaN.
    """
    err = (pred.float() - target.float()).pow(2)
    per_item = err.flatten(1).mean(dim=1) if keep.dim() == 1 else err.flatten(2).mean(dim=2)
    per_item = torch.where(keep, per_item, torch.zeros_like(per_item))
    return per_item.sum() / keep.sum().clamp(min=1)
