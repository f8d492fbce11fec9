"""Two guidances against a worse version of the same model, and a high-noise expert, scored like the
demo (the sections "Guiding away from a worse self" and "The lead rerun, longer runs, and a
high-noise expert on the KL latent" of docs/joint_bounce.md).

    .venv/bin/python benchmarks/guidance_probe_bounce.py --ckpt C --out R --autoguide BAD --weight 2
    .venv/bin/python benchmarks/guidance_probe_bounce.py --ckpt C --out R --frame-blind 2 --frame-blind-t-min 0.5
    .venv/bin/python benchmarks/guidance_probe_bounce.py --ckpt C --out R --high-expert E --switch-t 0.7
    .venv/bin/python benchmarks/guidance_probe_bounce.py --ckpt C --out R --video-decoder V

* Autoguidance (Karras et al. 2024, "Guiding a diffusion model with a bad version of itself"): every
  forward of the checkpoint's EMA model (good) is paired with one of an earlier checkpoint of the
  same run (`--autoguide BAD`), and both velocities become bad + w (good - bad), w = `--weight`.
  The checkpoint's text and modality guidance then act on those, as in `seedkit.sampling`.
* Frame-blind guidance (spatio-temporal skip guidance, Hyung et al. 2024, in the form that removes
  the temporal part of attention): the bad model is the same weights with the video self-attention
  of every video block confined to the tokens of the token's own latent frame, so nothing but the
  grid convolution and the bridge carries motion from one frame to the next. The video velocity
  becomes v + s (v - v_blind), s = `--frame-blind`, at the steps whose video noise level is at
  least `--frame-blind-t-min`; the audio velocity is the model's own.
* High-noise expert (two experts split by noise level, as Wan 2.2's MoE): the steps whose noise
  level (the larger of video's and audio's) is at least `--switch-t` are run by the EMA model of
  `--high-expert E`, a checkpoint trained mostly on high noise levels; the rest by the checkpoint's.

* `--video-decoder V` (with any of them or none): the generated latents decoded by V, the checkpoint's
  video tokenizer with its decoder trained on (`--model.decoder_of`; `seedkit.lit.load_joint`'s
  `video_decoder`), to see what a better decoder makes of the same latents.

All three wrap the EMA model that `seedkit.demo.evaluate_demo` samples with, so the clips, the sampler
and the scores are the demo's (32 held-out test scenes; joint, chance = each video with the next
clip's audio, sequential, a2v, v2a; objects tracked and their |acceleration| in the joint videos).
Without any of them the script scores the checkpoint as `demo_joint_variant.py --ckpt` does.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from torch import nn

import seedkit.lit
from seedkit.demo import DemoConfig, evaluate_demo
from seedkit.model.attention import Attention
from seedkit.model.dual import DualOutput, DualTowerDiT
from seedkit.model.rope import RopeTable


class AutoGuided(nn.Module):
    """good's velocities extrapolated away from bad's: bad + weight (good - bad), both streams."""

    def __init__(self, good: DualTowerDiT, bad: DualTowerDiT, weight: float):
        super().__init__()
        self.good, self.bad, self.weight = good, bad, weight
        self.config = good.config  # the sampler reads the model's config (self-conditioning)

    def forward(self, *args, **kwargs) -> DualOutput:
        g, b = self.good(*args, **kwargs), self.bad(*args, **kwargs)
        return DualOutput(video=b.video + self.weight * (g.video - b.video),
                          audio=b.audio + self.weight * (g.audio - b.audio))


class FrameLocalAttention(nn.Module):
    """An `Attention` of the video tower that, while `blind` is set, lets each token attend only to the
    tokens of its own latent frame (tokens are ordered frame by frame, `tokens_per_frame` each).

    Blind, every latent frame goes through the attention as a sequence of its own, all with the first
    frame's RoPE angles: the 3D RoPE is relative and the tokens of one frame share its time, so the
    frame's own angles give the same scores."""

    def __init__(self, attn: Attention, tokens_per_frame: int):
        super().__init__()
        self.attn, self.tokens_per_frame, self.blind = attn, tokens_per_frame, False

    def forward(self, x, context=None, q_angles=None, k_angles=None, key_mask=None, return_weights=False):
        if not self.blind:
            return self.attn(x, context, q_angles, k_angles, key_mask, return_weights)
        b, n, dim = x.shape
        k = self.tokens_per_frame
        first = None if q_angles is None else (RopeTable(q_angles.cos[:k], q_angles.sin[:k])
                                               if isinstance(q_angles, RopeTable) else q_angles[:k])
        out, _ = self.attn(x.reshape(b * (n // k), k, dim), q_angles=first, k_angles=first)
        return out.reshape(b, n, dim), None


class FrameBlindGuided(nn.Module):
    """v_video + scale (v_video - v_video of the frame-blind model), where the video noise level >= t_min."""

    def __init__(self, model: DualTowerDiT, scale: float, t_min: float):
        super().__init__()
        self.model, self.scale, self.t_min = model, scale, t_min
        self.config = model.config
        self.local = []
        for block in model.video.blocks:
            block.attn = FrameLocalAttention(block.attn, model.config.video_tokens_per_frame)
            self.local.append(block.attn)

    def _blind(self, on: bool) -> None:
        for attn in self.local:
            attn.blind = on

    def forward(self, x_video, x_audio, t_video, t_audio, *args, **kwargs) -> DualOutput:
        out = self.model(x_video, x_audio, t_video, t_audio, *args, **kwargs)
        if float(t_video.max()) < self.t_min:  # v2a's given video (t = 0) and the steps near the data
            return out
        self._blind(True)
        try:
            blind = self.model(x_video, x_audio, t_video, t_audio, *args, **kwargs)
        finally:
            self._blind(False)
        return DualOutput(video=out.video + self.scale * (out.video - blind.video), audio=out.audio)


class TwoExperts(nn.Module):
    """`high` where max(t_video, t_audio) >= switch_t (the first stretch of the path), `low` below."""

    def __init__(self, high: DualTowerDiT, low: DualTowerDiT, switch_t: float):
        super().__init__()
        self.high, self.low, self.switch_t = high, low, switch_t
        self.config = low.config

    def forward(self, x_video, x_audio, t_video, t_audio, *args, **kwargs) -> DualOutput:
        t = max(float(t_video.max()), float(t_audio.max()))
        return (self.high if t >= self.switch_t else self.low)(x_video, x_audio, t_video, t_audio, *args, **kwargs)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", required=True, help="the joint checkpoint to sample (the good model)")
    p.add_argument("--out", required=True, help="folder for the samples and metrics.json")
    p.add_argument("--autoguide", metavar="BAD", help="an earlier checkpoint of the same run: the bad model")
    p.add_argument("--weight", type=float, default=2.0, help="autoguidance weight w (1: the good model alone)")
    p.add_argument("--frame-blind", type=float, default=0.0, metavar="S", help="frame-blind guidance scale (0: off)")
    p.add_argument("--frame-blind-t-min", type=float, default=0.0, help="frame-blind guidance only where t >= this")
    p.add_argument("--high-expert", metavar="E", help="a checkpoint trained mostly on high noise: runs the steps at t >= --switch-t")
    p.add_argument("--switch-t", type=float, default=0.7, help="noise level from which the high-noise expert runs")
    p.add_argument("--video-decoder", metavar="V", help="a video tokenizer with the checkpoint's encoder (its decoder "
                   "fine-tuned): decodes the generated videos")
    p.add_argument("--rerank", type=int, default=1, metavar="N", help="keep the best of N candidates per clip "
                   "by the sync critic (seedkit/rerank.py; 1: off)")
    p.add_argument("--critic", metavar="S", help="the SyncNet-lite checkpoint --rerank scores with "
                   "(seedkit/configs/syncnet_bounce.yaml)")
    p.add_argument("--realism", metavar="R", help="a realism critic weighed into --rerank's choice "
                   "(seedkit/configs/realism_bounce.yaml)")
    p.add_argument("--realism-weight", type=float, default=DemoConfig.realism_weight, metavar="W",
                   help="its weight against the sync critic (standardised scores; default: the demo's)")
    p.add_argument("--seed", type=int, default=DemoConfig.seed, help="sampling seed (default: the demo's)")
    p.add_argument("--n-eval", type=int, default=DemoConfig.n_eval, help="clips scored per mode (default 32)")
    p.add_argument("--sample-steps", type=int, default=DemoConfig.sample_steps, help="default: the demo's")
    p.add_argument("--sampler", type=json.loads, default=None, metavar="JSON",
                   help='SamplerConfig fields replacing the model\'s own, e.g. \'{"text_scale_video": 1.0}\'')
    args = p.parse_args(argv)
    if sum(map(bool, (args.autoguide, args.frame_blind, args.high_expert))) > 1:
        p.error("--autoguide, --frame-blind and --high-expert are separate probes: pass one")

    load = seedkit.lit.load_joint

    def load_guided(path: str, map_location: str = "cpu"):
        jm = load(path, map_location, video_decoder=args.video_decoder)
        if args.autoguide:
            jm.ema = AutoGuided(jm.ema, load(args.autoguide, map_location).ema, args.weight)
        elif args.frame_blind:
            jm.ema = FrameBlindGuided(jm.ema, args.frame_blind, args.frame_blind_t_min)
        elif args.high_expert:
            jm.ema = TwoExperts(load(args.high_expert, map_location).ema, jm.ema, args.switch_t)
        return jm

    seedkit.lit.load_joint = load_guided  # evaluate_demo imports it from seedkit.lit when it runs
    out = Path(args.out)
    cfg = DemoConfig(out=str(out), seed=args.seed, sampler=args.sampler, n_eval=args.n_eval,
                     sample_steps=args.sample_steps, rerank=args.rerank, critic=args.critic,
                     realism=args.realism, realism_weight=args.realism_weight)
    t = time.time()
    try:
        m = evaluate_demo(Path(args.ckpt), out, cfg)
    finally:
        seedkit.lit.load_joint = load
    m["probe"] = {k: v for k, v in vars(args).items() if k not in ("out",)}
    m["times_s"] = {"sample_and_score": time.time() - t}
    (out / "metrics.json").write_text(json.dumps(m, indent=2))
    j, mo = m["joint"], m["motion"]["joint"]
    print(f"{out.name}: joint F1 {j['event_f1']:.3f} ({j['n_impacts']} impacts, {j['n_impacts_mid_air']} in mid-air), "
          f"chance {m['joint_audio_of_next_clip']['event_f1']:.3f}, sequential {m['sequential']['event_f1']:.3f}, "
          f"a2v vs given audio {m['a2v_vs_given_audio']['event_f1']:.3f}, "
          f"v2a vs given video {m['v2a_vs_given_video']['event_f1']:.3f}, seams {m['video_seams']['joint']['ratio']:.2f}; "
          f"joint objects {mo['n_objects']} (real {m['motion']['real']['n_objects']}), "
          f"|acceleration| {mo['accel_px']:.2f} px/frame^2 ({time.time() - t:.0f} s)")
    return m


if __name__ == "__main__":
    main()
