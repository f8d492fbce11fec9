"""`seedkit demo`: the whole pipeline on built-in data, on a CPU, in minutes.

1. preview bounce clips (mp4 with sound + contact sheet)
2. train the video and the audio tokenizer            (seedkit fit, tokenizer_*_bounce.yaml)
3. train the joint dual-tower model                    (seedkit fit, joint_bounce.yaml)
4. sample in all three modes: joint (text -> AV), a2v (given audio), v2a (given video); and the
   sequential pipeline: the joint videos with a soundtrack made for them by v2a
5. score sync on the samples next to real clips and real clips with audio shifted by 0.25 s
   -> outputs/demo/metrics.json, outputs/demo/samples/*.mp4, outputs/demo/contact_sheet.png

Every stage is skipped when its output already exists, so a killed demo resumes where it stopped.
With `DemoConfig.wandb` (`seedkit demo --wandb`) the training stages and the scores also go to W&B,
as runs of one group.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .paths import write_text_atomic
from .typed import check_at_least, check_types


@dataclass
class DemoConfig:
    out: str = "outputs/demo"  # everything the demo writes goes here
    video_tokenizer_steps: int = 1600  # at the YAML's batch 2: 96-103 s measured on 2 idle cores (README)
    audio_tokenizer_steps: int = 400  # at the YAML's batch: 96 s measured on 2 idle cores
    # joint model steps, 238-459 s measured on 2 cores (far from in sync yet: docs/joint_bounce.md)
    joint_steps: int = 300
    joint_batch_size: int = 24  # clips per joint step (400 x 32 made the demo 18 min on a slow day)
    n_eval: int = 32  # clips generated per mode and scored
    sample_steps: int = 25  # Euler steps per sample
    # modality (bridge-off) guidance when sampling: it amplifies sync the model has learned, and the
    # 300-step demo model has learned too little (32 clips: joint event F1 0.270 at 1, 0.243 at 2;
    # v2a 0.266 at 1, 0.265 at 2). A v2a model that follows the video gains (docs/joint_bounce.md).
    modality_scale: float = 1.0
    # the sampler's clock ramp w (None: the joint model's own; 0: one noise level per clip); a model
    # trained with FlowConfig.clock_ramp samples along it (docs/joint_bounce.md, "A clock ramp")
    clock_ramp: float | None = None
    seed: int = 0  # sampling seed
    # SamplerConfig fields that replace the joint model's own when scoring, e.g. {"guidance_t_min": 0.9}
    # (None: the model's sampler, with the fields above)
    sampler: dict | None = None
    # best of N when scoring (seedkit/rerank.py): every clip sampled `rerank` times and the candidate
    # the sync critic rates best kept (1: off); `critic`: its SyncNet-lite checkpoint, trained on
    # bounce (seedkit/configs/syncnet_bounce.yaml)
    rerank: int = 1
    critic: str | None = None
    # a realism critic weighed into the choice (seedkit/configs/realism_bounce.yaml; None: the sync
    # critic alone): each clip's candidates ranked by z(sync) + realism_weight * z(realism)
    realism: str | None = None
    realism_weight: float = 1.0
    # train the two tokenizers at the same time, in two processes with half the threads each: a
    # tokenizer step gains only x1.5-1.7 from a second thread and its data are drawn on one, so on
    # 2 cores the pair took 201 s instead of 157 + 153 s one after the other (2-core AMD EPYC;
    # docs/joint_bounce.md)
    parallel_tokenizers: bool = True
    # Lightning precision of the joint model. "auto": bf16-mixed where it is faster, on a GPU or a CPU
    # with bf16 matrix units (AMX): 282 s instead of 318 s for the 300 steps on a 2-core Xeon, val/loss
    # 0.3833 vs 0.3829 (docs/joint_bounce.md); else joint_bounce.yaml's 32-bit, as None does (on a
    # CPU without AMX bf16 is slower). Else one of `lit.PRECISIONS` ("32-true", "bf16-mixed", "16-mixed"),
    # passed to Lightning as it is.
    precision: str | None = "auto"
    num_workers: int = 0  # DataLoader workers of the joint stage (0: on 2 cores the model's threads fill them)
    # log to W&B (offline without an account; `wandb sync OUT/wandb/offline-run-*` uploads later): the
    # tokenizers' and the joint model's training curves and validation clips as runs of one group, and
    # the scores, the contact sheet and the sample clips in the joint model's run (False: no logger
    # for the tokenizers, the joint model's CSV logger)
    wandb: bool = False

    def __post_init__(self) -> None:
        """Every option is checked when the config is built, not after minutes of training."""
        check_types(self)
        check_at_least("DemoConfig", 1, video_tokenizer_steps=self.video_tokenizer_steps,
                       audio_tokenizer_steps=self.audio_tokenizer_steps, joint_steps=self.joint_steps,
                       joint_batch_size=self.joint_batch_size, n_eval=self.n_eval, sample_steps=self.sample_steps,
                       rerank=self.rerank)
        check_at_least("DemoConfig", 0, num_workers=self.num_workers, modality_scale=self.modality_scale,
                       realism_weight=self.realism_weight, clock_ramp=self.clock_ramp or 0, seed=self.seed)
        if self.rerank > 1 and not self.critic:
            raise ValueError(f"DemoConfig.rerank={self.rerank} keeps the best of {self.rerank} candidates by a sync "
                             "critic: set DemoConfig.critic to a SyncNet-lite checkpoint (seedkit fit --config "
                             "seedkit/configs/syncnet_bounce.yaml)")
        if self.realism and self.rerank < 2:
            raise ValueError("DemoConfig.realism weighs a realism critic into the best-of-N choice: set "
                             f"DemoConfig.rerank >= 2 (got {self.rerank})")
        if self.precision not in (None, "auto"):
            from .lit import PRECISION_ALIASES, PRECISIONS

            if PRECISION_ALIASES.get(self.precision, self.precision) not in PRECISIONS:
                raise ValueError(f"DemoConfig.precision={self.precision!r}: expected 'auto' or one of {PRECISIONS} "
                                 "(the joint model's fp32 weights, with or without autocast)")
        if self.sampler is not None:
            from .sampling import SamplerConfig

            try:
                SamplerConfig(**self.sampler)
            except TypeError as e:  # an unknown field
                raise ValueError(f"DemoConfig.sampler={self.sampler!r}: {e}") from None

    @classmethod
    def tiny(cls, out: str) -> "DemoConfig":
        """A smoke run of every stage (tests, notebooks in fast mode): seconds, no quality expected."""
        return cls(out=out, video_tokenizer_steps=4, audio_tokenizer_steps=4, joint_steps=4, joint_batch_size=4,
                   n_eval=4, sample_steps=2)


def bf16_is_faster() -> bool:
    """True on a CUDA GPU with bf16, or on a CPU with AMX tiles (bf16 matrix units)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.11: absent means unknown
    return bool(amx and amx())


def joint_precision(precision: str | None) -> str | None:
    """The Lightning precision the demo's joint stage runs at (None: the YAML's) for DemoConfig.precision."""
    if precision == "auto":
        return "bf16-mixed" if bf16_is_faster() else None
    return precision


def config_path(name: str) -> str:
    """Path of a YAML config shipped inside the package."""
    return str(resources.files("seedkit") / "configs" / name)


def _fit(config: str, overrides: list[str]) -> None:
    from .training_cli import run

    run(["fit", "--config", config_path(config), *overrides])


def _loads(kind: str, path: Path) -> bool:
    """Does the tokenizer checkpoint at `path` load with this version of the kit?"""
    from .tokenizers.audio import AudioAutoencoder
    from .tokenizers.checkpoint import CheckpointError
    from .tokenizers.video import VideoAutoencoder

    try:
        (VideoAutoencoder if kind == "video" else AudioAutoencoder).from_checkpoint(path)
    except CheckpointError:
        return False
    return True


def tokenizer_overrides(kind: str, steps: int, out: Path, path: Path, logger: str = "false") -> list[str]:
    """`seedkit fit` options of the demo's tokenizer stage: `steps` steps, exported to `path`; `logger`:
    the --trainer.logger value (none by default)."""
    return [f"--trainer.max_steps={steps}", f"--trainer.default_root_dir={out}/tokenizer_{kind}",
            f"--model.export_path={path}", f"--trainer.logger={logger}", "--trainer.num_sanity_val_steps=0",
            "--trainer.enable_checkpointing=false", "--trainer.callbacks=[]"]


WANDB_PROJECT = "seedkit-demo"  # W&B project of `seedkit demo --wandb` (env WANDB_PROJECT wins)


def wandb_project() -> str:
    return os.environ.get("WANDB_PROJECT", WANDB_PROJECT)


def wandb_group(out: Path) -> str:
    """The W&B group of the demo in folder `out`: env WANDB_RUN_GROUP (a class's session, docs/teaching.md),
    else named once and kept in out/wandb_group.txt, so a resumed demo logs into the same group."""
    if os.environ.get("WANDB_RUN_GROUP"):
        return os.environ["WANDB_RUN_GROUP"]
    path = out / "wandb_group.txt"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(f"demo-{time.strftime('%Y%m%d-%H%M%S')}\n")
    return path.read_text().strip()


def wandb_logger(out: Path, name: str) -> str:
    """A --trainer.logger value: a WandbLogger whose run `name` joins the demo's group, its files
    under out/wandb (offline unless an account is configured: `seedkit.training_cli.configure_wandb_mode`)."""
    return json.dumps({"class_path": "lightning.pytorch.loggers.WandbLogger",
                       "init_args": {"save_dir": str(out), "name": name,
                                     "project": wandb_project()},
                       "dict_kwargs": {"group": wandb_group(out), "job_type": "train"}})


# Lightning's training bar, "Epoch 1:  44%|####      | 113/256 [..": epoch, batch in it, batches per epoch
_PROGRESS = re.compile(rb"Epoch (\d+):[^|]*\|[^|]*\| (\d+)/(\d+) \[")


def _fit_in_parallel(jobs: dict[str, tuple[str, list[str], int]], logs: dict[str, Path],
                     times: dict[str, float]) -> None:
    """Run `seedkit fit --config C OPTIONS` for every job {name: (C, OPTIONS, STEPS)} at once, each in
    its own process with an equal share of this process's torch threads, output to logs[name]; a bar
    per job (of STEPS steps) follows the progress in its log. A failed job raises with the end of
    its log."""
    import torch
    from tqdm.auto import tqdm

    threads = str(max(1, torch.get_num_threads() // len(jobs)))
    # without this process's W&B service, if it has one: a job's run (`--wandb`) then ends with the job,
    # where a shared service would keep it open until this process exits
    env = {**{k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"},
           "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    procs, bars, epochs, start = {}, {}, {}, time.time()
    try:
        for name, (config, overrides, steps) in jobs.items():
            logs[name].parent.mkdir(parents=True, exist_ok=True)
            with open(logs[name], "wb") as log:
                procs[name] = subprocess.Popen([sys.executable, "-m", "seedkit.cli", "fit", "--config",
                                                config_path(config), *overrides],
                                               stdout=log, stderr=subprocess.STDOUT, env=env)
            bars[name] = tqdm(desc=f"{name} ({threads} thread{'s' * (threads != '1')})", unit="step",
                              total=steps)
        while procs:
            time.sleep(1.0)
            for name, proc in list(procs.items()):
                with open(logs[name], "rb") as log:
                    log.seek(max(0, logs[name].stat().st_size - 4096))
                    seen = _PROGRESS.findall(log.read())
                if seen:
                    epoch, batch, length = (int(v) for v in seen[-1])
                    state = epochs.setdefault(name, [0, 0, length])  # epoch, steps before it, its length
                    if epoch > state[0]:  # a new epoch: the last one ran to its bar's length
                        state[:] = [epoch, state[1] + state[2], length]
                    done = state[1] + batch
                    bars[name].update(min(done, bars[name].total or done) - bars[name].n)
                if proc.poll() is None:
                    continue
                del procs[name]
                if proc.returncode == 0 and bars[name].total:
                    bars[name].update(bars[name].total - bars[name].n)
                bars[name].close()
                times[f"{name}_s"] = time.time() - start
                lines = logs[name].read_text(errors="replace").replace("\r", "\n").splitlines()
                if proc.returncode != 0:
                    raise RuntimeError(f"{name} training failed (exit {proc.returncode}); its log is "
                                       f"{logs[name]}:\n" + "\n".join(lines[-15:]))
                for line in lines:
                    if line.startswith("exported "):  # the tokenizer's own last word: where it went
                        print(f"   {name}: {line}")
    finally:
        for proc in procs.values():  # interrupted, or another job failed: stop the rest
            proc.terminate()
            proc.wait()


def train_pipeline(cfg: DemoConfig, times: dict[str, float] | None = None) -> Path:
    """Stages 2-3 of the demo: both bounce tokenizers, then the joint model; returns its last.ckpt.

    Each stage is skipped when its output exists (a joint run with fewer steps is resumed), so
    notebooks call this to get a trained model cheaply once `make demo` has run.
    """
    out = Path(cfg.out)
    times = {} if times is None else times
    ckpt = out / "checkpoints"
    joint_dir = out / "joint"
    todo: dict[str, tuple[str, list[str], int]] = {}  # stage -> (config, options, steps) still to train
    for kind, steps in (("video", cfg.video_tokenizer_steps), ("audio", cfg.audio_tokenizer_steps)):
        path = ckpt / f"tokenizer_{kind}_bounce.pt"
        if path.exists() and not _loads(kind, path):  # written by an older seedkit: retrain it
            stale = path.with_name(f"{path.stem}.stale{path.suffix}")
            path.replace(stale)
            print(f"== {path} does not fit this seedkit's {kind} tokenizer: moved to {stale.name}, retraining")
        if not path.exists():
            print(f"== training the {kind} tokenizer ({steps} steps)")
            name = f"tokenizer_{kind}"
            logger = wandb_logger(out, name) if cfg.wandb else "false"
            todo[name] = (f"{name}_bounce.yaml", tokenizer_overrides(kind, steps, out, path, logger), steps)
    if todo and joint_dir.exists():  # a joint model on the latents of the tokenizers replaced now
        stamp = int(time.time())
        aside = next(p for p in (out / f"joint.stale-{stamp}-{i}" for i in range(1000)) if not p.exists())
        joint_dir.replace(aside)
        print(f"== {joint_dir} was trained on the tokenizers retrained now: moved to {aside.name}")
    if cfg.parallel_tokenizers and len(todo) > 1:
        logs = {name: out / name / "fit.log" for name in todo}
        print("   at the same time, logs in " + ", ".join(str(p) for p in logs.values()))
        _fit_in_parallel(todo, logs, times)
    else:
        for name, (config, overrides, _) in todo.items():
            t = time.time()
            _fit(config, overrides)
            if cfg.wandb:  # its run ends here; the next stage's logger would go on in it
                import wandb

                if wandb.run is not None and wandb.run.group == wandb_group(out):  # ours, not a caller's
                    wandb.run.finish()
            times[f"{name}_s"] = time.time() - t

    last = joint_dir / "checkpoints" / "last.ckpt"
    t = time.time()
    done = last.exists() and torch.load(last, map_location="cpu", weights_only=True)["global_step"] >= cfg.joint_steps
    if not done:
        print(f"== training the joint model ({cfg.joint_steps} steps, {joint_precision(cfg.precision) or '32-true'})")
        _fit("joint_bounce.yaml", [*joint_options(cfg, ckpt, joint_dir),
                                   *(["--ckpt_path=last"] if last.exists() else [])])
    times["joint_s"] = time.time() - t

    return last


def joint_options(cfg: DemoConfig, tokenizers: Path, joint_dir: Path) -> list[str]:
    """`seedkit fit` options of the demo's joint stage on joint_bounce.yaml: the tokenizers in folder
    `tokenizers`, checkpoints and logs under `joint_dir`, the budget and precision of `cfg`."""
    precision = joint_precision(cfg.precision)
    logger = (f"--trainer.logger={wandb_logger(joint_dir.parent, 'joint')}" if cfg.wandb
              else f"--trainer.logger.init_args.save_dir={joint_dir}")
    return [
        f"--trainer.max_steps={cfg.joint_steps}", f"--trainer.default_root_dir={joint_dir}", logger,
        f"--trainer.callbacks.init_args.dirpath={joint_dir / 'checkpoints'}",
        f"--model.video_tokenizer={tokenizers / 'tokenizer_video_bounce.pt'}",
        f"--model.audio_tokenizer={tokenizers / 'tokenizer_audio_bounce.pt'}",
        "--trainer.num_sanity_val_steps=0", f"--trainer.val_check_interval={cfg.joint_steps}",  # once, at the end
        "--trainer.limit_val_batches=1", "--data.num_val=8", f"--data.batch_size={cfg.joint_batch_size}",
        f"--data.num_workers={cfg.num_workers}", *([f"--trainer.precision={precision}"] if precision else [])]


def run_demo(cfg: DemoConfig = DemoConfig()) -> dict:
    from .data import BOUNCE_SPEC
    from .data.preview import BOUNCE_TITLE, bounce_clips, write_preview

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.wandb:
        from .training_cli import configure_wandb_mode

        configure_wandb_mode()  # offline unless an account is configured; the tokenizers' processes inherit it
        if not torch.cuda.is_available():  # no system-metrics sampler competing with training on a CPU
            os.environ.setdefault("WANDB__DISABLE_STATS", "true")
    times: dict[str, float] = {}
    t0 = time.time()
    if not (out / "preview" / "contact_sheet.png").exists():
        write_preview(bounce_clips(8, BOUNCE_SPEC), BOUNCE_SPEC, out / "preview", title=BOUNCE_TITLE)
    times["preview_s"] = time.time() - t0

    last = train_pipeline(cfg, times)

    t = time.time()
    metrics = evaluate_demo(last, out, cfg)
    times["sample_and_score_s"] = time.time() - t
    metrics["times_s"] = times
    metrics["joint_precision"] = joint_precision(cfg.precision) or "32-true"  # as this run would train it
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2))
    if cfg.wandb:
        log_scores_to_wandb(metrics, cfg)
    print(format_summary(metrics, out))
    return metrics


def log_scores_to_wandb(metrics: dict, cfg: DemoConfig) -> None:
    """The demo's scores into the joint model's W&B run (a new run of the group when that stage was
    done before): the demo's settings `cfg` as config `demo`, the sync table, per arm event F1 and
    mean |offset| in the summary, the contact sheet and the sample clips; then the run is finished."""
    import wandb

    out = Path(cfg.out)
    group = wandb_group(out)
    run = wandb.run
    if run is None or run.group != group:  # the joint model trained in an earlier call
        # (beside a run of the caller's own, if one is active: that one is left as it is)
        run = wandb.init(dir=str(out), project=wandb_project(), group=group,
                         job_type="score", name="scores", reinit="create_new")
    try:
        fps, rows, summary = metrics["fps"], [], {}
        for key, label in SUMMARY_ROWS:
            m = metrics.get(key)
            if m is None:
                continue
            rows.append([label.strip(), m["event_f1"], m["mean_abs_offset_ms"], m["n_impacts"],
                         m["n_impacts_mid_air"], m["n_onsets"], meets_goal(m, fps)])
            summary |= {f"demo/{key}/event_f1": m["event_f1"], f"demo/{key}/mean_abs_offset_ms": m["mean_abs_offset_ms"]}
        summary["demo/joint_f1_over_chance"] = metrics["joint"]["event_f1"] - metrics["joint_audio_of_next_clip"]["event_f1"]
        summary |= {f"demo/times/{k}": v for k, v in metrics.get("times_s", {}).items()}
        table = wandb.Table(columns=["clips", "event F1", "mean |offset| ms", "impacts", "mid-air", "onsets",
                                     "goal met"], data=rows)
        clips = [wandb.Video(str(p), caption=p.stem, format="mp4") for p in sorted((out / "samples").glob("*.mp4"))]
        run.log({"demo/sync": table, "demo/contact_sheet": wandb.Image(str(out / "contact_sheet.png")),
                 "demo/samples": clips})
        run.summary.update(summary)
        run.config.update({"demo": asdict(cfg)}, allow_val_change=True)  # its budget, sampler, reranking
    finally:
        run.finish()


# (key in metrics.json, label) of the rows `format_summary` prints, in this order
SUMMARY_ROWS = [
    ("real", "real clips"),
    ("real_audio_shifted_250ms", "real, audio shifted 0.25 s"),
    ("joint", "joint: text -> video + audio"),
    ("joint_audio_of_next_clip", "  chance: each with the next clip's audio"),
    ("sequential", "sequential: joint videos, audio by v2a"),
    ("a2v_vs_given_audio", "a2v: generated video vs the given audio"),
    ("v2a_vs_given_video", "v2a: generated audio vs the given video"),
]
GOAL_F1 = 0.7  # issue 6's goal: event F1 >= 0.7 with mean |offset| <= 1 frame


def meets_goal(arm: dict, fps: float) -> bool:
    """Whether a scored arm (`sync_score`) reaches the goal: event F1 >= 0.7, mean |offset| <= 1 frame."""
    off = arm["mean_abs_offset_ms"]
    return arm["event_f1"] >= GOAL_F1 and off is not None and off <= 1000 / fps


def format_summary(metrics: dict, out: Path) -> str:
    """What `seedkit demo` prints at the end: the sync table of `metrics` (written by `run_demo`),
    the goal checked for each generated arm, the stage times and where the files are."""
    fps = metrics["fps"]
    lines = [f"sync on {metrics['real']['n_clips']} held-out bounce clips (event F1 averaged over clips; "
             "|offset|: mean over matched events)",
             f"{'':<42}{'F1':>7}{'|offset|':>11}{'impacts':>9}{'mid-air':>9}{'onsets':>8}"]
    for key, label in SUMMARY_ROWS:
        m = metrics.get(key)
        if m is None:
            continue
        off = "-" if m["mean_abs_offset_ms"] is None else f"{m['mean_abs_offset_ms']:.1f} ms"
        lines.append(f"{label:<42}{m['event_f1']:>7.3f}{off:>11}{m['n_impacts']:>9}{m['n_impacts_mid_air']:>9}"
                     f"{m['n_onsets']:>8}")
    seams = metrics.get("video_seams", {})
    if seams.get("joint"):
        lines.append("latent-frame seam ratio (1: as smooth across seams as inside): "
                     + ", ".join(f"{k} {v['ratio']:.2f}" for k, v in seams.items() if v))
    verdicts = [f"{label} {'met' if meets_goal(metrics[key], fps) else 'not met'}"
                for key, label in (("joint", "joint"), ("a2v_vs_given_audio", "a2v"), ("v2a_vs_given_video", "v2a"))]
    lines.append(f"goal, event F1 >= {GOAL_F1} with mean |offset| <= 1 frame ({1000 / fps:.1f} ms): "
                 + ", ".join(verdicts))
    over = metrics["joint"]["event_f1"] - metrics["joint_audio_of_next_clip"]["event_f1"]
    lines.append(f"joint F1 minus its chance: {over:+.3f} (what longer runs reach: docs/joint_bounce.md)")
    times = metrics.get("times_s", {})
    if times:
        lines.append("stages: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in times.items()))
    lines.append(f"files: {out / 'metrics.json'}, {out / 'contact_sheet.png'}, {out / 'samples'}/*.mp4")
    return "\n".join(lines)


def held_out_data_settings(trained: dict) -> dict:
    """`AVDataModule` settings of the bounce test scenes for a joint model trained with the data
    settings `trained` (`load_joint(...).data_settings`): scenes of the same world (data seed, clip
    size, objects per scene), after its train and val scenes. With joint_bounce.yaml's splits these
    are the scenes from 100064 on, never seen by the tokenizers or the joint model."""
    from .data.bounce import TEST_START

    if trained.get("dataset", "bounce") != "bounce":
        raise ValueError(f"the model was trained on {trained['dataset']!r}; the demo scores bounce models")
    world = {k: trained[k] for k in ("seed", "fps", "num_frames", "size", "sample_rate", "max_objects", "captions")
             if k in trained}
    start = max(TEST_START, trained.get("num_train", 0) + trained.get("num_val", 0))  # first test scene
    return {**world, "num_train": start - 64, "num_val": 64}


def sync_score(frames_list, audio_list, impacts: list, fps: float, sample_rate: int) -> dict:
    """Event sync of clips (frames [T, H, W, 3], waveform) whose visual impacts are already found
    (`detect_video_impact_events` of each clip's frames): F1 averaged over clips, pooled F1, mean
    |offset| of matched events, counts, and the impacts that turn in mid-air."""
    from .metrics.events import event_sync_score

    s = [event_sync_score(f, a, fps, sample_rate, impacts_s=[e.time_s for e in i])
         for f, a, i in zip(frames_list, audio_list, impacts)]
    matched = sum(x.n_matched for x in s)
    # offsets are averaged over matched events (a clip with no match has no offset)
    off = sum(x.mean_abs_offset_s * x.n_matched for x in s) / matched if matched else None
    n_pred, n_true = sum(x.n_pred for x in s), sum(x.n_true for x in s)
    return {"event_f1": float(np.mean([x.f1 for x in s])),
            # every event of every clip in one count: a clip with no impact and no onset (scored
            # F1 1 on its own) adds nothing here
            "event_f1_pooled": 2 * matched / (n_pred + n_true) if n_pred + n_true else None,
            "mean_abs_offset_ms": None if off is None else float(1000 * off),
            "n_matched_events": matched, "n_onsets": n_pred, "n_impacts": n_true,
            # impacts away from every wall: turns in mid-air, no bounce makes one (real clips: 7 of 132)
            "n_impacts_mid_air": sum(not e.at_wall for i in impacts for e in i),
            "n_clips_without_events": sum(x.n_pred == 0 and x.n_true == 0 for x in s), "n_clips": len(s)}


def evaluate_demo(ckpt: Path, out: Path, cfg: DemoConfig) -> dict:
    """Generate `n_eval` clips per mode from test captions/clips and score event sync."""
    from . import media
    from .data import AVDataModule, video_to_frames
    from .lit import load_joint
    from .metrics.events import detect_video_impact_events, motion_stats
    from .metrics.seams import seam_report
    from .sampling import SamplerConfig
    from .viz import save_contact_sheet, use_headless_backend

    use_headless_backend()
    critic = None
    if cfg.rerank > 1:  # DemoConfig checked that a critic is named
        from .metrics.syncnet import load_syncnet

        critic = load_syncnet(cfg.critic)
    realism = None
    if cfg.realism:
        from .metrics.realism import load_realism

        realism = load_realism(cfg.realism)

    jm = load_joint(str(ckpt))
    dm = AVDataModule(**held_out_data_settings(jm.data_settings), batch_size=cfg.n_eval, num_test=cfg.n_eval)
    batch = next(iter(dm.test_dataloader()))
    spec = jm.spec
    scfg = SamplerConfig(**{**vars(jm.sampler_config), "steps": cfg.sample_steps, "seed": cfg.seed,
                            "modality_scale": cfg.modality_scale,
                            **({} if cfg.clock_ramp is None else {"clock_ramp": cfg.clock_ramp}),
                            **(cfg.sampler or {})})

    def generate(mode: str, **kw):
        if critic is None:
            return jm.generate(mode, config=scfg, **kw)
        from .rerank import best_of_n

        best = best_of_n(jm, critic, cfg.rerank, mode, scfg, realism=realism, realism_weight=cfg.realism_weight, **kw)
        return best.video, best.audio

    def impacts_of(frames_list) -> list:
        return [detect_video_impact_events(f, spec.fps) for f in frames_list]

    def score(frames_list, audio_list, impacts: list) -> dict:
        return sync_score(frames_list, audio_list, impacts, spec.fps, spec.sample_rate)

    real_frames = [video_to_frames(v).numpy() for v in batch["video"]]
    real_audio = [a.numpy() for a in batch["audio"]]
    shift = int(0.25 * spec.sample_rate)
    shifted = [np.roll(a, shift, axis=-1) for a in real_audio]
    real_impacts = impacts_of(real_frames)
    result = {"real": score(real_frames, real_audio, real_impacts),
              "real_audio_shifted_250ms": score(real_frames, shifted, real_impacts)}
    # how much more the pictures change at latent-frame seams than inside (1 = coherent, as real clips)
    per_latent = jm.video_tok.config.time_down  # frames per latent frame (1: pixel tokens, no seams)

    def seams(frames_list) -> dict | None:
        return seam_report(frames_list, per_latent).as_dict() if per_latent > 1 else None

    result["video_seams"] = {"real": seams(real_frames)}
    # how the objects move: whole objects tracked and their jerkiness (real: gravity's 0.19 px/frame^2)
    result["motion"] = {"real": asdict(motion_stats(real_frames))}

    runs = {
        "joint": dict(text_ids=batch["text_ids"], text_mask=batch["text_mask"]),
        "a2v": dict(text_ids=batch["text_ids"], text_mask=batch["text_mask"], audio=batch["audio"]),
        "v2a": dict(text_ids=batch["text_ids"], text_mask=batch["text_mask"], video=batch["video"]),
    }
    sheet = []
    for mode, kw in runs.items():
        v, a = generate(mode, n=cfg.n_eval, **kw)
        frames = [video_to_frames(x).numpy() for x in v]
        audio = [x.numpy() for x in a]
        impacts = impacts_of(frames)
        result[mode] = score(frames, audio, impacts)
        if mode != "v2a":  # v2a keeps the real video
            result["video_seams"][mode] = seams(frames)
            result["motion"][mode] = asdict(motion_stats(frames))
        if mode == "a2v":  # does the generated video follow the given audio?
            result["a2v_vs_given_audio"] = score(frames, real_audio, impacts)
        if mode == "v2a":  # does the generated audio follow the given video?
            result["v2a_vs_given_video"] = score(real_frames, audio, real_impacts)
        if mode == "joint":  # chance at these clips' own event density: each video with the next
            # clip's soundtrack (more impacts and onsets per clip match more often by chance)
            result["joint_audio_of_next_clip"] = score(frames, audio[1:] + audio[:1], impacts)
            # the sequential pipeline (experiments.generate_sequential) on these same videos, so
            # they are not generated twice: their soundtrack made by v2a
            _, a_seq = generate("v2a", n=cfg.n_eval, text_ids=batch["text_ids"], text_mask=batch["text_mask"], video=v)
            result["sequential"] = score(frames, [x.numpy() for x in a_seq], impacts)
        for i in range(min(4, len(frames))):  # the first four clips as playable files
            media.write(out / "samples" / f"{mode}_{i}.mp4", frames[i], audio[i], spec.fps, spec.sample_rate)
        sheet.append({"frames": frames[0], "waveform": audio[0], "caption": f"{mode}: {batch['caption'][0]}",
                      "events": [(e.time_s, "") for e in impacts[0]]})  # what the video shows, under the sound
    save_contact_sheet(sheet, spec.fps, spec.sample_rate, out / "contact_sheet.png",
                       title="demo samples (joint, a2v, v2a); dashed: impacts seen in the video")
    result["fps"] = spec.fps  # frame rate of every scored clip (one frame: the offset goal)
    result["sampler"] = vars(scfg)
    result["rerank"] = {"candidates": cfg.rerank, "critic": cfg.critic if critic is not None else None,
                        "realism": cfg.realism, "realism_weight": cfg.realism_weight if realism is not None else None}
    return result
