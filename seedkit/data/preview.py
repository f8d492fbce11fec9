"""Look at a dataset before training on it: a few clips as mp4s with sound, their captions and events
as JSON, and a contact sheet (frames over a spectrogram with the events marked).

    clips = bounce_clips(8, BOUNCE_SPEC)                      # procedural scenes, impacts as events
    clips = grid_clips("data/cache/grid", 8, split="val")      # prepared GRID windows, words as events
    write_preview(clips, spec, "outputs/preview", title="...")

A clip here is a dict: `frames` uint8 [T, H, W, 3], `waveform` float32 [1, N] in [-1, 1], `caption`,
`events` [(time_s, label)] and `name` (the file stem).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .clip import GRID_SPEC, ClipSpec, video_to_frames

BOUNCE_TITLE = "bounce: frames over time, spectrogram with impact times (dashed)"  # the contact sheet's title
GRID_SPLITS = ("all", "train", "val", "test", "unseen")  # `all`: every prepared clip, in key order


def bounce_clips(n: int, spec: ClipSpec, seed: int = 0) -> list[dict]:
    """The first `n` scenes of the bounce world with data seed `seed`; events are the impacts."""
    from .bounce import BounceConfig, BounceGenerator

    gen = BounceGenerator(BounceConfig(spec=spec, seed=seed))
    clips = []
    for i in range(n):
        scene = gen.scene(i)
        clips.append({"frames": scene.frames, "waveform": scene.waveform, "caption": scene.caption,
                      "events": [(e.time_s, e.label) for e in scene.events], "name": f"bounce_{i:03d}",
                      "meta": {"caption": scene.caption, "events": [vars(e) for e in scene.events]}})
    return clips


def grid_clips(cache_dir: str | os.PathLike, n: int, split: str = "all", spec: ClipSpec = GRID_SPEC) -> list[dict]:
    """The first `n` prepared GRID clips of `split` (`GRID_SPLITS`), as the models see them: the
    centred window of `spec.num_frames` frames; events are the aligned words that start in it.
    Raises FileNotFoundError for a folder without prepared clips, ValueError for an empty split."""
    from .grid import GridWindows, grid_splits

    if split not in GRID_SPLITS:
        raise ValueError(f"split must be one of {', '.join(GRID_SPLITS)}, got {split!r}")
    splits = grid_splits(spec, str(cache_dir))  # raises with the command that prepares a cache
    if split == "all":
        records = sorted((r for w in splits.values() for r in w.records), key=lambda r: r["key"])
        windows = GridWindows(cache_dir, records, spec)
    else:
        windows = splits[split]
    if len(windows) == 0:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in splits.items())
        raise ValueError(f"no prepared GRID clips in the {split!r} split of {cache_dir} ({sizes})")
    clips = []
    for i in range(min(n, len(windows))):
        s = windows[i]
        clips.append({"frames": video_to_frames(s["video"]).numpy(), "waveform": s["audio"].numpy(),
                      "caption": s["caption"], "events": s["events"], "name": s["id"].replace("/", "_"),
                      "meta": {"id": s["id"], "transcript": s["caption"],
                               "words": [{"time_s": t, "word": w} for t, w in s["events"]]}})
    return clips


def write_preview(clips: list[dict], spec: ClipSpec, out: str | os.PathLike, title: str) -> Path:
    """Write each clip as `<name>.mp4` (with sound) and `<name>.json`, and the first eight on
    `contact_sheet.png`, into `out`; returns the contact sheet's path."""
    from .. import media
    from ..viz import save_contact_sheet

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for c in clips:
        media.write(out / f"{c['name']}.mp4", c["frames"], c["waveform"], spec.fps, spec.sample_rate)
        (out / f"{c['name']}.json").write_text(json.dumps(c["meta"], indent=1))
    return save_contact_sheet(clips[:8], spec.fps, spec.sample_rate, out / "contact_sheet.png", title=title)
