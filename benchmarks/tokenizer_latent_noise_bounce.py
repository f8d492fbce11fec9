"""How much latent error can the video decoder absorb? Noise in the latents -> impacts in the frames.

    .venv/bin/python benchmarks/tokenizer_latent_noise_bounce.py \
        --video checkpoints/tokenizer_video_bounce.pt --n 32 --sigma 0 0.2 0.4 0.7

A generated clip is the decoder's reading of latents that the joint model got only roughly right.
This adds Gaussian noise of standard deviation sigma to the normalised latents (unit variance, as
the joint model sees them) of bounce val clips (scenes 4096.., never trained on), decodes, and
scores the visual impacts found in the frames against the true ones (tolerance one frame). A decoder
that turns small latent errors into jumps of the objects shows it here as extra impacts (n_pred
above n_true) and a falling F1, before any diffusion model is trained on its latents.
"""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import torch

from seedkit.data import frames_to_video, video_to_frames
from seedkit.data.bounce import BounceGenerator
from seedkit.metrics.events import bounce_sync_report
from seedkit.tokenizers import VideoAutoencoder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="checkpoints/tokenizer_video_bounce.pt")
    ap.add_argument("--n", type=int, default=32, help="clips (scenes start .. start + n - 1)")
    ap.add_argument("--start", type=int, default=4096, help="first scene (4096 = the val split)")
    ap.add_argument("--sigma", type=float, nargs="+", default=[0.0, 0.2, 0.4, 0.7],
                    help="noise levels, in units of the normalised latents' standard deviation")
    ap.add_argument("--seed", type=int, default=0, help="seed of the added noise")
    args = ap.parse_args()
    if any(s < 0 for s in args.sigma):
        ap.error(f"--sigma must be >= 0, got {args.sigma}")

    vae = VideoAutoencoder.from_checkpoint(args.video).eval()
    gen = BounceGenerator()
    spec = gen.config.spec
    scenes = [gen.scene(i) for i in range(args.start, args.start + args.n)]
    video = torch.stack([frames_to_video(s.frames) for s in scenes])  # [B, T, 3, H, W]
    with torch.no_grad():
        latents = torch.cat([vae.encode(v) for v in video.split(16)])  # [B, T', C, H', W']

    out: dict = {"video": args.video, "n_clips": args.n, "first_scene": args.start,
                 "latent_shape": list(latents.shape[1:]), "latent_std": round(latents.std().item(), 3),
                 "sigma": {}}
    g = torch.Generator().manual_seed(args.seed)
    for sigma in args.sigma:
        noisy = latents + sigma * torch.randn(latents.shape, generator=g)
        with torch.no_grad():
            decoded = torch.cat([vae.decode(z) for z in noisy.split(16)]).clamp(-1, 1)
        clips = [SimpleNamespace(frames=video_to_frames(v).numpy(), waveform=s.waveform, events=s.events)
                 for v, s in zip(decoded, scenes)]
        rep = bounce_sync_report(clips, spec.fps, spec.sample_rate)["video_vs_true"]
        out["sigma"][str(sigma)] = {k: round(rep[k], 3) for k in ("f1", "precision", "recall", "mean_abs_offset_ms")} | {
            "n_pred": rep["n_pred"], "n_true": rep["n_true"]}
        print(f"sigma {sigma:4.2f}: video vs true F1 {rep['f1']:.3f}, impacts found {rep['n_pred']} "
              f"(true {rep['n_true']})", flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
