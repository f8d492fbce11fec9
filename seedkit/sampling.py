"""Samplers for the rectified flow: integrate dx/dt = v(x, t) from t = 1 (noise) to t = 0 (data).

Timesteps: N + 1 points t_i = 1 - i / N, then shifted, t' = s t / (1 + (s - 1) t): s > 1 spends
more of the steps near the noise end, where the large-scale structure is decided (SD3, LTX-2).
A partial run (`start_t` t0 < 1, SDEdit) starts from given clips noised to t0 and spaces its N
steps over [0, t0] as a full run spaces its steps there: the clips' layout stays, the rest is redrawn.
With a clock ramp (`clock_ramp` w > 0, for a model trained with `FlowConfig.clock_ramp`) every
latent frame and audio latent has its own noise level: at step i of N the progress is s = i / N and
a token at clip time tau has t = shift(1 - clamp(s (1 + w) - w tau, 0, 1)) (`flow.clock_noise_levels`),
so the clip is drawn from its start onwards, each token in about N / (1 + w) steps of its own.

Steps (one subclass each, overriding `step`):
    Euler:  x_{i+1} = x_i + (t_{i+1} - t_i) v(x_i, t_i)                                 (1st order)
    Heun:   x~ = Euler step;  x_{i+1} = x_i + (t_{i+1} - t_i) (v(x_i, t_i) + v(x~, t_{i+1})) / 2
                                                                    (2nd order, two evaluations)

Modes of the joint model:
    joint          text -> video + audio, both integrated from noise
    a2v            audio given: held clean (x_audio = given, t_audio = 0) at every step
    v2a            video given: likewise
    unconditional  text mask all False (the model's null token)

Guidance, per modality m in {video, audio}, with c = conditional (text, bridge on),
u = text dropped (bridge on), b = bridge off (text kept):

    v_m = v_c + (s_text_m - 1) (v_c - v_u) + (s_mod - 1) (v_c - v_b)

The first two terms are classifier-free guidance, v_u + s (v_c - v_u); the last one is modality
guidance (Ovi, LTX-2, MOVA): it pushes away from what the towers would do without hearing/seeing
each other. The c and u passes share the bridge flag, so they run as one forward on a batch of 2B.
A guidance interval [t_min, t_max] (Kynkaanniemi et al. 2024) applies both guidances only to the
tokens whose noise level t lies in it; elsewhere v_m = v_c, and a step with no token in it runs the
conditional pass alone. On bounce, text guidance decides colour and layout at the noise end and
roughens the motion near the data end (docs/joint_bounce.md).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .flow import broadcast_time, clip_fraction_times, clock_noise_levels, correlate_frames, shift_timesteps
from .model.dual import velocity_to_data
from .typed import check_types

MODES = ("joint", "a2v", "v2a", "unconditional")
METHODS = ("euler", "heun")

# A time on the integration grid: one float for the whole state, or one tensor per state element
# that broadcasts over it (a noise level per latent frame with a clock ramp).
Time = float | tuple[Tensor, ...]
Velocity = Callable[[tuple[Tensor, ...], Time], tuple[Tensor, ...]]


@dataclass
class SamplerConfig:
    """How to integrate the flow and how strongly to guide it."""

    steps: int = 25  # number of steps N from t = 1 to t = 0 (Heun uses 2 model calls per step)
    method: str = "euler"  # "euler" | "heun"
    shift: float = 1.0  # timestep shift s (1: uniform steps; 3: more steps near the noise end)
    text_scale_video: float = 1.0  # text CFG scale for video (1: no text guidance)
    text_scale_audio: float = 1.0  # text CFG scale for audio (1: no text guidance)
    modality_scale: float = 1.0  # modality guidance scale (1: off; > 1 pushes towards in-sync)
    seed: int | None = 0  # seed of the initial noise (None: torch's global generator)
    start_t: float = 1.0  # where the generated streams start: 1 = pure noise; t0 < 1 = the clips
    #   given as `init_video` / `init_audio` noised to t0 (SDEdit): their layout survives, the rest
    #   is drawn again in `steps` steps from t0 to 0
    keep_trajectory: bool = False  # keep x_t of every step (on CPU) for a step scrubber
    clock_ramp: float = 0.0  # w > 0: noise levels ramp along the clip's clock, start drawn first
    #   (needs a model trained with FlowConfig.clock_ramp; 0: one level for every token)
    guidance_t_min: float = 0.0  # text and modality guidance act only where t >= this (0: down to the data)
    guidance_t_max: float = 1.0  # ... and t <= this (1: from the noise end); outside, the conditional velocity

    def __post_init__(self):
        check_types(self)
        if self.method not in METHODS:
            raise ValueError(f"SamplerConfig.method={self.method!r}: expected one of {METHODS}")
        if self.steps < 1:
            raise ValueError(f"SamplerConfig.steps={self.steps}: expected >= 1")
        if self.shift <= 0:
            raise ValueError(f"SamplerConfig.shift={self.shift}: expected > 0")
        if not 0.0 < self.start_t <= 1.0:
            raise ValueError(f"SamplerConfig.start_t={self.start_t}: expected a noise level in (0, 1]")
        if self.clock_ramp < 0:
            raise ValueError(f"SamplerConfig.clock_ramp={self.clock_ramp}: expected >= 0 (0: no ramp)")
        if not 0.0 <= self.guidance_t_min <= self.guidance_t_max <= 1.0:
            raise ValueError(f"SamplerConfig.guidance_t_min={self.guidance_t_min}, guidance_t_max={self.guidance_t_max}: "
                             "expected 0 <= guidance_t_min <= guidance_t_max <= 1")
        if self.clock_ramp > 0 and self.start_t < 1.0:
            raise ValueError("SamplerConfig.clock_ramp and start_t < 1 do not combine: a ramped run starts "
                             "from pure noise")


@dataclass
class LatentShapes:
    """Full shapes of the generated latents, batch included:
    video (B, T', C, H', W'), audio (B, A', C_a)."""

    video: tuple[int, ...]
    audio: tuple[int, ...]


@dataclass
class SamplerStep:
    """State after one step: `index` in 0..N-1, going from `t` to `t_next`; latents at `t_next`."""

    index: int
    t: float
    t_next: float
    video: Tensor
    audio: Tensor


@dataclass
class SampleResult:
    """Final latents (t = 0) and, if kept, x_t at every timestep (entry 0 is the starting state: the
    noise, the clip noised to `start_t`, or for a given stream the clean latents).

    video [B, T', C, H', W'], audio [B, A', C_a]; timesteps [N + 1] from `start_t` (1: a full run) to 0.
    trajectory_video [N + 1, B, ...] and trajectory_audio likewise, on CPU, or None.
    """

    video: Tensor
    audio: Tensor
    timesteps: Tensor
    mode: str
    trajectory_video: Tensor | None = None
    trajectory_audio: Tensor | None = None


def unshift_timesteps(t: Tensor, shift: float) -> Tensor:
    """The inverse of `shift_timesteps`: t = t' / (s - (s - 1) t')."""
    return t / (shift - (shift - 1) * t)


def timestep_schedule(steps: int, shift: float = 1.0, start: float = 1.0) -> Tensor:
    """[steps + 1] float64 timesteps from exactly `start` to exactly 0, shifted.

    The points are equally spaced before the shift, from the unshifted `start` to 0, so a partial
    run (start < 1, SDEdit) takes all its `steps` inside [0, start] and spaces them as a full run
    spaces its steps there."""
    u0 = float(unshift_timesteps(torch.tensor(start, dtype=torch.float64), shift))
    t = shift_timesteps(torch.linspace(u0, 0.0, steps + 1, dtype=torch.float64), shift)
    t[0] = start  # exact, whatever the rounding of the shift and its inverse
    return t


def clock_schedule(steps: int, shift: float, ramp: float,
                   shapes: Sequence[Sequence[int]]) -> list[tuple[Tensor, ...]]:
    """Per-frame noise levels of a clock-ramped run: [steps + 1] entries, each a tuple with one
    tensor per state element of `shapes` (B, F, ...) shaped [1, F, 1, ...], from all 1 to all 0."""
    taus = [clip_fraction_times(shape[1]) for shape in shapes]
    times = []
    for i in range(steps + 1):
        s = torch.tensor([i / steps])
        times.append(tuple(clock_noise_levels(s, tau, ramp, shift).reshape(1, -1, *([1] * (len(shape) - 2)))
                           for tau, shape in zip(taus, shapes)))
    return times


def time_deltas(t: Time, t_next: Time, n: int) -> tuple:
    """t_next - t for each of the n state elements (a float, or a tensor per element)."""
    if isinstance(t, tuple):
        return tuple(b - a for a, b in zip(t, t_next))
    return (t_next - t,) * n


class Sampler:
    """Base sampler: the time grid and the loop. Subclasses override `step` only."""

    def __init__(self, config: SamplerConfig | None = None):
        self.config = config or SamplerConfig()

    def timesteps(self) -> Tensor:
        """[N + 1] from 1 to 0: the noise level of every token, or with a clock ramp 1 - progress."""
        if self.config.clock_ramp > 0:
            return torch.linspace(1.0, 0.0, self.config.steps + 1, dtype=torch.float64)
        return timestep_schedule(self.config.steps, self.config.shift, self.config.start_t)

    def step(self, velocity: Velocity, x: tuple[Tensor, ...], t: Time,
             t_next: Time) -> tuple[Tensor, ...]:
        """Advance the state x (a tuple of tensors) from t to t_next."""
        raise NotImplementedError

    def integrate(self, velocity: Velocity, x: Tensor | tuple[Tensor, ...],
                  callback: Callable[[int, float, float, tuple[Tensor, ...]], None] | None = None,
                  keep_trajectory: bool = False, times: Sequence[Time] | None = None):
        """Integrate dx/dt = velocity(x, t) over `timesteps()`, from x at t = 1.

        `velocity(x: tuple, t) -> tuple` shaped like x. Works for any state: a single tensor
        (the 2-D toy) or the (video, audio) pair. `times` ([N + 1], e.g. `clock_schedule`) replaces
        the float grid with per-element times, which `velocity` then receives; the callback still
        gets `timesteps()`. Returns the final state (same kind as `x`) and, if `keep_trajectory`,
        a list with the state at every timestep (on CPU).
        """
        single = isinstance(x, Tensor)
        state = (x,) if single else tuple(x)
        ts = self.timesteps().tolist()
        grid = ts if times is None else list(times)
        if len(grid) != len(ts):
            raise ValueError(f"times has {len(grid)} entries; the sampler takes {len(ts)} (steps + 1)")
        trajectory = [tuple(s.detach().cpu() for s in state)] if keep_trajectory else None
        for i in range(len(ts) - 1):
            state = self.step(velocity, state, grid[i], grid[i + 1])
            if callback is not None:
                callback(i, ts[i], ts[i + 1], state)
            if keep_trajectory:
                trajectory.append(tuple(s.detach().cpu() for s in state))
        final = state[0] if single else state
        if keep_trajectory:
            trajectory = [s[0] for s in trajectory] if single else trajectory
        return final, trajectory


class EulerSampler(Sampler):
    """First order: one velocity evaluation per step."""

    def step(self, velocity, x, t, t_next):
        dts = time_deltas(t, t_next, len(x))
        v = velocity(x, t)
        return tuple(xi + dt * vi for xi, dt, vi in zip(x, dts, v))


class HeunSampler(Sampler):
    """Second order (trapezoid with an Euler predictor): two velocity evaluations per step."""

    def step(self, velocity, x, t, t_next):
        dts = time_deltas(t, t_next, len(x))
        v = velocity(x, t)
        x_euler = tuple(xi + dt * vi for xi, dt, vi in zip(x, dts, v))
        v_next = velocity(x_euler, t_next)
        return tuple(xi + dt * 0.5 * (vi + wi) for xi, dt, vi, wi in zip(x, dts, v, v_next))


SAMPLERS: dict[str, type[Sampler]] = {"euler": EulerSampler, "heun": HeunSampler}


def make_sampler(config: SamplerConfig) -> Sampler:
    return SAMPLERS[config.method](config)


@dataclass
class Guidance:
    """Guidance scales: text CFG per modality and the modality (bridge-off) scale."""

    text_scale_video: float = 1.0  # see SamplerConfig
    text_scale_audio: float = 1.0  # see SamplerConfig
    modality_scale: float = 1.0  # see SamplerConfig
    use_text: bool = True  # False when there is no text to guide with (the text pass is skipped)
    t_min: float = 0.0  # the guidance interval: see SamplerConfig.guidance_t_min
    t_max: float = 1.0  # see SamplerConfig.guidance_t_max

    @property
    def needs_text_pass(self) -> bool:
        return self.use_text and (self.text_scale_video != 1.0 or self.text_scale_audio != 1.0)

    def gate(self, t: Tensor) -> Tensor:
        """1.0 where the noise level t ([B], or [B, F] per frame) lies in the guidance interval, else 0.0."""
        return ((t >= self.t_min) & (t <= self.t_max)).float()

    @property
    def needs_bridge_off_pass(self) -> bool:
        return self.modality_scale != 1.0


def guided_velocity(model, x_video: Tensor, x_audio: Tensor, t_video: Tensor, t_audio: Tensor,
                    text_ids: Tensor, text_mask: Tensor, guidance: Guidance,
                    cond: dict | None = None) -> tuple[Tensor, Tensor]:
    """Guided velocities (video, audio) at one point; see the module docstring for the formula.

    x_video [B, T', C, H', W'], x_audio [B, A', C_a], t_video/t_audio [B] (clock ramp: one level per
    latent frame / audio latent, [B, T'] / [B, A']), text_ids [B, L],
    text_mask [B, L] bool. The conditional and text-dropped passes run as one forward on 2B.
    `cond`: the self-conditioning estimates every pass reads (`video_cond`, `audio_cond`), if any.
    Guidance acts on the tokens whose t lies in the guidance interval; with none there, the
    conditional pass runs alone.
    """
    B = x_video.shape[0]
    cond = cond or {}
    gate_video = gate_audio = 1.0  # the whole path (the default): no gates to compute
    if guidance.t_min > 0.0 or guidance.t_max < 1.0:
        gate_video, gate_audio = guidance.gate(t_video), guidance.gate(t_audio)
        if not (bool(gate_video.any()) or bool(gate_audio.any())):
            out = model(x_video, x_audio, t_video, t_audio, text_ids, text_mask, bridge=True, **cond)
            return out.video, out.audio
        gate_video, gate_audio = broadcast_time(gate_video, x_video), broadcast_time(gate_audio, x_audio)
    if guidance.needs_text_pass:
        out = model(torch.cat([x_video, x_video]), torch.cat([x_audio, x_audio]),
                    torch.cat([t_video, t_video]), torch.cat([t_audio, t_audio]),
                    torch.cat([text_ids, text_ids]),
                    torch.cat([text_mask, torch.zeros_like(text_mask)]), bridge=True,
                    **{k: torch.cat([c, c]) for k, c in cond.items()})
        vc_video, vu_video = out.video[:B], out.video[B:]
        vc_audio, vu_audio = out.audio[:B], out.audio[B:]
        v_video = vc_video + (guidance.text_scale_video - 1) * gate_video * (vc_video - vu_video)
        v_audio = vc_audio + (guidance.text_scale_audio - 1) * gate_audio * (vc_audio - vu_audio)
    else:
        out = model(x_video, x_audio, t_video, t_audio, text_ids, text_mask, bridge=True, **cond)
        vc_video, vc_audio = out.video, out.audio
        v_video, v_audio = vc_video, vc_audio
    if guidance.needs_bridge_off_pass:
        off = model(x_video, x_audio, t_video, t_audio, text_ids, text_mask, bridge=False, **cond)
        v_video = v_video + (guidance.modality_scale - 1) * gate_video * (vc_video - off.video)
        v_audio = v_audio + (guidance.modality_scale - 1) * gate_audio * (vc_audio - off.audio)
    return v_video, v_audio


def _infer_device(model, *tensors) -> torch.device:
    for x in tensors:
        if x is not None:
            return x.device
    params = getattr(model, "parameters", None)
    if params is not None:
        for p in params():
            return p.device
    return torch.device("cpu")


def _check_given(name: str, given: Tensor | None, shape: Sequence[int], mode: str) -> None:
    if given is None:
        raise ValueError(f"mode {mode!r} needs {name} (the latents to condition on)")
    if tuple(given.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(given.shape)} but shapes says {tuple(shape)}")


@torch.no_grad()
def sample(model, mode: str, text_ids: Tensor | None, text_mask: Tensor | None,
           shapes: LatentShapes | Mapping, given_video: Tensor | None = None,
           given_audio: Tensor | None = None, config: SamplerConfig | None = None,
           callback: Callable[[SamplerStep], None] | None = None,
           video_noise_corr: float = 0.0, init_video: Tensor | None = None,
           init_audio: Tensor | None = None) -> SampleResult:
    """Generate latents with `model` (signature in seedkit.flow) in one of `MODES`.

    text_ids [B, L] long and text_mask [B, L] bool (None: no text, i.e. the null token);
    shapes: full latent shapes with the batch (a LatentShapes or a dict with `video` and `audio`);
    given_audio [B, A', C_a] for `a2v`, given_video
    [B, T', C, H', W'] for `v2a`. The initial noise comes from `config.seed` on a CPU generator,
    video first then audio (both are always drawn, so one seed gives the same video noise in every
    mode). `video_noise_corr` is the noise prior the model was trained with
    (`FlowConfig.video_noise_corr`: rho between consecutive latent frames, 0 for i.i.d. noise).
    `callback(SamplerStep)` is called after every step. With `config.start_t` t0 < 1 every
    generated stream starts from its clip, init_video [B, T', C, H', W'] / init_audio [B, A', C_a],
    noised to t0 with the same noise a full run starts from: x_t0 = (1 - t0) init + t0 noise.
    """
    config = config or SamplerConfig()
    if isinstance(shapes, Mapping):
        shapes = LatentShapes(video=tuple(shapes["video"]), audio=tuple(shapes["audio"]))
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {MODES}")
    B = shapes.video[0]
    if shapes.audio[0] != B:
        raise ValueError(f"shapes disagree on the batch: video {shapes.video}, audio {shapes.audio}")
    if mode == "a2v":
        _check_given("given_audio", given_audio, shapes.audio, mode)
    if mode == "v2a":
        _check_given("given_video", given_video, shapes.video, mode)
    if mode == "joint" and (text_ids is None or text_mask is None):
        raise ValueError("mode 'joint' needs text_ids and text_mask (use mode 'unconditional' for none)")
    device = _infer_device(model, text_ids, given_video, given_audio)
    if text_ids is None or mode == "unconditional":
        L = 1 if text_ids is None else text_ids.shape[1]
        text_ids = torch.zeros(B, L, dtype=torch.long, device=device)
        text_mask = torch.zeros(B, L, dtype=torch.bool, device=device)
    if text_ids.shape[0] != B or text_mask.shape != text_ids.shape:
        raise ValueError(f"text_ids {tuple(text_ids.shape)} / text_mask {tuple(text_mask.shape)} "
                         f"do not match the batch size {B}")
    text_ids, text_mask = text_ids.to(device), text_mask.to(device)

    generator = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
    noise_video = correlate_frames(torch.randn(shapes.video, generator=generator), video_noise_corr).to(device)
    noise_audio = torch.randn(shapes.audio, generator=generator).to(device)
    video_given, audio_given = mode == "v2a", mode == "a2v"
    t0 = config.start_t
    for name, init, shape, given in (("init_video", init_video, shapes.video, video_given),
                                     ("init_audio", init_audio, shapes.audio, audio_given)):
        if t0 < 1.0 and not given:
            if init is None:
                raise ValueError(f"SamplerConfig.start_t={t0} starts from clips noised to that t: pass {name}, "
                                 f"the latents {tuple(shape)} of the {name[5:]} to start from")
            if tuple(init.shape) != tuple(shape):
                raise ValueError(f"{name} has shape {tuple(init.shape)} but shapes says {tuple(shape)}")
        elif init is not None:
            raise ValueError(f"{name} is only used by a stream generated from SamplerConfig.start_t < 1 "
                             f"(start_t={t0}, mode {mode!r})")

    def start(given: Tensor | None, init: Tensor | None, noise: Tensor) -> Tensor:
        if given is not None:  # a conditioning stream: clean, and it stays so
            return given.to(device, torch.float32)
        if t0 < 1.0:  # SDEdit: the clip noised to t0
            return (1 - t0) * init.to(device, torch.float32) + t0 * noise
        return noise

    x_video = start(given_video if video_given else None, init_video, noise_video)
    x_audio = start(given_audio if audio_given else None, init_audio, noise_audio)

    guidance = Guidance(config.text_scale_video, config.text_scale_audio, config.modality_scale,
                        use_text=bool(text_mask.any()), t_min=config.guidance_t_min, t_max=config.guidance_t_max)
    zeros = torch.zeros(B, device=device)
    # A self-conditioning model reads its previous estimate of the clean latents (none at the start).
    self_cond = getattr(getattr(model, "config", None), "self_condition", False)
    estimate: dict = {}

    def velocity(x: tuple[Tensor, ...], t: Time) -> tuple[Tensor, ...]:
        xv, xa = x
        if isinstance(t, tuple):  # clock ramp: a level per latent frame / audio latent, [B, T'] / [B, A']
            tv, ta = (ti.reshape(1, -1).expand(B, -1) for ti in t)
        else:
            tv = ta = torch.full((B,), t, device=device)
        tv, ta = zeros if video_given else tv, zeros if audio_given else ta
        v_video, v_audio = guided_velocity(model, xv, xa, tv, ta, text_ids, text_mask, guidance, estimate)
        if self_cond:  # the guided estimate, as the next step will read it
            estimate.update(video_cond=velocity_to_data(xv, v_video, tv), audio_cond=velocity_to_data(xa, v_audio, ta))
        # A given stream does not move: its velocity is exactly 0, so it stays bit-identical.
        if video_given:
            v_video = torch.zeros_like(xv)
        if audio_given:
            v_audio = torch.zeros_like(xa)
        return v_video, v_audio

    step_callback = None
    if callback is not None:
        def step_callback(i, t, t_next, state):
            callback(SamplerStep(index=i, t=t, t_next=t_next, video=state[0], audio=state[1]))

    sampler = make_sampler(config)
    times = None
    if config.clock_ramp > 0:  # per-frame levels, on the latents' device (the Euler update mixes them in)
        times = [tuple(ti.to(device) for ti in step)
                 for step in clock_schedule(config.steps, config.shift, config.clock_ramp, (shapes.video, shapes.audio))]
    (video, audio), trajectory = sampler.integrate(velocity, (x_video, x_audio), step_callback,
                                                   keep_trajectory=config.keep_trajectory, times=times)
    result = SampleResult(video=video, audio=audio, timesteps=sampler.timesteps(), mode=mode)
    if trajectory is not None:
        result.trajectory_video = torch.stack([s[0] for s in trajectory])
        result.trajectory_audio = torch.stack([s[1] for s in trajectory])
    return result
