"""Does a joint GRID model draw its training clips back? Its joint clips' nearest neighbours among the
training clips against held-out ones (docs/joint_grid.md, "A cool-down, and the validation loss").

    .venv/bin/python benchmarks/memorisation_grid.py --ckpt C [--ckpt C2 ...] [--n 32] [--modality-scale 2]

GRID speaker s1 gives the joint model 889 training clips; `joint_grid.yaml`'s batch 16 passes over
all of them every 56 steps, so a 12000-step run sees each clip about 215 times, and its validation
loss turns up while the training loss still falls. If the model then reproduces training clips
instead of drawing new ones, its joint latents lie nearer to training clips than to held-out ones,
nearer than real held-out clips do. The probe takes the train (889 clips) and val (58) latents from
the latent cache (`data.cache_latents`; encoded once if it is missing), draws `--n` joint clips (the
checkpoint's sampler, seed 0; `--modality-scale S` to change its modality guidance) for the
captions of the first `--n` test clips, encodes those test clips, and prints for the generated
latents and for the real test latents, per stream (video, audio): the mean distance to the nearest
training clip; the mean ratio of that distance to the nearest of the 58 val clips (real test clips
give the bar: below 1, as the training pool is 15 times larger; a copy's is near 0); and the near
copies, clips whose nearest training clip is within a third of the distance to the next nearest
(Carlini et al. 2023, "Extracting training data from diffusion models"). Also: how many of the 6
words the nearest training clip's caption shares with the caption asked for (real test clips: the
same count for their own captions).
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from seedkit.data import AVDataModule
from seedkit.lit import load_joint
from seedkit.sampling import sample


def two_nearest(x: torch.Tensor, pool: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Distances [len(x)] from each row of x to its nearest and second-nearest rows of pool, and the
    nearest row's index."""
    d, i = zip(*(torch.cdist(x[k:k + 16], pool).topk(2, largest=False) for k in range(0, len(x), 16)))
    d, i = torch.cat(d), torch.cat(i)
    return d[:, 0], d[:, 1], i[:, 0]


def near_copies(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """True where the nearest pool row is within a third of the distance to the second-nearest
    (Carlini et al. 2023's test for a generated image that copies a training one)."""
    return first < second / 3


def shared_words(a: str, b: str) -> int:
    """Words in the same place of two GRID sentences (6 slots: command colour preposition letter digit adverb)."""
    return sum(x == y for x, y in zip(a.split(), b.split()))


@torch.no_grad()
def probe(ckpt: str, n: int, modality_scale: float | None = None) -> list[dict]:
    jm = load_joint(ckpt)
    settings = jm.data_settings
    if settings.get("dataset") != "grid":
        raise SystemExit(f"{ckpt}: trained on {settings.get('dataset')!r}, this probe reads GRID")
    dm = AVDataModule(**{**settings, "batch_size": n, "num_workers": 0})
    dm.encode_latents(jm.video_tok, jm.audio_tok)  # train and val latents: read from the cache
    train, val = dm.dataset("train"), dm.dataset("val")
    batch = next(iter(dm.test_dataloader()))
    zv, za = jm.batch_latents(batch)
    cfg = jm.sampler_config if modality_scale is None else replace(jm.sampler_config, modality_scale=modality_scale)
    res = sample(jm.ema, "joint", batch["text_ids"], batch["text_mask"], {"video": zv.shape, "audio": za.shape},
                 config=cfg, video_noise_corr=jm.flow.config.video_noise_corr)
    pools = {"video": (jm.whiten(train.video.float()).flatten(1), jm.whiten(val.video.float()).flatten(1)),
             "audio": (train.audio.float().flatten(1), val.audio.float().flatten(1))}
    arms = {"generated": {"video": res.video, "audio": res.audio}, "real test": {"video": zv, "audio": za}}
    print(f"{ckpt}, modality scale {cfg.modality_scale}: {len(train)} training clips, {len(val)} val, "
          f"{len(zv)} test captions")
    rows = []
    for arm, streams in arms.items():
        for stream, x in streams.items():
            x = x.float().flatten(1)
            tr, va = pools[stream]
            d_train, d_second, j = two_nearest(x, tr)
            words = [shared_words(c, train.captions[k]) for c, k in zip(batch["caption"], j.tolist())]
            row = {"ckpt": ckpt, "clips": arm, "stream": stream, "nearest_training": d_train.mean().item(),
                   "ratio_to_val": (d_train / two_nearest(x, va)[0]).mean().item(),
                   "near_copies": near_copies(d_train, d_second).float().mean().item(),
                   "shared_words": sum(words) / len(words)}
            rows.append(row)
            print(f"  {arm:9s} {stream}: nearest training clip {row['nearest_training']:.2f}, / nearest val "
                  f"{row['ratio_to_val']:.3f}, near copies {row['near_copies']:.0%}, "
                  f"words shared with its caption {row['shared_words']:.2f} of 6")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, action="append", help="a JointAV checkpoint trained on GRID (repeatable)")
    ap.add_argument("--n", type=int, default=32, help="generated clips, for the first test captions")
    ap.add_argument("--modality-scale", type=float, default=None,
                    help="modality guidance scale of the sampler (default: the checkpoint's)")
    args = ap.parse_args(argv)
    return [row for c in args.ckpt for row in probe(c, args.n, args.modality_scale)]


if __name__ == "__main__":
    main()
