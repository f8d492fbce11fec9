"""Does a joint bounce model draw its training scenes back? Its joint videos' nearest neighbours among
training scenes against unseen scenes of the same world (the section "Twenty thousand scenes or a
hundred thousand" of docs/joint_bounce.md).

    .venv/bin/python benchmarks/memorisation_bounce.py --ckpt C [--pool 5000] [--n 64] [--text-scale 1 1]

A model trained on a cached split of N scenes sees each one many times (joint_bounce.yaml's runs with
`--data.num_train 20000` repeat each scene every 625 steps at batch 32). If it learns those scenes
rather than the world, its generated video latents lie nearer to them than to scenes it never saw.
The probe encodes `--pool` training scenes (0, 1, ...) and as many unseen ones (the scenes after the
`--n` test scenes it uses) with the model's own tokenizers, draws `--n` joint clips for the captions
of the first `--n` held-out test scenes (the demo's 32 and more; the demo's sampler, text guidance
as the checkpoint's unless `--text-scale`), and prints for the generated latents and for the real
test clips' latents: the mean distance to the nearest training scene and to the nearest unseen one,
and how often the training scene is the nearer. Real test clips give the bar (about 50 %: neither
pool is special to them); a memorising model's clips are nearer the training pool far more often.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

from seedkit.data import AVDataModule
from seedkit.data.latents import encode_split
from seedkit.demo import DemoConfig, held_out_data_settings
from seedkit.lit import load_joint
from seedkit.sampling import SamplerConfig, sample

sys.path.insert(0, str(Path(__file__).resolve().parent))
from renoise_bounce import scenes  # noqa: E402  (the held-out test clips, as the renoise table draws them)


def pool_latents(jm, start: int, n: int) -> torch.Tensor:
    """The flow's video latents [n, T' * C * H' * W'] of bounce scenes start .. start + n - 1."""
    settings = {**held_out_data_settings(jm.data_settings), "num_train": start, "num_val": 0}
    data = AVDataModule(**settings, num_test=n).dataset("test")
    clips = encode_split(data, jm.video_tok, jm.audio_tok, desc=f"scenes {start}-{start + n - 1}")
    return jm.whiten(clips.video).flatten(1)


def nearest(x: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """Distance [len(x)] from each row of x to its nearest row of pool."""
    return torch.cat([torch.cdist(x[i:i + 16], pool).min(1).values for i in range(0, len(x), 16)])


@torch.no_grad()  # scoped: a caller in the same process (the tests) keeps autograd on
def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, help="a JointAV checkpoint trained on bounce")
    ap.add_argument("--pool", type=int, default=5000, help="training scenes, and as many unseen ones")
    ap.add_argument("--n", type=int, default=64, help="generated clips, for the demo's first test captions")
    ap.add_argument("--seed", type=int, default=DemoConfig.seed, help="sampling seed")
    ap.add_argument("--text-scale", type=float, nargs=2, metavar=("VIDEO", "AUDIO"), default=None,
                    help="text guidance scales of the sampler (default: the checkpoint's)")
    args = ap.parse_args(argv)

    jm = load_joint(args.ckpt)
    trained = jm.data_settings.get("num_train", 0)
    if args.pool > trained:
        ap.error(f"--pool {args.pool} is more than the model's {trained} training scenes")
    held_out = held_out_data_settings(jm.data_settings)
    batch = scenes(jm, args.n, "test")
    zv, za = jm.batch_latents(batch)
    cfg = SamplerConfig(**{**vars(jm.sampler_config), "steps": DemoConfig.sample_steps, "seed": args.seed,
                           "modality_scale": DemoConfig.modality_scale})
    if args.text_scale is not None:
        cfg = replace(cfg, text_scale_video=args.text_scale[0], text_scale_audio=args.text_scale[1])
    res = sample(jm.ema, "joint", batch["text_ids"], batch["text_mask"], {"video": zv.shape, "audio": za.shape},
                 config=cfg, video_noise_corr=jm.flow.config.video_noise_corr)

    first_unseen = held_out["num_train"] + held_out["num_val"] + args.n  # after the test clips drawn here
    seen, unseen = pool_latents(jm, 0, args.pool), pool_latents(jm, first_unseen, args.pool)
    print(f"{args.ckpt}: {trained} training scenes; pools of {args.pool} training scenes (0-{args.pool - 1}) "
          f"and {args.pool} unseen ({first_unseen}-{first_unseen + args.pool - 1}); video text scale "
          f"{cfg.text_scale_video}")
    rows = []
    for name, x in (("generated", res.video.flatten(1)), ("real test", zv.flatten(1))):
        ds, du = nearest(x, seen), nearest(x, unseen)
        row = {"clips": name, "n": len(x), "nearest_training": ds.mean().item(), "nearest_unseen": du.mean().item(),
               "training_nearer": (ds < du).float().mean().item()}
        rows.append(row)
        print(f"{name} ({len(x)}): nearest training scene {row['nearest_training']:.2f}, nearest unseen "
              f"{row['nearest_unseen']:.2f}; the training scene is the nearer for {row['training_nearer']:.0%}")
    return rows


if __name__ == "__main__":
    main()
