"""Where a joint bounce model's impacts are: at a wall, as every real bounce, or turns in mid-air;
how its objects move; and which impacts its own v2a gives a sound (the mid-air table of
docs/joint_bounce.md).

    .venv/bin/python benchmarks/impacts_mid_air_bounce.py --ckpt C [--text-scale-video S] [--sampler JSON]

On the demo's 32 held-out test scenes (`seedkit.demo.held_out_data_settings`) and joint clips from
their captions with the demo's sampler: impacts found by `detect_video_impact_events` in the real
videos, in the same videos through the checkpoint's video tokenizer and in the joint videos, each
split into at a wall / in mid-air (with the mid-air times modulo the latent-frame length, in
half-frame bins), and how the objects move (`motion_stats`: objects tracked whole, median
speed and median |acceleration| in pixels per frame; real objects fly in parabolas between
bounces, their acceleration the world's gravity, about 0.19 px/frame^2); then v2a given the joint videos (the sequential pipeline): how many wall impacts
and how many mid-air turns have an onset within one frame (one-to-one matching, each kind alone).
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from seedkit.data import AVDataModule, video_to_frames
from seedkit.demo import DemoConfig, held_out_data_settings
from seedkit.lit import load_joint
from seedkit.metrics.events import (VOCODED_ONSETS, detect_audio_onsets, detect_video_impact_events, match_events,
                                    motion_stats)
from seedkit.sampling import SamplerConfig


def report(name: str, clips: list, fps: float, per_latent: int) -> list:
    events = [detect_video_impact_events(c, fps) for c in clips]
    mid = [e for ev in events for e in ev if not e.at_wall]
    n = sum(map(len, events))
    bins = np.histogram([(e.time_s * fps) % per_latent for e in mid], bins=2 * per_latent, range=(0, per_latent))[0]
    m = motion_stats(clips)
    print(f"{name}: {n} impacts, {n - len(mid)} at a wall, {len(mid)} in mid-air ({len(mid) / max(1, n):.0%}); "
          f"mid-air time mod {per_latent} frames, half-frame bins {bins.tolist()}; {m.n_objects} objects tracked, "
          f"speed {m.speed_px:.2f} px/frame, |acceleration| {m.accel_px:.2f} px/frame^2", flush=True)
    return events


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, help="a JointAV checkpoint trained on bounce")
    ap.add_argument("--n", type=int, default=DemoConfig.n_eval, help="test clips (default: the demo's 32)")
    ap.add_argument("--text-scale-video", type=float, default=None, help="default: the checkpoint's sampler")
    ap.add_argument("--sampler", type=json.loads, default=None, metavar="JSON",
                    help='more SamplerConfig fields replacing the checkpoint\'s, e.g. \'{"guidance_t_min": 0.9}\'')
    args = ap.parse_args(argv)

    jm = load_joint(args.ckpt)
    spec, fps = jm.spec, jm.spec.fps
    dm = AVDataModule(**held_out_data_settings(jm.data_settings), batch_size=args.n, num_test=args.n)
    batch = next(iter(dm.test_dataloader()))
    over = {} if args.text_scale_video is None else {"text_scale_video": args.text_scale_video}
    over.update(args.sampler or {})
    scfg = SamplerConfig(**{**vars(jm.sampler_config), "steps": DemoConfig.sample_steps, "seed": DemoConfig.seed,
                            "modality_scale": DemoConfig.modality_scale, **over})
    per_latent = jm.video_tok.config.time_down

    report("real", [video_to_frames(v).numpy() for v in batch["video"]], fps, per_latent)
    recon, _ = jm.decode(*jm.encode(batch["video"], batch["audio"]))
    report("real through the video tokenizer", [video_to_frames(v).numpy() for v in recon], fps, per_latent)
    kw = dict(n=args.n, config=scfg, text_ids=batch["text_ids"], text_mask=batch["text_mask"])
    video, _ = jm.generate("joint", **kw)
    events = report("joint", [video_to_frames(v).numpy() for v in video], fps, per_latent)

    _, audio = jm.generate("v2a", video=video, **kw)
    sounded = {True: [0, 0], False: [0, 0]}  # at_wall -> [with an onset, all]
    n_onsets = 0
    for a, ev in zip(audio, events):
        onsets = detect_audio_onsets(a.numpy(), spec.sample_rate, **VOCODED_ONSETS)
        n_onsets += len(onsets)
        for at_wall in (True, False):
            times = [e.time_s for e in ev if e.at_wall == at_wall]
            sounded[at_wall][0] += match_events(onsets, times, 1 / fps).n_matched
            sounded[at_wall][1] += len(times)
    print(f"sequential (v2a on the joint videos): {n_onsets} onsets; wall impacts sounded {sounded[True][0]} of "
          f"{sounded[True][1]}, mid-air turns {sounded[False][0]} of {sounded[False][1]}")


if __name__ == "__main__":
    main()
