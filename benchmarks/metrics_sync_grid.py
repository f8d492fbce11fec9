"""Lip-sync metrics on held-out GRID clips: do they tell real pairs from shifted and shuffled ones,
and do they recover known shifts? SyncNet-lite (learned), the weight-free mouth estimator, the
generic flux-vs-motion offset and AV-Align on the mouth crop.

    .venv/bin/python benchmarks/metrics_sync_grid.py --out benchmarks/results/metrics_sync_grid.json

Clips: the 72-frame centred windows of the prepared cache (the joint model's clip), s1 `val`
split (never trained on; SyncNet-lite trains on `train`) and the 10 other-speaker clips
(`unseen`). Controls: audio shifted by +-0.2 s (zero-filled) and audio of the next clip
(shuffled). Known shifts -200..+200 ms in 40 ms steps (one frame at 25 fps) plus +-100 ms
(half frames) for the offset error. AUC = P(real scores as more in sync than the control).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from seedkit.data.clip import GRID_SPEC, video_to_frames
from seedkit.data.grid import grid_splits
from seedkit.evaluate import auc
from seedkit.metrics.av_align import audio_peaks, flow_trajectory, peak_iou, video_peaks
from seedkit.metrics.events import shift_audio
from seedkit.metrics.mouth import estimate_mouth_offset
from seedkit.metrics.offset import estimate_offset
from seedkit.metrics.syncnet import default_syncnet_path, load_syncnet

SHIFTS_MS = [-200, -160, -120, -100, -80, -40, 0, 40, 80, 100, 120, 160, 200]


def clips_of(split: str, n: int | None):
    ds = grid_splits(GRID_SPEC)[split]
    items = [ds[i] for i in range(len(ds) if n is None else min(n, len(ds)))]
    return [(video_to_frames(s["video"]).numpy(), s["audio"].numpy()) for s in items]


_PEAKS: dict = {}


def scores(frames, audio, net, light: bool = False) -> dict:
    """Every score of one pair; light=True: only the offset estimators (the known-shift sweep)."""
    fps, sr = GRID_SPEC.fps, GRID_SPEC.sample_rate
    m = estimate_mouth_offset(frames, audio, fps, sr)
    out = {"mouth_offset_ms": m.offset_ms, "mouth_sync_at_zero": m.sync_at_zero}
    if not light:
        f = estimate_offset(frames, audio, fps, sr)
        if id(frames) not in _PEAKS:  # the optical flow depends on the video only
            _PEAKS[id(frames)] = video_peaks(flow_trajectory(frames), fps)
        out.update(flux_offset_ms=f.offset_ms, flux_sync_at_zero=f.sync_at_zero,
                   av_align_mouth_crop=peak_iou(audio_peaks(audio, sr), _PEAKS[id(frames)], fps))
    if net is not None:
        s = net.score(frames, audio, fps, sr)
        out.update(syncnet_offset_ms=s.offset_ms, syncnet_offset_frames=s.offset_frames,
                   syncnet_lse_d=s.lse_d, syncnet_lse_c=s.lse_c, syncnet_sync_at_zero=s.sync_at_zero)
    return out


def evaluate_split(clips, net) -> dict:
    sr = GRID_SPEC.sample_rate
    n = len(clips)
    arms = {"real": [scores(f, a, net) for f, a in clips],
            "shift_+0.2s": [scores(f, shift_audio(a, sr, 0.2), net) for f, a in clips],
            "shift_-0.2s": [scores(f, shift_audio(a, sr, -0.2), net) for f, a in clips],
            "shuffled": [scores(f, clips[(i + 1) % n][1], net) for i, (f, _) in enumerate(clips)]}
    # oriented so that higher = more in sync
    keys = {"mouth_sync_at_zero": 1, "mouth_abs_offset": -1, "flux_sync_at_zero": 1, "av_align_mouth_crop": 1}
    if net is not None:
        keys.update(syncnet_sync_at_zero=1, syncnet_abs_offset=-1, syncnet_lse_c=1, syncnet_lse_d=-1)

    def val(row, k):
        return abs(row[k.replace("_abs_offset", "_offset_ms")]) if "_abs_offset" in k else row[k]

    out: dict = {"n_clips": n, "means": {}, "auc_real_vs": {}}
    for k, sign in keys.items():
        out["means"][k] = {arm: round(float(np.mean([val(r, k) for r in rows])), 4) for arm, rows in arms.items()}
        real = [sign * val(r, k) for r in arms["real"]]
        out["auc_real_vs"][k] = {arm: round(auc(real, [sign * val(r, k) for r in rows]), 3)
                                 for arm, rows in arms.items() if arm != "real"}
    if net is not None:
        out["syncnet_offset_accuracy_real"] = float(np.mean([r["syncnet_offset_frames"] == 0 for r in arms["real"]]))
    # known shifts: offset error per method
    err: dict = {"mouth": {}, "syncnet": {}} if net is not None else {"mouth": {}}
    acc: dict = {}
    for ms in SHIFTS_MS:
        rows = [scores(f, shift_audio(a, sr, ms / 1000), net, light=True) for f, a in clips]
        err["mouth"][ms] = float(np.mean([abs(r["mouth_offset_ms"] - ms) for r in rows]))
        if net is not None:
            err["syncnet"][ms] = float(np.mean([abs(r["syncnet_offset_ms"] - ms) for r in rows]))
            if ms % 40 == 0:  # whole frames: is the predicted frame exactly right?
                acc[ms] = float(np.mean([r["syncnet_offset_frames"] == ms // 40 for r in rows]))
    out["shift_mae_ms"] = {k: {"per_shift": {str(s): round(e, 1) for s, e in v.items()},
                               "mean": round(float(np.mean(list(v.values()))), 1)} for k, v in err.items()}
    if acc:
        out["syncnet_offset_accuracy_by_shift"] = {str(k): round(v, 3) for k, v in acc.items()}
        out["syncnet_offset_accuracy_mean"] = round(float(np.mean(list(acc.values()))), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--syncnet", default=str(default_syncnet_path()))
    ap.add_argument("--n", type=int, default=None, help="at most n clips per split (default: all)")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    t0 = time.time()
    net = load_syncnet(args.syncnet) if Path(args.syncnet).is_file() else None
    result = {"syncnet": args.syncnet if net is not None else None,
              "syncnet_meta": getattr(net, "meta", None)}
    for split in ("val", "unseen"):
        result[split] = evaluate_split(clips_of(split, args.n), net)
    result["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
