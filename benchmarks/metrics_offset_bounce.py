"""Offset estimate on bounce clips with known audio shifts.

    .venv/bin/python benchmarks/metrics_offset_bounce.py --n 32

For each shift (audio delayed by shift_s, zero-filled; negative = advanced) and each signal pair,
reports the mean signed estimate, the mean absolute error against the true shift, and the mean
confidence. Bounce clips are 2 s long, so +-0.2 s leaves 1.8 s of overlap.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from seedkit.data.bounce import BounceGenerator
from seedkit.metrics.events import shift_audio
from seedkit.metrics.offset import estimate_offset

PAIRS = {"flux~motion": ("flux", "motion"), "onsets~impacts": ("onsets", "impacts")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--shifts", default="-0.2,-0.1,-0.05,0,0.05,0.1,0.2")
    args = ap.parse_args()
    gen = BounceGenerator()
    spec = gen.config.spec
    scenes = [gen.scene(i) for i in range(args.n)]
    out = {"n_clips": args.n}
    for name, (audio, kind) in PAIRS.items():
        rows = {}
        for sh in (float(x) for x in args.shifts.split(",")):
            est = [estimate_offset(s.frames, shift_audio(s.waveform, spec.sample_rate, sh), spec.fps,
                                   spec.sample_rate, kind=kind, audio=audio) for s in scenes]
            o = np.array([e.offset_ms for e in est])
            rows[f"{1000 * sh:+.0f}ms"] = {
                "mean_ms": round(float(o.mean()), 1),
                "mae_ms": round(float(np.abs(o - 1000 * sh).mean()), 1),
                "median_abs_err_ms": round(float(np.median(np.abs(o - 1000 * sh))), 1),
                "confidence": round(float(np.mean([e.confidence for e in est])), 3)}
        rows["mae_all_ms"] = round(float(np.mean([r["mae_ms"] for r in rows.values()])), 1)
        out[name] = rows
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
