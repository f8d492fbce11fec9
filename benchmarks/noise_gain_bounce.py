"""How much of the noise a joint bounce model takes for the scene: the gain of its clean-latent
estimate x0 = x_t - t v with respect to its noisy input, at fixed noise levels, next to the gain of
the Gaussian-ideal estimate (docs/joint_bounce.md, "The noise the model takes for the scene").

    .venv/bin/python benchmarks/noise_gain_bounce.py --ckpt C [--n 16] [--n-cov 2048] [--rank 1024]

Near t = 1 the noisy input says almost nothing about the clip, so the posterior mean of the clean
latents hardly moves when the noise does; a model whose estimate follows the noise there commits to
a layout that each region of the clip takes from its own noise. Per t, on `--n` held-out test
scenes (the video stream; the audio noised alike): the EMA model's video flow loss (one noise
draw) and its gain |x0(x_t + d) - x0(x_t)| / |d| for small random directions d drawn like the
training noise (correlated across latent frames as the model's `video_noise_corr` says), averaged
over clips and directions, and the cosine between that response and the reference's to the same
d (1: the model moves its estimate the way the ideal one does). The reference: the gain along the same directions of the posterior
mean of Gaussian latents with the covariance S of `--n-cov` training scenes' video latents, the
exact limit at high noise: J = (1 - t) S ((1 - t)^2 S + t^2 R)^-1, R the noise covariance. Beside
the model's flow loss, that of the Gaussian itself (`seedkit.model.gaussian.GaussianFlow` of rank
`--rank` fitted on the same scenes): the best a model knowing only the latents' second moments does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from renoise_bounce import scenes  # noqa: E402 (the demo's held-out test scenes)

from seedkit.data import AVDataModule  # noqa: E402
from seedkit.data.latents import encode_split  # noqa: E402
from seedkit.demo import held_out_data_settings  # noqa: E402
from seedkit.lit import load_joint  # noqa: E402
from seedkit.model.gaussian import GaussianFlow  # noqa: E402
from seedkit.noise import correlate_frames  # noqa: E402

TIMES = (0.5, 0.8, 0.9, 0.95, 0.98)
STEP = 0.1  # length of the probe direction d (the noisy input's norm is about 90)


@torch.no_grad()
def training_latents(jm, n: int) -> torch.Tensor:
    """Video latents [n, T', C, H', W'] of the first n training scenes, as the flow sees them
    (whitened for a model with `video_whitening`)."""
    settings = {**held_out_data_settings(jm.data_settings), "num_train": n, "num_val": 0}
    split = AVDataModule(**settings).dataset("train")
    return jm.whiten(encode_split(split, jm.video_tok, jm.audio_tok, batch_size=64, desc="training scenes").video)


def covariance(z: torch.Tensor) -> torch.Tensor:
    """Covariance [D, D] (float64) of latents z [N, ...]."""
    z = z.flatten(1).double()
    z = z - z.mean(0)
    return z.T @ z / (len(z) - 1)


def noise_covariance(frames: int, per_frame: int, rho: float) -> torch.Tensor:
    """Covariance [D, D] of `correlate_frames` noise: rho^|i - j| between latent frames i and j."""
    idx = torch.arange(frames, dtype=torch.float64)
    return torch.kron(rho ** (idx[:, None] - idx[None]).abs(), torch.eye(per_frame, dtype=torch.float64))


@torch.no_grad()
def gains(jm, zv, za, ids, mask, cov: torch.Tensor, probes: int = 4, seed: int = 0,
          gaussian: GaussianFlow | None = None) -> list[tuple]:
    """(t, video flow loss, model gain, Gaussian-ideal gain, cosine of the two responses, video flow
    loss of `gaussian` on the same noisy clips or None) at each of TIMES."""
    rho = jm.flow.config.video_noise_corr
    g = torch.Generator().manual_seed(seed)
    eps_v = correlate_frames(torch.randn(zv.shape, generator=g), rho)
    eps_a = torch.randn(za.shape, generator=g)
    dirs = [correlate_frames(torch.randn(zv.shape, generator=g), rho) for _ in range(probes)]
    dirs = [d / d.flatten(1).norm(dim=1).view(-1, *[1] * (d.dim() - 1)) for d in dirs]  # unit per clip
    noise_cov = noise_covariance(zv.shape[1], zv[0, 0].numel(), rho)
    rows = []
    for t in TIMES:
        tt = torch.full((zv.shape[0],), t)
        x_v, x_a = (1 - t) * zv + t * eps_v, (1 - t) * za + t * eps_a

        def x0(x):
            return x - t * jm.ema(x, x_a, tt, tt, ids, mask).video

        base = x0(x_v)
        loss = ((x_v - base) / t - (eps_v - zv)).pow(2).mean().item()
        response = torch.cat([((x0(x_v + STEP * d) - base) / STEP).flatten(1) for d in dirs]).double()  # [probes * n, D]
        # the Gaussian ideal is linear: J d for the same unit directions
        d = torch.cat([x.flatten(1) for x in dirs]).double().T  # [D, probes * n]
        ideal = ((1 - t) * cov @ torch.linalg.solve((1 - t) ** 2 * cov + t ** 2 * noise_cov, d)).T
        cos = torch.nn.functional.cosine_similarity(response, ideal, dim=1).mean().item()
        g_loss = None if gaussian is None else (gaussian(x_v, tt) - (eps_v - zv)).pow(2).mean().item()
        rows.append((t, loss, response.norm(dim=1).mean().item(), ideal.norm(dim=1).mean().item(), cos, g_loss))
    return rows


def main(argv: list[str] | None = None) -> list[tuple]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True, help="a JointAV checkpoint trained on bounce")
    ap.add_argument("--n", type=int, default=16, help="held-out test clips (default 16)")
    ap.add_argument("--n-cov", type=int, default=2048, help="training scenes for the latent covariance")
    ap.add_argument("--rank", type=int, default=1024,
                    help="principal directions of the Gaussian flow fitted on those scenes (its loss: beside the model's)")
    args = ap.parse_args(argv)
    jm = load_joint(args.ckpt).eval()
    batch = scenes(jm, args.n, "test")
    zv, za = jm.batch_latents(batch)  # the flow's latents (whitened for a whitened model)
    train = training_latents(jm, args.n_cov)
    cov = covariance(train)
    rank = min(args.rank, train[0].numel())
    gaussian = GaussianFlow(tuple(train.shape[1:]), rank).fit(train, jm.flow.config.video_noise_corr)
    print(f"{args.n} held-out clips; latent covariance of {args.n_cov} training scenes "
          f"(per-dimension variance {cov.diagonal().mean():.3f}); Gaussian flow of rank {rank} fitted on them")
    rows = gains(jm, zv, za, batch["text_ids"], batch["text_mask"], cov, gaussian=gaussian)
    for t, loss, model, ideal, cos, g_loss in rows:
        print(f"t {t:g}: video flow loss {loss:.3f} (Gaussian flow {g_loss:.3f}); gain of the clean estimate: "
              f"model {model:.3f}, Gaussian ideal {ideal:.3f}; cosine of their responses {cos:.2f}")
    return rows


if __name__ == "__main__":
    main()
