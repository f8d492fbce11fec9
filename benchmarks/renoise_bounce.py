"""Where in the noise range a joint bounce model loses the scene: real clips noised to t0 and drawn
again from there (SDEdit, `SamplerConfig.start_t`), scored like the demo's joint clips, and the
held-out flow loss at fixed noise levels (the renoise table of docs/joint_bounce.md).

    .venv/bin/python benchmarks/renoise_bounce.py --ckpt C [--t0 0.5 0.7 0.9 1] [--scenes train] [--text-scale 1 1]
        [--video-decoder V]

On the demo's 32 held-out test scenes (`--scenes train`: the first training scenes, the
memorisation probe of a model trained on a few scenes), with the checkpoint's sampler and the
demo's steps and seed: both streams of each real clip are noised to t0 with the noise a full run
starts from, x_t0 = (1 - t0) x + t0 eps, and integrated to 0 in the demo's number of steps
(`--steps`; a partial run has no clock ramp, a plain one keeps the checkpoint's). Printed per t0:
the joint event F1 of the results (their audio onsets against their own visual impacts, as the
demo scores joint clips), the impacts found and how many of them turn in mid-air, and the distance
of the results' video latents to the source clips' (t0 = 1, a plain joint run: to the nearest
of the clips). Then the video and audio flow loss of the EMA model on the same
clips at fixed t (one noise draw), the loss the training objective averages over t, next to the
video loss of the exact flow of these clips taken as the whole data set (each given its caption):
the loss of a model that has memorised them, the bar of the memorisation probe. `--video-decoder V`
decodes the results with V, a video tokenizer sharing the checkpoint's encoder (`load_joint`'s
`video_decoder`): the latents are the same, only their pictures change.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from seedkit.data import AVDataModule, video_to_frames
from seedkit.demo import DemoConfig, held_out_data_settings, sync_score
from seedkit.lit import load_joint
from seedkit.metrics.events import detect_video_impact_events
from seedkit.noise import correlate_frames, whiten_frames
from seedkit.sampling import SamplerConfig, sample

LOSS_TIMES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


def scenes(jm, n: int, which: str) -> dict:
    """A batch of n bounce clips: the held-out test scenes, or the first n training scenes."""
    settings = held_out_data_settings(jm.data_settings)
    if which == "train":  # the test split starts after train + val: with both empty, at scene 0
        settings = {**settings, "num_train": 0, "num_val": 0}
    return next(iter(AVDataModule(**settings, batch_size=n, num_test=n).test_dataloader()))


def joint_score(jm, video: torch.Tensor, audio: torch.Tensor) -> dict:
    """The demo's event sync of generated clips: their onsets against their own impacts."""
    frames = [video_to_frames(v).numpy() for v in video]
    impacts = [detect_video_impact_events(f, jm.spec.fps) for f in frames]
    return sync_score(frames, [a.numpy() for a in audio], impacts, jm.spec.fps, jm.spec.sample_rate)


def exact_video_loss(zv: torch.Tensor, x_t: torch.Tensor, target: torch.Tensor, t: float, rho: float,
                     same: torch.Tensor) -> float:
    """Video flow loss of the exact velocity when the data are these clips zv [n, ...], each drawn
    given its caption (`same` [n, n]: caption i == caption j): v = (x_t - E[x0 | x_t]) / t, with the
    posterior over the clips of the same caption from the (frame-correlated) Gaussian noise."""
    n = zv.shape[0]
    d = (x_t[:, None] - (1 - t) * zv[None]).reshape(n * n, *zv.shape[1:])
    logp = -whiten_frames(d, rho).reshape(n, n, -1).pow(2).sum(-1) / (2 * t * t)
    w = torch.softmax(logp.masked_fill(~same, float("-inf")), dim=1)
    mean_x0 = torch.einsum("ij,jd->id", w.double(), zv.flatten(1).double()).reshape(zv.shape).float()
    return ((x_t - mean_x0) / t - target).pow(2).mean().item()


@torch.no_grad()
def loss_by_t(jm, zv: torch.Tensor, za: torch.Tensor, text_ids, text_mask, same: torch.Tensor,
              seed: int = 0) -> list[tuple]:
    """(t, video loss, audio loss, exact video loss of these clips as the data) of the EMA model at
    each of LOSS_TIMES, both streams at that t."""
    rho = jm.flow.config.video_noise_corr
    g = torch.Generator().manual_seed(seed)
    eps_v = correlate_frames(torch.randn(zv.shape, generator=g), rho)
    eps_a = torch.randn(za.shape, generator=g)
    rows = []
    for t in LOSS_TIMES:
        tt = torch.full((zv.shape[0],), t)
        x_v, target_v = (1 - t) * zv + t * eps_v, eps_v - zv
        out = jm.ema(x_v, (1 - t) * za + t * eps_a, tt, tt, text_ids, text_mask)
        rows.append((t, (out.video - target_v).pow(2).mean().item(), (out.audio - (eps_a - za)).pow(2).mean().item(),
                     exact_video_loss(zv, x_v, target_v, t, rho, same)))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, help="a JointAV checkpoint trained on bounce")
    ap.add_argument("--n", type=int, default=DemoConfig.n_eval, help="clips (default: the demo's 32)")
    ap.add_argument("--t0", type=float, nargs="+", default=[0.5, 0.7, 0.8, 0.9, 0.95, 1.0],
                    help="noise levels to start from, in (0, 1] (1: a plain joint run)")
    ap.add_argument("--scenes", choices=("test", "train"), default="test",
                    help="held-out test scenes (default) or the first training scenes")
    ap.add_argument("--steps", type=int, default=DemoConfig.sample_steps,
                    help="sampler steps (default: the demo's 25; a clock-ramped model wants about 2x)")
    ap.add_argument("--text-scale", type=float, nargs=2, metavar=("VIDEO", "AUDIO"), default=None,
                    help="text guidance scales of the sampler (default: the checkpoint's)")
    ap.add_argument("--video-decoder", metavar="V", help="a video tokenizer with the checkpoint's encoder "
                    "(its decoder trained on: TokenizerModule(decoder_of=...)) to decode the results")
    args = ap.parse_args(argv)
    if any(not 0 < t <= 1 for t in args.t0):
        ap.error(f"--t0 values must lie in (0, 1], got {args.t0}")

    jm = load_joint(args.ckpt, video_decoder=args.video_decoder)
    batch = scenes(jm, args.n, args.scenes)
    zv, za = jm.batch_latents(batch)  # the flow's latents (whitened for a whitened model)
    ids, mask = batch["text_ids"], batch["text_mask"]
    base = SamplerConfig(**{**vars(jm.sampler_config), "steps": args.steps, "seed": DemoConfig.seed,
                            "modality_scale": DemoConfig.modality_scale})
    if args.text_scale is not None:
        base = replace(base, text_scale_video=args.text_scale[0], text_scale_audio=args.text_scale[1])
    print(f"{args.n} {args.scenes} scenes, {base.steps} steps from t0, video text scale {base.text_scale_video}")
    rows = []
    for t0 in args.t0:
        init = {} if t0 == 1.0 else {"init_video": zv, "init_audio": za}
        # a partial run starts every frame at t0: a clock-ramped checkpoint redraws without its ramp
        cfg = replace(base, start_t=t0, clock_ramp=0.0) if t0 < 1.0 else base
        res = sample(jm.ema, "joint", ids, mask, {"video": zv.shape, "audio": za.shape}, config=cfg,
                     video_noise_corr=jm.flow.config.video_noise_corr, **init)
        dist = torch.cdist(res.video.flatten(1), zv.flatten(1))  # [generated, source]
        d = dist.diagonal() if t0 < 1.0 else dist.min(1).values  # t0 = 1: no source, the nearest clip
        row = {"t0": t0, "distance": d.mean().item(), **joint_score(jm, *jm.decode(jm.unwhiten(res.video), res.audio))}
        rows.append(row)
        off = "-" if row["mean_abs_offset_ms"] is None else f"{row['mean_abs_offset_ms']:.1f}"
        print(f"t0 {t0:g}: joint F1 {row['event_f1']:.3f}, {off} ms; {row['n_impacts']} impacts, "
              f"{row['n_impacts_mid_air']} in mid-air ({row['n_impacts_mid_air'] / max(1, row['n_impacts']):.0%}); "
              f"video latents "
              f"{row['distance']:.1f} from the {'source clips' if t0 < 1 else 'nearest clip'}",
              flush=True)
    apart = torch.cdist(zv.flatten(1), zv.flatten(1)).fill_diagonal_(float("inf")).min(1).values
    print(f"source clips: latent norm {zv.flatten(1).norm(dim=1).mean():.1f}, {apart.mean():.1f} from the nearest other")
    same = torch.tensor([[a == b for b in batch["caption"]] for a in batch["caption"]])
    for t, lv, la, exact in loss_by_t(jm, zv, za, ids, mask, same):
        print(f"flow loss at t {t:g}: video {lv:.4f}, audio {la:.4f}; video of the exact flow of these "
              f"{args.n} clips {exact:.4f}")
    return rows


if __name__ == "__main__":
    main()
