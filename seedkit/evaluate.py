"""`seedkit evaluate`: every sync and quality metric on generated clips, next to real controls.

    seedkit evaluate --ckpt outputs/joint_grid/checkpoints/last.ckpt --n 64 --out outputs/eval
    seedkit evaluate --ckpt C --mode v2a --n 64 --out outputs/eval_v2a   # audio for the real videos
    seedkit evaluate --clips DIR_OF_MP4S --dataset grid --n 64 --out outputs/eval

Arms (each a list of clips, video + audio):
    generated         --mode joint: text -> video + audio with the joint model (captions of the
                      real clips); a2v: the video generated for each real clip's audio, paired with
                      that audio; v2a: each real video with the audio generated for it; or the
                      mp4s of --clips
    real              n held-out real clips (bounce: scenes from 10,000,000 on, far from any
                      training range; GRID: test then val clips)
    real_audio_+0.2s  the same clips with the audio delayed by 0.2 s (zero-filled; --shift-s)
    real_audio_-0.2s  ... advanced by 0.2 s
    shuffled          clip i's video with clip i + 1's audio (chance level)
    gen_shuffled      generated clip i's video with generated clip i + 1's audio: chance at the
                      generated clips' own event density and quality (videos that jitter and
                      soundtracks full of onsets match by chance more often than real clips do)

Per-clip metrics (`seedkit.metrics`; which ones depends on the data):
    av_align                 AV-Align, published definition (all data)
    flux_abs_offset_ms, flux_sync_at_zero
                             audio onset flux vs frame motion energy (`offset.py`, all data)
    event_f1                 audio onsets vs visual impacts (`events.py`, bounce)
    mouth_abs_offset_ms, mouth_sync_at_zero
                             lip motion vs speech energy, weight-free (`mouth.py`, GRID)
    syncnet_abs_offset_ms, syncnet_lse_d, syncnet_lse_c, syncnet_sync_at_zero
                             SyncNet-lite (`syncnet.py`: GRID's when a checkpoint exists; on bounce
                             one trained on bounce, when --syncnet names it)
Set-level: FD-kitvideo / FD-kitaudio (`frechet.py`) of generated vs real, with the split-half floor,
when the tokenizers are known (from --ckpt, or --video-tokenizer / --audio-tokenizer); on bounce,
the latent-frame seam ratio (`seams.py`) of the generated and the real videos when the video
tokenizer folds frames together (1 = coherent like real clips; well above 1 = jumps at the seams),
and the detected impacts that are turns in mid-air, away from every wall (`events.py`).

Summary per arm and metric: mean with a bootstrap 95% CI (resampling clips), the AUC of each
score for real vs every other arm (how well the metric tells them apart; 0.5 = not at all), and
`generated_minus_gen_shuffled`: the paired difference, clip by clip, of generated and gen_shuffled
(sync over the generated clips' own chance; mean and bootstrap 95% CI).
Writes OUT/metrics.json, OUT/per_clip.jsonl, OUT/metrics.png and OUT/samples/*.mp4.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .paths import write_text_atomic

# +1: higher means "more in sync"; -1: lower means more in sync (AUCs are oriented so 1 = separates)
SYNC_DIRECTION = {
    "av_align": 1, "flux_abs_offset_ms": -1, "flux_sync_at_zero": 1, "event_f1": 1,
    "mouth_abs_offset_ms": -1, "mouth_sync_at_zero": 1,
    "syncnet_abs_offset_ms": -1, "syncnet_lse_d": -1, "syncnet_lse_c": 1, "syncnet_sync_at_zero": 1,
}


@dataclass
class EvalConfig:
    out: str  # output folder
    ckpt: str | None = None  # JointAV checkpoint: generate clips with it
    clips: str | None = None  # or: a folder of mp4s to evaluate instead of generating
    dataset: str | None = None  # bounce | grid (default: the checkpoint's clip preset)
    n: int = 64  # clips per arm
    steps: int = 25  # sampler steps
    seed: int = 0  # sampling and bootstrap seed
    shift_s: float = 0.2  # audio shift of the shifted controls
    bootstrap: int = 1000  # bootstrap resamples for the CIs
    syncnet: str | None = None  # SyncNet-lite checkpoint (GRID default: syncnet.default_syncnet_path(); bounce: none)
    cache_dir: str | None = None  # GRID cache (default data/cache/grid)
    video_tokenizer: str | None = None  # for FD-kitvideo without --ckpt
    audio_tokenizer: str | None = None  # for FD-kitaudio without --ckpt
    video_decoder: str | None = None  # with --ckpt: its video tokenizer with a decoder trained on decodes the clips
    mode: str = "joint"  # joint | a2v (video for the real audio) | v2a (audio for the real video)
    batch_size: int = 16  # clips generated per batch
    guidance: dict = field(default_factory=dict)  # SamplerConfig overrides (text_scale_*, modality_scale, shift)
    notes: list = field(default_factory=list)  # what was skipped and why (written to metrics.json)


@dataclass
class Arm:
    """Clips of one arm: frames uint8 [T, H, W, 3] and waveform float [1, N] each; video_ids say which
    clips share a video (so video-only work such as optical flow is done once)."""

    frames: list
    audio: list
    video_ids: list


# ----------------------------------------------------------------------------------------------
# clips


def real_clips(dataset: str, spec, n: int, cache_dir: str | None = None,
               trained: dict | None = None) -> tuple[list, list, list[str]]:
    """n held-out real clips: (frames uint8 list, waveform [1, N] list, captions).

    trained: the data settings of the model under test (`load_joint(...).data_settings`); bounce
    scenes are then drawn from its world (data seed, objects per scene, caption style)."""
    from .data.clip import video_to_frames

    if dataset == "bounce":
        from .data.bounce import BounceConfig, BounceDataset

        world = {k: v for k, v in (trained or {}).items() if k in ("seed", "max_objects", "captions")}
        ds = BounceDataset(BounceConfig(spec=spec, **world), 10_000_000, n)  # far from any train range
        samples = [ds[i] for i in range(n)]
    elif dataset == "grid":
        from .data.grid import grid_splits

        splits = grid_splits(spec, cache_dir)
        pool = [("test", i) for i in range(len(splits["test"]))] + [("val", i) for i in range(len(splits["val"]))]
        samples = [splits[s][i] for s, i in pool[:n]]
    else:
        from .cli import UserError

        raise UserError(f"--dataset must be 'bounce' or 'grid', got {dataset!r}")
    return ([video_to_frames(s["video"]).numpy() for s in samples], [s["audio"].numpy() for s in samples],
            [s["caption"] for s in samples])


def read_clip_folder(folder: str, spec, n: int) -> tuple[list, list]:
    """Up to n mp4s of a folder, resized/resampled to the spec and cut/padded to its length."""
    from . import media
    from .cli import UserError

    files = sorted(Path(folder).glob("*.mp4"))[:n]
    if not files:
        raise UserError(f"--clips {folder}: no .mp4 files there")
    frames, audio = [], []
    for f in files:
        clip = media.read(f, size=(spec.size, spec.size), sample_rate=spec.sample_rate, mono=True)
        if abs(clip.fps - spec.fps) > 0.01:
            raise UserError(f"{f}: {clip.fps:g} fps, the evaluation expects {spec.fps:g} fps")
        fr = clip.frames[: spec.num_frames]
        if len(fr) < spec.num_frames:
            fr = np.concatenate([fr, np.repeat(fr[-1:], spec.num_frames - len(fr), 0)])
        w = clip.waveform[:, : spec.num_samples]
        frames.append(fr)
        audio.append(np.pad(w, ((0, 0), (0, spec.num_samples - w.shape[1]))))
    return frames, audio


EVAL_MODES = ("joint", "a2v", "v2a")


def sampler_config(jm, cfg: EvalConfig):
    """The checkpoint's SamplerConfig with the command line's overrides, steps and seed."""
    from .sampling import SamplerConfig

    return SamplerConfig(**{**vars(jm.sampler_config), **cfg.guidance, "steps": cfg.steps, "seed": cfg.seed})


def generate_clips(jm, captions: list[str], cfg: EvalConfig, real: tuple[list, list] | None = None
                   ) -> tuple[list, list]:
    """Clips generated for the real clips' captions: (frames uint8 list, waveform [1, N] list).

    a2v / v2a also take the real clips' audio / video (`real` = (frames, waveforms)) as the given
    stream, and return it unchanged next to the generated one.
    """
    from .data.clip import frames_to_video, video_to_frames

    if cfg.mode != "joint" and real is None:
        raise ValueError(f"mode {cfg.mode} needs the real clips to condition on")
    scfg = sampler_config(jm, cfg)
    frames, audio = [], []
    for i in range(0, len(captions), cfg.batch_size):
        caps = captions[i: i + cfg.batch_size]
        ids, mask = jm.vocab.batch(caps)
        scfg.seed = cfg.seed + i
        given = {}
        if cfg.mode == "a2v":
            given["audio"] = torch.stack([torch.as_tensor(a) for a in real[1][i: i + len(caps)]])
        if cfg.mode == "v2a":
            given["video"] = torch.stack([frames_to_video(torch.as_tensor(f)) for f in real[0][i: i + len(caps)]])
        v, a = jm.generate(cfg.mode, ids, mask, n=len(caps), config=scfg, **given)
        frames += ([video_to_frames(x).numpy() for x in v] if cfg.mode != "v2a" else real[0][i: i + len(caps)])
        audio += ([x.numpy() for x in a] if cfg.mode != "a2v" else real[1][i: i + len(caps)])
    return frames, audio


def make_arms(frames: list, audio: list, gen: tuple[list, list] | None, spec, shift_s: float) -> dict[str, Arm]:
    from .metrics.events import shift_audio

    n = len(frames)
    ids = list(range(n))
    arms = {}
    if gen is not None:
        arms["generated"] = Arm(gen[0], gen[1], [f"g{i}" for i in range(len(gen[0]))])
    arms["real"] = Arm(frames, audio, ids)
    for s in (shift_s, -shift_s):
        arms[f"real_audio_{s:+.1f}s"] = Arm(frames, [shift_audio(a, spec.sample_rate, s) for a in audio], ids)
    arms["shuffled"] = Arm(frames, [audio[(i + 1) % n] for i in range(n)], ids)
    if gen is not None and len(gen[0]) > 1:
        g = arms["generated"]
        arms["gen_shuffled"] = Arm(g.frames, g.audio[1:] + g.audio[:1], g.video_ids)
    return arms


# ----------------------------------------------------------------------------------------------
# metrics


class ClipScorer:
    """Every per-clip metric that applies to `dataset`; video-only work is cached by video id."""

    def __init__(self, dataset: str, spec, syncnet=None):
        self.dataset, self.spec, self.syncnet = dataset, spec, syncnet
        self._video_peaks: dict = {}
        self._impacts: dict = {}

    def impacts(self, frames: np.ndarray, video_id) -> list:
        """The clip's visual impacts (`detect_video_impact_events`, bounce), cached by video id."""
        if video_id not in self._impacts:
            from .metrics.events import detect_video_impact_events

            self._impacts[video_id] = detect_video_impact_events(frames, self.spec.fps)
        return self._impacts[video_id]

    def __call__(self, frames: np.ndarray, waveform: np.ndarray, video_id) -> dict[str, float]:
        from .metrics.av_align import audio_peaks, flow_trajectory, peak_iou, video_peaks
        from .metrics.offset import estimate_offset

        fps, sr = self.spec.fps, self.spec.sample_rate
        if video_id not in self._video_peaks:
            self._video_peaks[video_id] = video_peaks(flow_trajectory(frames), fps)
        out = {"av_align": peak_iou(audio_peaks(waveform, sr), self._video_peaks[video_id], fps)}
        flux = estimate_offset(frames, waveform, fps, sr)
        out["flux_abs_offset_ms"] = abs(flux.offset_ms)
        out["flux_sync_at_zero"] = flux.sync_at_zero
        if self.dataset == "bounce":
            from .metrics.events import event_sync_score

            impacts_s = [e.time_s for e in self.impacts(frames, video_id)]
            out["event_f1"] = event_sync_score(frames, waveform, fps, sr, impacts_s=impacts_s).f1
        if self.dataset == "grid":
            from .metrics.mouth import estimate_mouth_offset

            m = estimate_mouth_offset(frames, waveform, fps, sr)
            out["mouth_abs_offset_ms"] = abs(m.offset_ms)
            out["mouth_sync_at_zero"] = m.sync_at_zero
        if self.syncnet is not None:  # GRID's, or one trained on bounce (syncnet_bounce.yaml)
            s = self.syncnet.score(frames, waveform, fps, sr)
            out.update(syncnet_abs_offset_ms=abs(s.offset_ms), syncnet_lse_d=s.lse_d,
                       syncnet_lse_c=s.lse_c, syncnet_sync_at_zero=s.sync_at_zero)
        return {k: float(v) for k, v in out.items()}


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of values [n] (resampling with replacement)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        raise ValueError("bootstrap of an empty sample")
    if len(x) == 1 or n_boot < 1:
        return float(x.mean()), float(x.mean())
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), (n_boot, len(x)))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def auc(pos, neg) -> float:
    """P(a pos score > a neg score), ties count half (the Mann-Whitney AUC)."""
    p, n = np.asarray(pos, dtype=np.float64)[:, None], np.asarray(neg, dtype=np.float64)[None, :]
    if p.size == 0 or n.size == 0:
        raise ValueError("AUC needs at least one score on each side")
    return float((p > n).mean() + 0.5 * (p == n).mean())


def summarise(per_arm: dict[str, list[dict]], n_boot: int, seed: int) -> dict:
    """{metric: {arm: {mean, sd, ci95, n}, "auc_real_vs": {arm: AUC}, ...}}."""
    metrics = list(next(iter(per_arm.values()))[0])
    out: dict = {}
    for m in metrics:
        row: dict = {}
        for arm, clips in per_arm.items():
            x = np.array([c[m] for c in clips])
            lo, hi = bootstrap_ci(x, n_boot, seed)
            row[arm] = {"mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                        "ci95": [lo, hi], "n": len(x)}
        d = SYNC_DIRECTION.get(m, 1)
        real = [d * c[m] for c in per_arm["real"]]
        row["auc_real_vs"] = {arm: auc(real, [d * c[m] for c in clips])
                              for arm, clips in per_arm.items() if arm != "real"}
        if "generated" in per_arm:
            row["auc_generated_vs_shuffled"] = auc([d * c[m] for c in per_arm["generated"]],
                                                   [d * c[m] for c in per_arm["shuffled"]])
        if "gen_shuffled" in per_arm:  # paired: the same generated video, its own audio or the next clip's
            diff = np.array([g[m] - c[m] for g, c in zip(per_arm["generated"], per_arm["gen_shuffled"])])
            lo, hi = bootstrap_ci(diff, n_boot, seed)
            row["generated_minus_gen_shuffled"] = {"mean": float(diff.mean()), "ci95": [lo, hi]}
        out[m] = row
    return out


def frechet_block(video_tok, audio_tok, gen: tuple[list, list], real: tuple[list, list], seed: int) -> dict:
    """FD-kitvideo / FD-kitaudio of generated vs real clips, with the split-half floor."""
    from dataclasses import asdict

    from .data.clip import frames_to_video
    from .metrics.frechet import audio_features, fd_with_floor, video_features

    def vid(frames):
        return torch.stack([frames_to_video(f) for f in frames])

    def aud(audio):
        return torch.stack([torch.as_tensor(a, dtype=torch.float32).reshape(1, -1) for a in audio])

    out = {}
    if video_tok is not None:
        out["fd_kitvideo"] = asdict(fd_with_floor(video_features(video_tok, vid(gen[0])),
                                                  video_features(video_tok, vid(real[0])), seed))
    if audio_tok is not None:
        out["fd_kitaudio"] = asdict(fd_with_floor(audio_features(audio_tok, aud(gen[1])),
                                                  audio_features(audio_tok, aud(real[1])), seed))
    out["note"] = ("Fréchet distances on the kit's own tokenizer features (not FVD/FAD); biased upwards "
                   "at small n: compare only at the same n, next to fd_split_half (real vs real at n/2)")
    return out


def seam_block(video_tok, gen_frames: list, real_frames: list, cfg: EvalConfig) -> dict | None:
    """Seam reports of the generated and the real bounce videos at the tokenizer's latent-frame
    length, or None (with a note) when there are no seams to measure."""
    from .metrics.seams import seam_report

    if cfg.mode == "v2a":
        return None  # the videos are the real ones
    if video_tok is None:
        cfg.notes.append("seam ratio skipped: no video tokenizer to say how many frames make a latent frame")
        return None
    per_latent = video_tok.config.time_down
    if per_latent < 2:
        cfg.notes.append("seam ratio skipped: the video tokenizer has one frame per latent frame")
        return None
    return {"frames_per_latent": per_latent, "generated": seam_report(gen_frames, per_latent).as_dict(),
            "real": seam_report(real_frames, per_latent).as_dict()}


def mid_air_block(scorer: ClipScorer, arms: dict[str, Arm], cfg: EvalConfig) -> dict | None:
    """Impacts detected in the generated and the real bounce videos (the scorer's, already found for
    the event F1), and how many are turns in mid-air (no bounce makes one), or None in v2a mode."""
    if cfg.mode == "v2a":
        return None  # the videos are the real ones

    def count(arm: Arm) -> dict:
        events = [e for f, vid in zip(arm.frames, arm.video_ids) for e in scorer.impacts(f, vid)]
        return {"n_impacts": len(events), "n_mid_air": sum(not e.at_wall for e in events),
                "n_clips": len(arm.frames)}

    return {"generated": count(arms["generated"]), "real": count(arms["real"])}


def plot_summary(per_arm: dict[str, list[dict]], path: Path) -> None:
    from .viz import use_headless_backend

    use_headless_backend()
    import matplotlib.pyplot as plt

    metrics = list(next(iter(per_arm.values()))[0])
    cols = min(4, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    arms = list(per_arm)
    for ax, m in zip(axes.flat, metrics):
        data = [[c[m] for c in per_arm[a]] for a in arms]
        ax.boxplot(data, showfliers=False)
        for j, d in enumerate(data):
            ax.plot(np.full(len(d), j + 1) + np.random.default_rng(j).uniform(-0.15, 0.15, len(d)), d,
                    ".", ms=3, alpha=0.5)
        ax.set_xticks(range(1, len(arms) + 1), [a.replace("real_audio_", "") for a in arms],
                      rotation=30, fontsize=7)
        arrow = "higher" if SYNC_DIRECTION.get(m, 1) > 0 else "lower"
        ax.set_title(f"{m}\n({arrow} = more in sync)", fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------


def run_evaluation(cfg: EvalConfig) -> dict:
    """Generate (or read) clips, score every arm, write metrics.json / per_clip.jsonl / metrics.png."""
    from . import media
    from .cli import UserError
    from .data.clip import BOUNCE_SPEC, GRID_SPEC

    if cfg.n < 2:
        raise UserError(f"--n must be at least 2 (shuffled pairs need two clips), got {cfg.n}")
    if not cfg.ckpt and not cfg.clips:
        raise UserError("evaluate needs --ckpt (generate clips) or --clips FOLDER (evaluate mp4s)")
    if cfg.mode not in EVAL_MODES:
        raise UserError(f"--mode must be one of {', '.join(EVAL_MODES)}, got {cfg.mode!r}")
    if cfg.clips and cfg.mode != "joint":
        raise UserError(f"--mode {cfg.mode} generates clips for the real ones: it needs --ckpt, not --clips")
    if cfg.video_decoder and not cfg.ckpt:
        raise UserError("--video-decoder decodes the clips a checkpoint generates: it needs --ckpt")
    for opt, f in (("--video-tokenizer", cfg.video_tokenizer), ("--audio-tokenizer", cfg.audio_tokenizer),
                   ("--syncnet", cfg.syncnet), ("--video-decoder", cfg.video_decoder)):
        if f and not Path(f).is_file():  # fail before minutes of generation and scoring
            raise UserError(f"{opt} {f}: no such file")
    t0 = time.time()
    jm = None
    if cfg.ckpt:
        from .lit import load_joint

        try:
            jm = load_joint(cfg.ckpt, video_decoder=cfg.video_decoder)
        except ValueError as e:
            raise UserError(str(e)) from e
        preset = jm.hparams.clip
        if cfg.dataset and cfg.dataset != preset:
            raise UserError(f"--dataset {cfg.dataset} but the checkpoint was trained on {preset}")
        cfg.dataset = preset
    dataset = cfg.dataset or "bounce"
    if dataset not in ("bounce", "grid"):
        raise UserError(f"--dataset must be 'bounce' or 'grid', got {dataset!r}")
    spec = jm.spec if jm is not None else (GRID_SPEC if dataset == "grid" else BOUNCE_SPEC)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    frames, audio, captions = real_clips(dataset, spec, cfg.n, cfg.cache_dir,
                                         trained=jm.data_settings if jm is not None else None)
    if len(frames) < 2:
        raise UserError(f"only {len(frames)} held-out real clip(s) found; need at least 2")
    if cfg.clips:
        gen = read_clip_folder(cfg.clips, spec, cfg.n)
    else:
        print(f"generating {len(captions)} clips ({cfg.mode}, {cfg.steps} steps each)")
        gen = generate_clips(jm, captions, cfg, real=(frames, audio))
    for i in range(min(4, len(gen[0]))):
        media.write(out / "samples" / f"generated_{i:03d}.mp4", gen[0][i], gen[1][i], spec.fps, spec.sample_rate)
    t_gen = time.time() - t0

    syncnet, path = None, None
    if dataset == "grid" or cfg.syncnet:  # bounce: a SyncNet-lite trained on it, when one is given
        from .metrics.syncnet import default_syncnet_path, load_syncnet

        path = Path(cfg.syncnet) if cfg.syncnet else default_syncnet_path()
        if path.is_file():
            try:
                syncnet = load_syncnet(path)
            except ValueError as e:
                raise UserError(str(e)) from e
            if abs(syncnet.config.fps - spec.fps) > 0.01:
                raise UserError(f"--syncnet {path}: trained on {syncnet.config.fps:g} fps clips; these are "
                                f"{spec.fps:g} fps {dataset} clips (seedkit/configs/syncnet_{dataset}.yaml "
                                "trains one for them)")
        elif cfg.syncnet:
            raise UserError(f"--syncnet {path}: no such file")
        else:
            cfg.notes.append(f"SyncNet-lite skipped: no checkpoint at {path} "
                             "(seedkit fit --config seedkit/configs/syncnet_grid.yaml)")
    scorer = ClipScorer(dataset, spec, syncnet)
    arms = make_arms(frames, audio, gen, spec, cfg.shift_s)
    per_arm = {name: [scorer(f, a, vid) for f, a, vid in zip(arm.frames, arm.audio, arm.video_ids)]
               for name, arm in arms.items()}
    result = {"dataset": dataset, "n_clips": {k: len(v) for k, v in per_arm.items()},
              "source": cfg.clips or cfg.ckpt, "mode": None if cfg.clips else cfg.mode,
              "steps": None if cfg.clips else cfg.steps,
              "sampler": None if jm is None else vars(sampler_config(jm, cfg)),
              # generated in batches: the batch that starts at clip i draws its noise from sampler seed + i
              "batch_size": None if jm is None else cfg.batch_size,
              "shift_s": cfg.shift_s, "bootstrap": cfg.bootstrap,
              "syncnet": str(path) if syncnet is not None else None,
              "metrics": summarise(per_arm, cfg.bootstrap, cfg.seed)}

    video_tok = audio_tok = None
    if jm is not None:
        video_tok, audio_tok = jm.video_tok, jm.audio_tok
    else:
        from .tokenizers.audio import AudioAutoencoder
        from .tokenizers.video import VideoAutoencoder

        try:  # a missing or foreign tokenizer file is the user's to fix (CheckpointError is a ValueError)
            video_tok = VideoAutoencoder.from_checkpoint(cfg.video_tokenizer).eval() if cfg.video_tokenizer else None
            audio_tok = AudioAutoencoder.from_checkpoint(cfg.audio_tokenizer).eval() if cfg.audio_tokenizer else None
        except ValueError as e:
            raise UserError(str(e)) from e
    if video_tok is not None or audio_tok is not None:
        result["frechet"] = frechet_block(video_tok, audio_tok, gen, (frames, audio), cfg.seed)
    else:
        cfg.notes.append("FD-kitvideo/FD-kitaudio skipped: no tokenizers (give --ckpt or --video-tokenizer/--audio-tokenizer)")
    if dataset == "bounce":
        result["video_seams"] = seam_block(video_tok, gen[0], frames, cfg)
        result["impacts_mid_air"] = mid_air_block(scorer, arms, cfg)
    result["notes"] = cfg.notes
    result["seconds"] = {"clips": round(t_gen, 1), "total": round(time.time() - t0, 1)}
    write_text_atomic(out / "metrics.json", json.dumps(result, indent=1))
    with open(out / "per_clip.jsonl", "w") as f:
        for arm, clips in per_arm.items():
            for i, c in enumerate(clips):
                f.write(json.dumps({"arm": arm, "clip": i, **c}) + "\n")
    plot_summary(per_arm, out / "metrics.png")
    return result


def format_table(result: dict) -> str:
    """A short text table: metric x arm means, the AUC of real vs shuffled and, with generated clips,
    generated minus gen_shuffled (over the generated clips' own chance) with its 95% CI."""
    arms = list(result["n_clips"])
    paired = "gen_shuffled" in arms
    lines = [f"{'metric':<24}" + "".join(f"{a.replace('real_audio_', ''):>13}" for a in arms) + f"{'AUC r/shuf':>12}"
             + (f"{'generated - gen_shuffled [95% CI]':>36}" if paired else "")]
    for m, row in result["metrics"].items():
        line = f"{m:<24}" + "".join(f"{row[a]['mean']:>13.3f}" for a in arms) + f"{row['auc_real_vs']['shuffled']:>12.2f}"
        if paired:
            d = row["generated_minus_gen_shuffled"]
            line += f"{d['mean']:>+16.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"
        lines.append(line)
    for k, v in result.get("frechet", {}).items():
        if isinstance(v, dict):
            lines.append(f"{k}: {v['fd']:.3f} (real split-half floor {v['fd_split_half']:.3f}, n={v['n_generated']})")
    seams = result.get("video_seams")
    if seams:
        ratio = {k: "n/a" if seams[k]["ratio"] is None else f"{seams[k]['ratio']:.2f}" for k in ("generated", "real")}
        lines.append(f"latent-frame seam ratio: generated {ratio['generated']}, real {ratio['real']} (1 = no seams)")
    mid = result.get("impacts_mid_air")
    if mid:
        g, r = mid["generated"], mid["real"]
        lines.append(f"impacts in mid-air (no bounce makes one): generated {g['n_mid_air']} of {g['n_impacts']}, "
                     f"real {r['n_mid_air']} of {r['n_impacts']}")
    return "\n".join(lines)
