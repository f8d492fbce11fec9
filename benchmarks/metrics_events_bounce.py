"""Bounce ground truth: event F1 / offsets and AV-Align on real clips and with audio delayed 0.25 s.

    .venv/bin/python benchmarks/metrics_events_bounce.py --n 32

Prints pooled F1 and mean |offset| (tolerance one frame, 62.5 ms) of audio onsets vs true impacts,
visual impacts vs true impacts and audio vs video, then AV-Align (mean over clips) for comparison.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from seedkit.data.bounce import BounceGenerator
from seedkit.metrics.av_align import av_align
from seedkit.metrics.events import bounce_sync_report, shift_audio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--shift-s", type=float, default=0.25)
    args = ap.parse_args()
    gen = BounceGenerator()
    fps, sr = gen.config.spec.fps, gen.config.spec.sample_rate
    scenes = [gen.scene(i) for i in range(args.n)]
    out = {}
    for name, shift in (("real", 0.0), (f"audio_shift_{args.shift_s}s", args.shift_s)):
        rep = bounce_sync_report(scenes, fps, sr, audio_shift_s=shift)
        keep = ("f1", "precision", "recall", "mean_abs_offset_ms", "n_pred", "n_true")
        row = {k: {x: round(v[x], 3) for x in keep} for k, v in rep.items() if isinstance(v, dict)}
        row["av_align_mean"] = round(float(np.mean(
            [av_align(s.frames, shift_audio(s.waveform, sr, shift), fps, sr).score for s in scenes])), 3)
        out[name] = row
    print(json.dumps({"n_clips": args.n, **out}, indent=1))


if __name__ == "__main__":
    main()
