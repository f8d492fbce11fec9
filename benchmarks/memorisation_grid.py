"""Does a joint GRID model draw its training clips back? Its joint clips' nearest neighbours among the
training clips against held-out ones (docs/joint_grid.md, "A cool-down, and the validation loss").

    .venv/bin/python benchmarks/memorisation_grid.py --ckpt C [--ckpt C2 ...] [--n 32] [--subsets 200]

GRID speaker s1 gives the joint model 889 training clips; `joint_grid.yaml`'s batch 16 passes over
all of them every 56 steps, so a 12000-step run sees each clip about 215 times, and its validation
loss turns up while the training loss still falls. If the model then reproduces training clips
instead of drawing new ones, its joint latents lie nearer to training clips than to held-out ones,
nearer than real held-out clips do. The probe reads the latent cache the run trained on (train: 889
clips, val: 58; `data.cache_latents`), draws `--n` joint clips (the checkpoint's sampler, seed 0) for
the captions of the first `--n` test clips, encodes those test clips, and prints for the generated
latents and for the real test latents, per stream (video, audio): the mean distance to the nearest
training clip, the mean ratio of that distance to the nearest of the 58 val clips, and how often a
random draw of 58 training clips holds a nearer clip than the 58 val clips (`--subsets` draws; the
pools then have the same size, so real test clips give the bar, about 50 %). A memorising model's
clips sit far nearer the training pool: ratio well below the real clips', training nearer far more
often. Also: how many of the 6 words the nearest training clip's caption shares with the caption
asked for (real test clips: the same count for their own captions).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from seedkit.data import AVDataModule
from seedkit.lit import load_joint
from seedkit.sampling import sample

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memorisation_bounce import nearest  # noqa: E402


def argnearest(x: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """Index [len(x)] of each row's nearest row of pool."""
    return torch.cat([torch.cdist(x[i:i + 16], pool).argmin(1) for i in range(0, len(x), 16)])


def training_nearer(x: torch.Tensor, train: torch.Tensor, val: torch.Tensor, subsets: int) -> float:
    """Share of (clip, random draw of len(val) training clips) where the draw holds a nearer clip than val."""
    g = torch.Generator().manual_seed(0)
    dv = nearest(x, val)
    wins = [(nearest(x, train[torch.randperm(len(train), generator=g)[: len(val)]]) < dv).float().mean()
            for _ in range(subsets)]
    return torch.stack(wins).mean().item()


def shared_words(a: str, b: str) -> int:
    """Words in the same place of two GRID sentences (6 slots: command colour preposition letter digit adverb)."""
    return sum(x == y for x, y in zip(a.split(), b.split()))


@torch.no_grad()
def probe(ckpt: str, n: int, subsets: int) -> list[dict]:
    jm = load_joint(ckpt)
    settings = {k: v for k, v in jm.data_settings.items() if not k.startswith("_")}
    if settings.get("dataset") != "grid":
        raise SystemExit(f"{ckpt}: trained on {settings.get('dataset')!r}, this probe reads GRID")
    dm = AVDataModule(**{**settings, "batch_size": n, "num_workers": 0})
    dm.encode_latents(jm.video_tok, jm.audio_tok)  # the run's latent cache of train and val (read, not redone)
    train, val = dm.dataset("train"), dm.dataset("val")
    batch = next(iter(dm.test_dataloader()))
    zv, za = jm.batch_latents(batch)
    res = sample(jm.ema, "joint", batch["text_ids"], batch["text_mask"], {"video": zv.shape, "audio": za.shape},
                 config=jm.sampler_config, video_noise_corr=jm.flow.config.video_noise_corr)
    pools = {"video": (jm.whiten(train.video.float()).flatten(1), jm.whiten(val.video.float()).flatten(1)),
             "audio": (train.audio.float().flatten(1), val.audio.float().flatten(1))}
    arms = {"generated": {"video": res.video, "audio": res.audio}, "real test": {"video": zv, "audio": za}}
    print(f"{ckpt}: {len(train)} training clips, {len(val)} val, "
          f"{len(zv)} test captions")
    rows = []
    for arm, streams in arms.items():
        for stream, x in streams.items():
            x = x.float().flatten(1)
            tr, va = pools[stream]
            d_train = nearest(x, tr)
            words = [shared_words(c, train.captions[j]) for c, j in zip(batch["caption"], argnearest(x, tr).tolist())]
            row = {"ckpt": ckpt, "clips": arm, "stream": stream, "nearest_training": d_train.mean().item(),
                   "ratio_to_val": (d_train / nearest(x, va)).mean().item(),
                   "training_nearer": training_nearer(x, tr, va, subsets), "shared_words": sum(words) / len(words)}
            rows.append(row)
            print(f"  {arm:9s} {stream}: nearest training clip {row['nearest_training']:.2f}, / nearest val "
                  f"{row['ratio_to_val']:.3f}, training nearer (equal pools) {row['training_nearer']:.0%}, "
                  f"words shared with its caption {row['shared_words']:.2f} of 6")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, action="append", help="a JointAV checkpoint trained on GRID (repeatable)")
    ap.add_argument("--n", type=int, default=32, help="generated clips, for the first test captions")
    ap.add_argument("--subsets", type=int, default=200, help="random draws of training clips, as many as val")
    args = ap.parse_args(argv)
    return [row for c in args.ckpt for row in probe(c, args.n, args.subsets)]


if __name__ == "__main__":
    main()
