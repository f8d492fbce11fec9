"""Ablations: a grid of arms x seeds, each a W&B run, scored on the same held-out clips, summarised
with confidence intervals.

    seedkit ablate seedkit/configs/ablations/cogeneration.yaml --seeds 3 --out outputs/ablations

An ablation YAML (`seedkit/configs/ablations/*.yaml`) names a base training config and its arms.
Each arm changes the JointAV init args (`model`, `flow`, `sampler` dicts, merged over the base
config's) and says how clips are generated (`generation`):

    joint       text -> video + audio together (co-generation)
    sequential  text -> video (joint mode, audio discarded), then video -> audio (v2a) on that video

Work and where it goes (OUT = --out, default outputs/ablations):

    OUT/tokenizers/          the two tokenizers, trained once and shared by every arm and ablation
    OUT/models/KEY/          one joint model per (training arm, seed, budget); arms that differ only
                             in sampling (cogeneration's joint/sequential, the guidance grid) and
                             equal arms of other ablations share it: training runs once
    OUT/NAME/ARM/seed_S/     result.json (the done marker: per-clip metrics), samples/*.mp4
    OUT/wandb/               offline W&B runs: `wandb sync OUT/wandb/offline-run-*`
    OUT/NAME/summary.{csv,json,md}

Every arm x seed is one W&B run: group = the ablation, tags = [arm], config = the arm's settings,
the training curves (when this run trained the model), the evaluation metrics and mp4s with sound.
Re-running skips every arm x seed whose result.json exists and rebuilds the same table from them.

Summary per arm and metric: the mean over seeds of each seed's mean over clips, with a two-level
bootstrap 95% CI (resample seeds, then clips within each seed), so seed-to-seed variation counts;
and for each arm the paired difference to the first arm (same captions, same seeds).
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import math
import os
import struct
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .paths import write_text_atomic

GENERATIONS = ("joint", "sequential")  # how an arm generates its clips
ARM_KEYS = ("model", "flow", "sampler", "generation", "description")  # what an arm may set
# per-clip metrics (higher/lower = more in sync) and set-level quality metrics of each run
# (event_f1_over_chance: event F1 minus that of the same video with the next clip's audio, the chance
# at the clips' own event density)
CLIP_METRICS = {"event_f1": "higher", "event_f1_over_chance": "higher", "event_abs_offset_ms": "lower",
                "av_align": "higher", "flux_abs_offset_ms": "lower"}
SET_METRICS = {"fd_kitvideo": "lower", "fd_kitaudio": "lower"}
TINY_BUDGET = dict(joint_steps=2, batch_size=4, n_eval=4, sample_steps=2, video_tokenizer_steps=2,
                   audio_tokenizer_steps=2, media=2)


@dataclass
class Budget:
    """How much each arm x seed costs. `--budget KEY=VALUE ...` or `--budget tiny` on the command line."""

    joint_steps: int = 400  # joint model training steps per arm x seed
    batch_size: int = 32  # clips per training batch
    n_eval: int = 32  # held-out clips generated and scored per arm x seed
    sample_steps: int = 25  # Euler steps per generated clip
    video_tokenizer_steps: int = 600  # video tokenizer steps (trained once, shared)
    audio_tokenizer_steps: int = 400  # audio tokenizer steps (trained once, shared)
    media: int = 4  # mp4s with sound kept and logged per run

    @classmethod
    def parse(cls, base: dict, items: list[str] | None) -> "Budget":
        """base (the YAML's `budget:`) updated by `tiny` and/or KEY=VALUE items."""
        values = dict(base)
        for item in items or []:
            if item == "tiny":
                values.update(TINY_BUDGET)
                continue
            key, sep, value = item.partition("=")
            if not sep or key not in cls.__dataclass_fields__:
                raise ValueError(f"--budget {item!r}: expected 'tiny' or KEY=VALUE with KEY one of "
                                 f"{', '.join(cls.__dataclass_fields__)}")
            try:
                values[key] = int(value)
            except ValueError:
                raise ValueError(f"--budget {item!r}: {key} must be an integer") from None
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"budget: unknown key(s) {unknown}; accepted: {', '.join(cls.__dataclass_fields__)}")
        b = cls(**values)
        if min(b.joint_steps, b.batch_size, b.sample_steps, b.video_tokenizer_steps, b.audio_tokenizer_steps) < 1 \
                or b.n_eval < 2 or b.media < 0:
            raise ValueError(f"budget {asdict(b)}: steps and batch_size must be >= 1, n_eval >= 2, media >= 0")
        return b


@dataclass
class Arm:
    name: str
    model: dict = field(default_factory=dict)  # DualTowerConfig overrides, e.g. {bridge: none}
    flow: dict = field(default_factory=dict)  # FlowConfig overrides, e.g. {timestep_mode: independent}
    sampler: dict = field(default_factory=dict)  # SamplerConfig overrides at evaluation (guidance)
    generation: str = "joint"  # joint | sequential
    description: str = ""  # one line for the table


@dataclass
class Ablation:
    name: str
    arms: list[Arm]
    base_config: str = "joint_bounce.yaml"  # packaged training config (or a path)
    dataset: str = "bounce"  # held-out clips the runs are scored on
    budget: dict = field(default_factory=dict)  # Budget fields (the YAML's defaults)
    description: str = ""

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Ablation":
        from .yamlfile import read_yaml

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ablation config {path} does not exist (see seedkit/configs/ablations/)")
        spec = read_yaml(path, "ablation config")
        if not isinstance(spec.get("arms"), dict) or not spec["arms"]:
            raise ValueError(f"{path}: expected a mapping with `arms:` (arm name -> settings)")
        unknown = sorted(set(spec) - {"name", "arms", "base_config", "dataset", "budget", "description"})
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {unknown}")
        arms = []
        for name, a in spec["arms"].items():
            a = a or {}
            bad = sorted(set(a) - set(ARM_KEYS))
            if bad:
                raise ValueError(f"{path}: arm {name!r}: unknown key(s) {bad}; accepted: {', '.join(ARM_KEYS)}")
            if a.get("generation", "joint") not in GENERATIONS:
                raise ValueError(f"{path}: arm {name!r}: generation must be one of {GENERATIONS}")
            arms.append(Arm(name=str(name), **a))
        if spec.get("dataset", "bounce") != "bounce":
            raise ValueError(f"{path}: dataset {spec['dataset']!r}: only 'bounce' has ground-truth events")
        return cls(name=spec.get("name", path.stem), arms=arms, base_config=spec.get("base_config", cls.base_config),
                   dataset="bounce", budget=spec.get("budget") or {}, description=spec.get("description", ""))


def base_config_path(name: str) -> Path:
    from .demo import config_path

    p = Path(name)
    return p if p.is_file() else Path(config_path(name))


def training_overrides(ablation: Ablation, arm: Arm) -> dict:
    """The JointAV `model` and `flow` dicts of an arm: the base config's, updated by the arm's."""
    import yaml

    init = yaml.safe_load(base_config_path(ablation.base_config).read_text())["model"]["init_args"]
    return {"model": {**(init.get("model") or {}), **arm.model}, "flow": {**(init.get("flow") or {}), **arm.flow}}


def _non_default(values: dict, cls) -> dict:
    """values without the entries that equal the dataclass's defaults (`bridge: all` is no change)."""
    fields = cls.__dataclass_fields__
    return {k: v for k, v in sorted(values.items()) if k not in fields or fields[k].default != v}


def model_key(ablation: Ablation, arm: Arm, seed: int, budget: Budget, tokenizers: dict | None = None) -> str:
    """Runs with equal training settings share one model: the key hashes exactly those settings
    (and the tokenizer files by path, size and time, when given)."""
    from .flow import FlowConfig
    from .model import DualTowerConfig

    over = training_overrides(ablation, arm)
    what = {"base": ablation.base_config, "model": _non_default(over["model"], DualTowerConfig),
            "flow": _non_default(over["flow"], FlowConfig), "seed": seed,
            "steps": budget.joint_steps, "batch_size": budget.batch_size,
            "tokenizers": [budget.video_tokenizer_steps, budget.audio_tokenizer_steps]}
    for kind, p in sorted((tokenizers or {}).items()):
        st = Path(p).stat()
        what[f"tokenizer_{kind}"] = [str(Path(p).resolve()), st.st_size, st.st_mtime_ns]
    digest = hashlib.sha1(json.dumps(what, sort_keys=True).encode()).hexdigest()[:10]
    return f"s{seed}_{digest}"


@contextmanager
def _locked(path: Path):
    """An exclusive lock file: two `seedkit ablate` processes never train the same thing at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------------------------
# generation and scoring


def generate_sequential(jm, text_ids, text_mask, config) -> tuple[torch.Tensor, torch.Tensor]:
    """The sequential pipeline: text -> video (joint mode, its audio discarded), then video -> audio.

    Returns (video [B, T, 3, H, W] in [-1, 1], audio [B, 1, N]) like `JointAV.generate`.
    """
    video, _ = jm.generate("joint", text_ids, text_mask, config=config)
    _, audio = jm.generate("v2a", text_ids, text_mask, video=video, config=config)
    return video, audio


def score_clip(frames: np.ndarray, waveform: np.ndarray, fps: float, sample_rate: int,
               impacts_s=None) -> dict[str, float]:
    """Per-clip sync metrics: frames uint8 [T, H, W, 3], waveform [1, N]. NaN offsets: nothing matched.
    impacts_s: the clip's visual impact times if already detected (`detect_video_impacts`)."""
    from .metrics.av_align import audio_peaks, flow_trajectory, peak_iou, video_peaks
    from .metrics.events import event_sync_score
    from .metrics.offset import estimate_offset

    ev = event_sync_score(frames, waveform, fps, sample_rate, impacts_s=impacts_s)
    return {"event_f1": float(ev.f1),
            "event_abs_offset_ms": float(1000 * ev.mean_abs_offset_s) if ev.n_matched else float("nan"),
            "av_align": float(peak_iou(audio_peaks(waveform, sample_rate),
                                       video_peaks(flow_trajectory(frames), fps), fps)),
            "flux_abs_offset_ms": float(abs(estimate_offset(frames, waveform, fps, sample_rate).offset_ms))}


def score_clips(pairs: list[tuple[np.ndarray, np.ndarray]], fps: float, sample_rate: int) -> list[dict[str, float]]:
    """`score_clip` of every (frames, waveform) pair, plus its event F1 over chance: minus the F1 of
    the same frames with the next pair's waveform (`f1_with_next_clips_audio`). Generated videos that
    jitter and soundtracks full of onsets match by chance far more often than real clips do, so a raw
    F1 of 0.45 can be no sync at all."""
    from .metrics.events import detect_video_impacts, f1_with_next_clips_audio

    frames, waves = [f for f, _ in pairs], [a for _, a in pairs]
    impacts = [detect_video_impacts(f, fps) for f in frames]
    scores = [score_clip(f, a, fps, sample_rate, t) for f, a, t in zip(frames, waves, impacts)]
    for s, chance in zip(scores, f1_with_next_clips_audio(frames, waves, fps, sample_rate, impacts)):
        s["event_f1_over_chance"] = s["event_f1"] - chance
    return scores


def seed_clip_bootstrap_ci(per_seed, n_boot: int = 1000, seed: int = 0, level: float = 0.95):
    """Mean and two-level percentile bootstrap CI of a metric measured on clips of several seeds.

    per_seed: a list (one entry per training seed) of 1-D arrays of per-clip values (NaN = no value).
    The estimate is the mean over seeds of each seed's mean over clips. Each resample draws the
    seeds with replacement, then the clips of each drawn seed with replacement, so both the
    seed-to-seed and the clip-to-clip variation widen the interval. Returns (mean, lo, hi).
    """
    groups = [np.asarray(g, dtype=np.float64) for g in per_seed]
    groups = [g[np.isfinite(g)] for g in groups]
    groups = [g for g in groups if len(g)]
    if not groups:
        return float("nan"), float("nan"), float("nan")
    mean = float(np.mean([g.mean() for g in groups]))
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        picked = rng.integers(0, len(groups), len(groups))
        boots[b] = np.mean([groups[i][rng.integers(0, len(groups[i]), len(groups[i]))].mean() for i in picked])
    lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return mean, float(lo), float(hi)


# ----------------------------------------------------------------------------------------------
# the runner


@dataclass
class AblationRunner:
    ablation: Ablation
    out: Path  # root folder shared by all ablations (tokenizers, models, wandb)
    budget: Budget
    seeds: list[int]  # training (and sampling) seeds
    tokenizers: str | None = None  # folder with tokenizer_{video,audio}_bounce.pt to reuse
    project: str = "seedkit-ablations"  # W&B project (env WANDB_PROJECT wins)
    quiet: bool = False  # no progress bars or model summaries (notebooks)
    log: list[str] = field(default_factory=list)  # what was trained / skipped, in order

    @property
    def folder(self) -> Path:
        return self.out / self.ablation.name

    def result_path(self, arm: Arm, seed: int) -> Path:
        return self.folder / arm.name / f"seed_{seed}" / "result.json"

    # -- stages -----------------------------------------------------------------------------
    def tokenizer_paths(self) -> dict[str, Path]:
        """Each tokenizer: reuse `tokenizers` (or outputs/demo/checkpoints) when its file loads with this
        seedkit, else train it once in OUT/tokenizers (shared by every arm and ablation)."""
        from .tokenizers.audio import AudioAutoencoder
        from .tokenizers.video import VideoAutoencoder
        from .training_cli import run

        classes = {"video": VideoAutoencoder, "audio": AudioAutoencoder}
        folder = self.out / "tokenizers" / f"v{self.budget.video_tokenizer_steps}_a{self.budget.audio_tokenizer_steps}"
        paths = {k: folder / f"tokenizer_{k}_bounce.pt" for k in classes}
        for kind, cls in classes.items():  # each one reused where it loads with this seedkit
            for given in [self.tokenizers, "outputs/demo/checkpoints"] if self.tokenizers else ["outputs/demo/checkpoints"]:
                try:
                    cls.from_checkpoint(str(Path(given) / f"tokenizer_{kind}_bounce.pt"))
                    paths[kind] = Path(given) / f"tokenizer_{kind}_bounce.pt"
                    break
                except (FileNotFoundError, ValueError) as e:  # missing, or from an older architecture
                    if given == self.tokenizers:
                        self._say(f"note: --tokenizers {given}: {kind} not reused ({str(e)[:120]})")
        with _locked(folder / ".lock"):
            for kind, steps in (("video", self.budget.video_tokenizer_steps), ("audio", self.budget.audio_tokenizer_steps)):
                if paths[kind].exists():
                    continue
                self._say(f"== training the {kind} tokenizer ({steps} steps, shared by every arm)")
                run(["fit", "--config", str(base_config_path(f"tokenizer_{kind}_bounce.yaml")),
                     f"--trainer.max_steps={steps}", f"--trainer.default_root_dir={folder / kind}",
                     f"--model.export_path={paths[kind]}", "--trainer.logger=false",
                     "--trainer.num_sanity_val_steps=0", "--trainer.enable_checkpointing=false",
                     "--trainer.callbacks=[]", *self._quiet()])
        return paths

    def train(self, arm: Arm, seed: int, tok: dict[str, Path], logger: bool) -> tuple[Path, bool]:
        """Train (or find) the joint model of arm x seed. Returns (last.ckpt, trained_here)."""
        from .training_cli import run

        key = model_key(self.ablation, arm, seed, self.budget, tok)
        folder = self.out / "models" / key
        done = folder / "done.json"
        with _locked(folder / ".lock"):
            if done.exists():
                return folder / "checkpoints" / "last.ckpt", False
            steps = self.budget.joint_steps
            self._say(f"== {self.ablation.name}/{arm.name} seed {seed}: training the joint model ({steps} steps)")
            over = training_overrides(self.ablation, arm)
            last = folder / "checkpoints" / "last.ckpt"
            log = {"class_path": "lightning.pytorch.loggers.WandbLogger",
                   "init_args": {"save_dir": str(folder), "project": self._project()}}  # config.yaml goes here
            t0 = time.time()
            warnings.filterwarnings("ignore", message="There is a wandb run already in progress")  # ours
            run(["fit", "--config", str(base_config_path(self.ablation.base_config)), f"--seed_everything={seed}",
                 f"--trainer.max_steps={steps}", f"--trainer.default_root_dir={folder}",
                 f"--trainer.logger={json.dumps(log) if logger else 'false'}",
                 f"--trainer.callbacks.init_args.dirpath={folder / 'checkpoints'}",
                 "--trainer.limit_val_batches=0", "--trainer.num_sanity_val_steps=0",
                 f"--trainer.log_every_n_steps={max(1, min(20, steps // 20))}",
                 f"--model.init_args.video_tokenizer={tok['video']}",
                 f"--model.init_args.audio_tokenizer={tok['audio']}",
                 f"--model.init_args.model={json.dumps(over['model'])}",
                 f"--model.init_args.flow={json.dumps(over['flow'])}",
                 f"--data.init_args.batch_size={self.budget.batch_size}",
                 *self._quiet(), *(["--ckpt_path=last"] if last.exists() else [])])
            step = torch.load(last, map_location="cpu", weights_only=True)["global_step"] if last.exists() else 0
            if step < steps:  # stopped early (SIGTERM, Ctrl-C): resumable, so never marked done
                raise RuntimeError(f"{folder}: training stopped at step {step} of {steps}; run again to resume")
            write_text_atomic(done, json.dumps({"global_step": step, "seconds": round(time.time() - t0, 1),
                                                "arm": arm.name, "ablation": self.ablation.name, **over}, indent=1))
            return last, True

    def evaluate(self, ckpt: Path, arm: Arm, seed: int, real: dict) -> tuple[list[dict], dict, list]:
        """Generate n_eval clips from the held-out captions and score them.

        Returns (per-clip metrics, set-level metrics, the generated (frames, audio) pairs)."""
        from .data.clip import video_to_frames
        from .evaluate import frechet_block
        from .lit import load_joint
        from .sampling import SamplerConfig

        jm = load_joint(str(ckpt))
        spec = jm.spec
        cfg = SamplerConfig(**{**vars(jm.sampler_config), **arm.sampler, "steps": self.budget.sample_steps,
                               "seed": seed})
        ids, mask = jm.vocab.batch(real["captions"])
        torch.manual_seed(seed)  # the Griffin-Lim vocoder's random initial phase: reproducible runs
        if arm.generation == "sequential":
            video, audio = generate_sequential(jm, ids, mask, cfg)
        else:
            video, audio = jm.generate("joint", ids, mask, config=cfg)
        frames = [video_to_frames(v).numpy() for v in video]
        wavs = [a.numpy() for a in audio]
        clips = score_clips(list(zip(frames, wavs)), spec.fps, spec.sample_rate)
        fd = frechet_block(jm.video_tok, jm.audio_tok, (frames, wavs), (real["frames"], real["audio"]), seed)
        sets = {"fd_kitvideo": fd["fd_kitvideo"]["fd"], "fd_kitaudio": fd["fd_kitaudio"]["fd"]}
        return clips, sets, list(zip(frames, wavs))

    def real_clips(self) -> dict:
        """The held-out clips every run is scored against, and the real / shuffled reference rows."""
        from .data.clip import BOUNCE_SPEC
        from .evaluate import real_clips

        frames, audio, captions = real_clips("bounce", BOUNCE_SPEC, self.budget.n_eval)
        ref_path = self.folder / f"reference_n{self.budget.n_eval}.json"
        ref = json.loads(ref_path.read_text()) if ref_path.exists() else {}
        # scored anew when missing, or written before a metric was added
        if not ref or any(set(CLIP_METRICS) - set(c) for clips in ref.values() for c in clips):
            sr, fps = BOUNCE_SPEC.sample_rate, BOUNCE_SPEC.fps
            n = len(frames)
            ref = {"real": score_clips(list(zip(frames, audio)), fps, sr),
                   "real, audio of another clip": score_clips([(frames[i], audio[(i + 1) % n]) for i in range(n)],
                                                              fps, sr)}
            ref_path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(ref_path, json.dumps(ref))
        return {"frames": frames, "audio": audio, "captions": captions, "reference": ref}

    # -- one arm x seed ----------------------------------------------------------------------
    def run_one(self, arm: Arm, seed: int, tok: dict[str, Path], real: dict) -> dict:
        """Train (or reuse) the model of arm x seed, evaluate it, log it as one W&B run; result.json."""
        from .training_cli import configure_wandb_mode

        configure_wandb_mode()  # offline unless an account is configured

        path = self.result_path(arm, seed)
        with _locked(path.parent / ".lock"):  # another `seedkit ablate` may be on this arm x seed
            if path.exists():
                self._say(f"-- {self.ablation.name}/{arm.name} seed {seed}: done, skipped")
                return json.loads(path.read_text())
            result = self._run_one(arm, seed, tok, real)
            write_text_atomic(path, json.dumps(result, indent=1))  # last: its existence marks the run as done
            return result

    def _run_one(self, arm: Arm, seed: int, tok: dict[str, Path], real: dict) -> dict:
        import wandb

        from . import media
        from .data.clip import BOUNCE_SPEC

        path = self.result_path(arm, seed)
        over = training_overrides(self.ablation, arm)
        config = {"ablation": self.ablation.name, "arm": arm.name, "seed": seed, "generation": arm.generation,
                  "model": over["model"], "flow": over["flow"], "sampler": arm.sampler,
                  "budget": asdict(self.budget), "model_key": model_key(self.ablation, arm, seed, self.budget, tok),
                  "tokenizers": {k: str(v) for k, v in tok.items()}}
        t0 = time.time()
        run = wandb.init(dir=str(self.out), project=self._project(), group=self.ablation.name, tags=[arm.name],
                         job_type="ablation", name=f"{self.ablation.name}-{arm.name}-s{seed}", config=config,
                         reinit="finish_previous",
                         # no system-metrics sampler process on a CPU machine (it competes with training)
                         settings=wandb.Settings(x_disable_stats=not torch.cuda.is_available()))
        try:
            # the WandbLogger of `fit` finds this run and logs the training curves into it
            ckpt, trained = self.train(arm, seed, tok, logger=run.settings.mode != "disabled")
            if wandb.run is None or wandb.run.id != run.id:  # another trainer finished it: log anew
                run = wandb.init(dir=str(self.out), project=self._project(), id=run.id, resume="allow")
            clips, sets, pairs = self.evaluate(ckpt, arm, seed, real)
            means = {k: _nanmean([c[k] for c in clips]) for k in CLIP_METRICS} | sets
            sample_dir = path.parent / "samples"
            videos = []
            for i, (f, a) in enumerate(pairs[: self.budget.media]):
                p = media.write(sample_dir / f"{arm.name}_s{seed}_{i}.mp4", f, a, BOUNCE_SPEC.fps,
                                BOUNCE_SPEC.sample_rate)
                videos.append(wandb.Video(str(p), caption=real["captions"][i], format="mp4"))
            run.log({**{f"eval/{k}": v for k, v in means.items()}, "eval/samples": videos})
            run.summary.update({"model_trained_in_this_run": trained})
            result = {**config, "trained_in_this_run": trained, "checkpoint": str(ckpt), "clips": clips,
                      "set_metrics": sets, "means": means, "seconds": round(time.time() - t0, 1),
                      "wandb": {"mode": run.settings.mode, "id": run.id, "dir": str(Path(run.dir).parent)
                                if run.settings.mode != "disabled" else None}}
        finally:
            wandb.finish()
        return result

    def run(self, arms: list[str] | None = None) -> dict:
        """Run every (or the named) arm x seed not done yet, then write the summary. Returns it."""
        names = [a.name for a in self.ablation.arms]
        bad = sorted(set(arms or []) - set(names))
        if bad:
            raise ValueError(f"--arm {bad}: not in {self.ablation.name} (arms: {', '.join(names)})")
        todo = [(a, s) for a in self.ablation.arms if not arms or a.name in arms for s in self.seeds
                if not self.result_path(a, s).exists()]
        if todo:
            tok = self.tokenizer_paths()
            real = self.real_clips()
            for arm, seed in todo:
                self.run_one(arm, seed, tok, real)
        else:
            self._say(f"-- {self.ablation.name}: every arm x seed is done, nothing to train")
        return self.write_summary()

    # -- summary -----------------------------------------------------------------------------
    def write_summary(self, n_boot: int = 1000) -> dict:
        results = {}
        for arm in self.ablation.arms:
            rs = [json.loads(self.result_path(arm, s).read_text()) for s in self.seeds
                  if self.result_path(arm, s).exists()]
            if rs:
                results[arm.name] = rs
        if not results:
            raise ValueError(f"{self.folder}: no finished runs to summarise")
        ref_files = sorted(self.folder.glob("reference_n*.json"))
        reference = json.loads(ref_files[-1].read_text()) if ref_files else {}
        summary = summarise(self.ablation, results, reference, n_boot)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / "summary.json", json.dumps(summary, indent=1))
        write_csv(summary, self.folder / "summary.csv")
        (self.folder / "summary.md").write_text(markdown_table(summary))
        return summary

    # -- helpers -----------------------------------------------------------------------------
    def _quiet(self) -> list[str]:
        return ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"] if self.quiet else []

    def _project(self) -> str:
        return os.environ.get("WANDB_PROJECT", self.project)

    def _say(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)


def _nanmean(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(x[np.isfinite(x)].mean()) if np.isfinite(x).any() else float("nan")


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def summarise(ablation: Ablation, results: dict[str, list[dict]], reference: dict, n_boot: int = 1000) -> dict:
    """{arms: {arm: {metric: {mean, ci95, per_seed}}}, delta_vs_first: ..., reference: ...} (pure)."""
    arms: dict = {}
    for name, rs in results.items():
        row = {"n_seeds": len(rs), "seeds": [r["seed"] for r in rs], "n_clips": len(rs[0]["clips"]),
               "generation": rs[0]["generation"], "description": next(
                   (a.description for a in ablation.arms if a.name == name), "")}
        for m in CLIP_METRICS:  # (NaN: a result written before the metric was added)
            mean, lo, hi = seed_clip_bootstrap_ci([[c.get(m, math.nan) for c in r["clips"]] for r in rs], n_boot)
            row[m] = {"mean": _clean(mean), "ci95": [_clean(lo), _clean(hi)],
                      "per_seed": [_clean(r["means"].get(m, math.nan)) for r in rs]}
        for m in SET_METRICS:
            mean, lo, hi = seed_clip_bootstrap_ci([[r["set_metrics"][m]] for r in rs], n_boot)
            row[m] = {"mean": _clean(mean), "ci95": [_clean(lo), _clean(hi)],
                      "per_seed": [_clean(r["set_metrics"][m]) for r in rs]}
        arms[name] = row
    first = next(iter(results))
    delta = {}
    for name, rs in results.items():  # paired: same seed, same held-out clip
        if name == first:
            continue
        base = {r["seed"]: r for r in results[first]}
        pairs = [(r, base[r["seed"]]) for r in rs if r["seed"] in base]
        if pairs:
            diffs = [[c["event_f1"] - b["event_f1"] for c, b in zip(r["clips"], rb["clips"])] for r, rb in pairs]
            mean, lo, hi = seed_clip_bootstrap_ci(diffs, n_boot)
            delta[name] = {"event_f1": {"mean": _clean(mean), "ci95": [_clean(lo), _clean(hi)]}}
    ref = {}
    for name, clips in reference.items():
        ref[name] = {m: dict(zip(("mean", "lo", "hi"), map(_clean, seed_clip_bootstrap_ci(
            [[c.get(m, math.nan) for c in clips]], n_boot)))) for m in CLIP_METRICS}
    return {"ablation": ablation.name, "description": ablation.description, "arms": arms,
            "delta_event_f1_vs": {"arm": first, **delta}, "reference": ref,
            "metrics": {**CLIP_METRICS, **SET_METRICS}, "bootstrap": n_boot}


def _fmt(v: dict | None) -> str:
    if not v or v.get("mean") is None:
        return "n/a"
    lo, hi = v.get("ci95", [v.get("lo"), v.get("hi")])
    return f"{v['mean']:.3g} [{lo:.3g}, {hi:.3g}]" if lo is not None else f"{v['mean']:.3g}"


def markdown_table(summary: dict) -> str:
    """The summary as a markdown table: mean [95% CI] per arm and metric, then the reference rows."""
    metrics = list(summary["metrics"])
    arrow = {"higher": "↑", "lower": "↓"}
    head = ["arm", "seeds x clips", *[f"{m} {arrow[d]}" for m, d in summary["metrics"].items()],
            f"Δ event_f1 vs {summary['delta_event_f1_vs']['arm']}"]
    lines = [f"### {summary['ablation']}", "", summary["description"].strip(), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in summary["arms"].items():
        d = summary["delta_event_f1_vs"].get(name)
        lines.append("| " + " | ".join([name, f"{row['n_seeds']} x {row['n_clips']}",
                                        *[_fmt(row[m]) for m in metrics],
                                        _fmt(d["event_f1"]) if d else "—"]) + " |")
    for name, row in summary["reference"].items():
        lines.append("| " + " | ".join([f"*{name}*", "reference", *[_fmt(row.get(m)) for m in metrics], "—"]) + " |")
    lines += ["", f"Mean over seeds of the per-seed mean over clips, [two-level bootstrap 95% CI] "
                  f"({summary['bootstrap']} resamples of seeds, then clips). ↑/↓: the better direction. "
                  "Reference rows: held-out real clips, and the same clips with another clip's audio (chance). "
                  "event_f1_over_chance: each clip's event F1 minus that of its video with the next clip's "
                  "audio (chance at the clips' own event density).", ""]
    return "\n".join(lines)


def write_csv(summary: dict, path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ablation", "arm", "metric", "mean", "ci95_lo", "ci95_hi", "n_seeds", "n_clips"])
        for name, row in summary["arms"].items():
            for m in summary["metrics"]:
                v = row[m]
                w.writerow([summary["ablation"], name, m, v["mean"], *v["ci95"], row["n_seeds"], row["n_clips"]])


# ----------------------------------------------------------------------------------------------
# reading offline W&B runs without the network


@dataclass
class OfflineRun:
    """What an offline W&B run folder holds: its config, summary, history rows and media files."""

    path: Path
    config: dict
    summary: dict
    history: list[dict]
    media: list[Path]
    name: str = ""  # the run's display name, group and job type
    group: str = ""
    job_type: str = ""
    finished: bool = False  # its exit record is written (W&B writes an offline run's log asynchronously)


def read_offline_run(path: str | Path) -> OfflineRun:
    """Read `wandb/offline-run-*/` locally: the records of its `run-*.wandb` log and `files/media/`.

    The .wandb file is a LevelDB-style log (a 7-byte file header, 32 KiB blocks, records of
    [crc32 (4), length (2), type (1)] + payload, types full/first/middle/last) of protobuf
    `Record`s; it is what `wandb sync` uploads. An undocumented format: read it, never write it. A run
    still being written is read up to its last whole record (`finished` says whether its exit came).
    """
    from wandb.proto import wandb_internal_pb2 as pb

    path = Path(path)
    logs = sorted(path.glob("run-*.wandb"))
    if not logs:
        raise FileNotFoundError(f"{path}: no run-*.wandb file (not an offline W&B run folder)")
    data, pos, block, chunks, buf = logs[0].read_bytes(), 7, 32768, [], b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # the block's tail is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos: pos + 7])
        if pos + 7 + length > len(data):  # a record W&B's service is still writing: read up to it
            break
        payload, pos = data[pos + 7: pos + 7 + length], pos + 7 + length
        if kind == 0 and length == 0:
            break
        buf = payload if kind in (1, 2) else buf + payload
        if kind in (1, 4):
            chunks.append(buf)
    config, summary, history, names, finished = {}, {}, [], ("", "", ""), False

    def items(updates, into):
        for u in updates:
            key = u.key or "/".join(u.nested_key)
            if not key.startswith("_"):
                into[key] = json.loads(u.value_json)

    for chunk in chunks:
        r = pb.Record()
        r.ParseFromString(chunk)
        kind = r.WhichOneof("record_type")
        if kind == "run":
            items(r.run.config.update, config)
            names = (r.run.display_name, r.run.run_group, r.run.job_type)
        elif kind == "config":
            items(r.config.update, config)
        elif kind == "summary":
            items(r.summary.update, summary)
        elif kind == "history":
            row = {}
            items(r.history.item, row)
            history.append(row)
        elif kind == "exit":
            finished = True
    media = sorted(p for p in (path / "files" / "media").rglob("*") if p.is_file())
    return OfflineRun(path, config, summary, history, media, *names, finished)
