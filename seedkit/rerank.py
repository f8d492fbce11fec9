"""Best of N: generate N candidates of every clip and keep the one a sync critic rates highest.

    candidate k = 0 .. N-1 of a run with seed s is sampled with seed s + k * SEED_STRIDE
        (k = 0 is the run itself: with N = 1 the clips are exactly `JointAV.generate`'s)
    score_k = pair_similarity(critic.embed_video(video_k), critic.embed_audio(audio_k))
        (SyncNet-lite's embeddings, the mean cosine over frames at offset 0: `metrics.syncnet`)
    keep, for every clip, the candidate with the highest score

    with a realism critic too (`metrics.realism`: a discriminator of real vs generated video):
    score_k = z(sync_k) + w z(realism_k), z standardising each clip's N candidates

DALL-E reranked its samples with CLIP (Ramesh et al. 2021); here the critic is a SyncNet-lite trained
in the kit on bounce scenes (`seedkit fit --config seedkit/configs/syncnet_bounce.yaml`): each real
clip's soundtrack ranked against the same soundtrack shifted in time, the soundtracks passed through
the joint model's audio tokenizer and Griffin-Lim as generated ones are (`BounceSyncData`; options
add edited soundtracks and mirrored pictures as negatives). It never sees a generated clip nor the
event detectors that score the demo. In every mode the critic judges the pair as it comes out:
joint (both generated), a2v (the generated video against the given audio), v2a (the generated
audio against the given video; the realism critic has nothing to choose there, the given video is
every candidate's). The sync critic picks agreement, not physics: a third of its kept clips'
impacts are still turns in mid-air. The realism critic never hears the sound; it judges whether
the picture looks like a real clip, and its kept clips keep their objects whole more often. The
cost is N times the sampling and decoding; measured in docs/joint_bounce.md ("Best of N by a sync
critic", and "Best of N by a sync critic and a realism critic").
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from .data.clip import frames_to_video, video_to_frames
from .metrics.realism import RealismCritic
from .metrics.syncnet import SyncNetLite, pair_similarity, prepare_audio, prepare_video
from .sampling import SamplerConfig

SEED_STRIDE = 100_003  # candidate k's seed offset: far from the seeds a user steps through (0, 1, 2, ...)


@dataclass
class Reranked:
    """The kept clips, video [B, T, 3, H, W] in [-1, 1] and audio [B, 1, N], the score every
    candidate was ranked by, scores [N, B] (the sync critic's alone, or combined with the realism
    critic's), and the index of the kept one, chosen [B]; sync [N, B] and realism [N, B] (None
    without a realism critic): each critic's own score."""

    video: Tensor
    audio: Tensor
    scores: Tensor
    chosen: Tensor
    sync: Tensor
    realism: Tensor | None = None


@torch.no_grad()
def critic_scores(critic: SyncNetLite, video: Tensor, audio: Tensor, fps: float, sample_rate: int) -> Tensor:
    """How well each clip's sound fits its picture: video [B, T, 3, H, W] in [-1, 1], audio [B, 1, N]
    -> scores [B] in [-1, 1] (higher: better in sync)."""
    c = critic.config
    if abs(fps - c.fps) > 0.01:
        raise ValueError(f"the sync critic was trained on {c.fps:g} fps clips; these are {fps:g} fps "
                         "(train one on this clip format: seedkit/configs/syncnet_bounce.yaml)")
    frames = torch.stack([video_to_frames(x) for x in video])  # uint8 [B, T, H, W, 3], as the clips are written
    v = prepare_video(frames.numpy(), c.size)
    mel = prepare_audio(audio.float().cpu(), sample_rate, v.shape[1], c)
    dev = next(critic.parameters()).device
    ev, ea = critic(v.to(dev), mel.to(dev))
    return pair_similarity(ev, ea).cpu()


@torch.no_grad()
def realism_scores(critic: RealismCritic, video: Tensor, fps: float) -> Tensor:
    """How real each clip looks: video [B, T, 3, H, W] in [-1, 1] -> logits [B] (> 0: real)."""
    critic.check_clips(fps, video.shape[1], video.shape[-1])
    frames = [frames_to_video(video_to_frames(x)) for x in video]  # uint8 as the clips are written, as it trained
    dev = next(critic.parameters()).device
    return critic(torch.stack(frames).to(dev)).cpu()


def clip_z(scores: Tensor, eps: float = 1e-6) -> Tensor:
    """scores [N, B] standardised over each clip's N candidates (0 where they are all equal)."""
    return (scores - scores.mean(0)) / (scores.std(0, unbiased=False) + eps)


def best_of_n(jm, critic: SyncNetLite, candidates: int, mode: str = "joint", config: SamplerConfig | None = None,
              realism: RealismCritic | None = None, realism_weight: float = 1.0, **generate_kwargs) -> Reranked:
    """`jm.generate(mode, config=..., **generate_kwargs)` run `candidates` times with candidate seeds
    (see the module docstring), every clip kept from the candidate `critic` rates best, or with a
    `realism` critic, the best by z(sync) + realism_weight * z(realism). jm: a `JointAV`. Every
    candidate is held until the choice: N times the clips' memory (bounce, 32 clips, N = 16: 0.3 GB)."""
    if candidates < 1:
        raise ValueError(f"best_of_n needs at least 1 candidate, got {candidates}")
    if realism_weight < 0:
        raise ValueError(f"realism_weight must be >= 0, got {realism_weight}")
    cfg = config or jm.sampler_config
    if cfg.seed is None:
        raise ValueError("best_of_n needs a seeded SamplerConfig (seed=None draws from the global generator, "
                         "so the candidates could not be told apart or reproduced)")
    videos, audios, sync, real = [], [], [], []
    for k in range(candidates):
        video, audio = jm.generate(mode, config=replace(cfg, seed=cfg.seed + k * SEED_STRIDE), **generate_kwargs)
        sync.append(critic_scores(critic, video, audio, jm.spec.fps, jm.spec.sample_rate))
        if realism is not None:
            real.append(realism_scores(realism, video, jm.spec.fps))
        videos.append(video)
        audios.append(audio)
    sync_t = torch.stack(sync)
    real_t = torch.stack(real) if realism is not None else None
    scores = sync_t if real_t is None else clip_z(sync_t) + realism_weight * clip_z(real_t)
    chosen = scores.argmax(0)
    pick = torch.arange(chosen.shape[0])
    return Reranked(torch.stack(videos)[chosen, pick], torch.stack(audios)[chosen, pick], scores, chosen,
                    sync_t, real_t)
