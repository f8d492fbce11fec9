"""Do generated bounce clips start where their layout captions say? (docs/joint_bounce.md)

On the demo's 32 held-out test scenes (`seedkit.demo.held_out_data_settings`), joint clips from
their captions (the checkpoint's sampler, or `--text-scale V A`, the demo's seed). Each object a
layout caption describes ("red ball top left moving down right", `BounceConfig.captions`) is looked
for among the objects the impact detector tracks (`track_objects`) with the captioned colour: is its
first whole position in the captioned third of the arena (row and column), and does it head, over
its first three whole frames, within 45 degrees of the captioned heading (one sector either side)?
The same is counted on the real clips (what the detector can read) and, for a model trained on plain
captions, tells how often the layout comes out right without being asked (chance).

    python benchmarks/layout_captions_bounce.py --ckpt C [--text-scale 1 1] [--seed K]
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from seedkit.data import AVDataModule, BounceGenerator, video_to_frames
from seedkit.data.bounce import COLORS, COLUMNS, HEADINGS, ROWS, arena_third, read_layout
from seedkit.demo import DemoConfig, held_out_data_settings
from seedkit.lit import load_joint
from seedkit.metrics.events import track_objects
from seedkit.sampling import SamplerConfig


def object_starts(frames: np.ndarray, radius: float) -> dict[str, tuple[str, str, float]]:
    """colour name -> (row, column, heading in degrees, up = 90) of each tracked object: its first
    whole position, and its displacement over the first three whole frames (NaN when they are not
    three frames in a row). Of two tracks with one colour (a ghost), the one whole in more frames."""
    size = frames.shape[1]
    palette = {name: np.array(rgb) * 255 for name, (rgb, _) in COLORS.items()}
    best: dict[str, tuple[int, tuple[str, str, float]]] = {}
    for tr in track_objects(frames):
        ok = np.flatnonzero(tr.valid)
        if len(ok) == 0:
            continue
        t0 = ok[0]
        weight = tr.alpha[t0][..., None]
        rgb = (frames[t0] * weight).sum((0, 1)) / max(float(weight.sum()), 1e-9)
        name = min(palette, key=lambda c: np.linalg.norm(palette[c] - rgb))
        x, y = (tr.xy[t0] + 0.5) / size  # pixel centroid -> arena units, y down
        col, row = (arena_third(p, radius) for p in (x, y))
        heading = math.nan
        if len(ok) >= 4 and ok[3] - t0 == 3:
            dx, dy = tr.xy[ok[3]] - tr.xy[t0]
            heading = math.degrees(math.atan2(-dy, dx))
        if len(ok) > best.get(name, (0, None))[0]:
            best[name] = (len(ok), (ROWS[row], COLUMNS[col], heading))
    return {name: start for name, (_, start) in best.items()}


def follows(frames_list, captions: list[str], radius: float) -> tuple[int, int, int, int]:
    """(objects described, found with their colour, starting in the captioned third, heading within 45
    degrees of the caption)."""
    said_deg = {h: 45.0 * k for k, h in enumerate(HEADINGS)}
    n = found = start = heads = 0
    for frames, caption in zip(frames_list, captions):
        seen = object_starts(frames, radius)
        for color, _kind, row, col, heading in read_layout(caption):
            n += 1
            if color not in seen:
                continue
            found += 1
            r, c, deg = seen[color]
            start += (r, c) == (row, col)
            heads += abs((deg - said_deg[heading] + 180) % 360 - 180) <= 45 if not math.isnan(deg) else 0
    return n, found, start, heads


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, help="a JointAV checkpoint trained on bounce")
    ap.add_argument("--n", type=int, default=DemoConfig.n_eval, help="test clips (default: the demo's 32)")
    ap.add_argument("--text-scale", type=float, nargs=2, default=None, metavar=("VIDEO", "AUDIO"),
                    help="text guidance scales (default: the checkpoint's sampler)")
    ap.add_argument("--seed", type=int, default=DemoConfig.seed, help="sampling seed")
    args = ap.parse_args(argv)

    jm = load_joint(args.ckpt)
    settings = held_out_data_settings(jm.data_settings)
    batch = next(iter(AVDataModule(**settings, batch_size=args.n, num_test=args.n).test_dataloader()))
    # the layout of the same test scenes, whatever captions the model was trained on
    layout_world = AVDataModule(**{**settings, "captions": "layout"}).bounce_config
    first = settings["num_train"] + settings["num_val"]  # the test split's first scene
    generator = BounceGenerator(layout_world)
    layout = [generator.caption(first + i) for i in range(args.n)]
    radius = layout_world.radius
    over = {} if args.text_scale is None else {"text_scale_video": args.text_scale[0],
                                               "text_scale_audio": args.text_scale[1]}
    scfg = SamplerConfig(**{**vars(jm.sampler_config), "steps": DemoConfig.sample_steps, "seed": args.seed,
                            "modality_scale": DemoConfig.modality_scale, **over})
    video, _ = jm.generate("joint", n=args.n, config=scfg, text_ids=batch["text_ids"], text_mask=batch["text_mask"])
    print(f"{args.n} test scenes; the model's captions: {jm.data_settings.get('captions', 'objects')}; "
          f"e.g. {layout[0]!r}")
    for name, clips in (("real", batch["video"]), ("joint", video)):
        n, found, start, heads = follows([video_to_frames(v).numpy() for v in clips], layout, radius)
        print(f"{name}: {n} objects described, {found} tracked with their colour; starting in the captioned third "
              f"{start} ({start / n:.0%}), heading within 45 degrees of the caption {heads} ({heads / n:.0%})")


if __name__ == "__main__":
    main()
