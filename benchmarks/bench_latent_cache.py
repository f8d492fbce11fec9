"""Does caching the latents pay? `seedkit fit` steps with `--data.cache_latents true` against the
default (every batch loaded as media and encoded by the frozen tokenizers), in the same run.

    .venv/bin/python benchmarks/bench_latent_cache.py --video-tokenizer V --audio-tokenizer A
    .venv/bin/python benchmarks/bench_latent_cache.py --precision 32-true ...   # fp32 instead of bf16
    .venv/bin/python benchmarks/bench_latent_cache.py --num-workers 4,0 ...     # other worker counts
    .venv/bin/python benchmarks/bench_latent_cache.py --quick    # tiny bounce smoke run (tests)

Both variants train the model of a joint config (default seedkit/configs/joint_grid.yaml: its
model, data and batch size) with Lightning's Trainer for `--steps` steps, each with every
DataLoader worker count of `--num-workers` (default 2 and 0: on a 2-core CPU the workers compete
with the training threads), in alternating rounds (media, latents, media, latents, ...). A callback times each step from one `on_train_batch_end` to
the next, so the time includes fetching the batch; the first `--warmup` steps of each round are
left out. The latents live in a temporary folder: the first latents run encodes them (timed: the
one-time cost), later runs load them. Reports the median step time of each variant, its ratio to
the first (media with the first worker count), and after how many steps the one-time encoding has
paid for itself in the fastest variant.

Needs the prepared GRID cache (data/cache/grid or --cache-dir) and the GRID tokenizers for the
default config; --quick builds untrained tiny tokenizers and runs on bounce.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import RESULTS_DIR, machine, table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class StepTimer(L.Callback):
    """Seconds between consecutive training batch ends (batch fetch + step)."""

    def __init__(self):
        self.ends: list[float] = []

    def on_train_start(self, trainer, pl_module):
        self.ends = [time.perf_counter()]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.ends.append(time.perf_counter())

    def steps(self) -> list[float]:
        return [b - a for a, b in zip(self.ends, self.ends[1:])]


def _fit(config: dict, *, cache: bool, latent_dir: str, steps: int, precision: str, root: str,
         overrides: dict) -> tuple[list[float], float]:
    """One training run; returns (step seconds, seconds spent in setup incl. any encoding)."""
    from seedkit.data import AVDataModule
    from seedkit.lit import JointAV

    L.seed_everything(0, verbose=False)
    data_args = {**config["data"]["init_args"], **overrides.get("data", {}),
                 "cache_latents": cache, "latent_dir": latent_dir}
    model_args = {**config["model"]["init_args"], **overrides.get("model", {}), "val_samples": 0}
    dm = AVDataModule(**data_args)
    jm = JointAV(**model_args)
    timer = StepTimer()
    trainer = L.Trainer(max_steps=steps, precision=precision, logger=False, enable_checkpointing=False,
                        limit_val_batches=0, num_sanity_val_steps=0, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[timer], default_root_dir=root,
                        gradient_clip_val=config["trainer"].get("gradient_clip_val"), accelerator="auto")
    t0 = time.perf_counter()
    trainer.fit(jm, datamodule=dm)
    setup_s = timer.ends[0] - t0 if timer.ends else float("nan")
    return timer.steps(), setup_s


def _tiny_overrides(tmp: Path) -> dict:
    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    torch.manual_seed(0)
    VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8)).save_checkpoint(tmp / "v.pt")
    AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16,
                                            griffin_lim_iters=2)).save_checkpoint(tmp / "a.pt")
    return {"model": {"video_tokenizer": str(tmp / "v.pt"), "audio_tokenizer": str(tmp / "a.pt"),
                      "model": {"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                                "audio_depth": 1, "audio_heads": 2, "text_dim": 16}},
            "data": {"num_train": 16, "num_val": 4, "batch_size": 4, "num_workers": 0}}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=str(ROOT / "seedkit/configs/joint_grid.yaml"), help="joint config")
    ap.add_argument("--video-tokenizer", help="video tokenizer checkpoint (default: the config's)")
    ap.add_argument("--audio-tokenizer", help="audio tokenizer checkpoint (default: the config's)")
    ap.add_argument("--cache-dir", help="grid: prepared cache (default: the config's, or data/cache/grid)")
    ap.add_argument("--num-workers", default="2,0",
                    help="DataLoader worker counts to try, comma-separated (each with media and latents)")
    ap.add_argument("--precision", default="bf16-mixed", help="Trainer precision (bf16-mixed | 32-true)")
    ap.add_argument("--steps", type=int, default=40, help="training steps per round")
    ap.add_argument("--warmup", type=int, default=5, help="steps of each round left out of the median")
    ap.add_argument("--rounds", type=int, default=2, help="rounds per variant, alternating")
    ap.add_argument("--quick", action="store_true", help="tiny bounce smoke run (untrained tokenizers)")
    ap.add_argument("--out", default=str(RESULTS_DIR / "latent_cache_cpu.json"), help="JSON result path")
    args = ap.parse_args(argv)
    if args.warmup >= args.steps:
        ap.error(f"--warmup ({args.warmup}) must be below --steps ({args.steps})")
    try:
        workers = [int(w) for w in args.num_workers.split(",")]
    except ValueError:
        ap.error(f"--num-workers takes comma-separated integers, got {args.num_workers!r}")
    config = yaml.safe_load(Path(args.config).read_text())
    variants = [(cache, w) for w in workers for cache in (False, True)]
    name = {v: f"{'latents' if v[0] else 'media'}, {v[1]} workers" for v in variants}
    runs: dict[str, list] = {name[v]: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.quick:
            config = yaml.safe_load((ROOT / "seedkit/configs/joint_bounce.yaml").read_text())
            overrides = _tiny_overrides(tmp)
        else:
            overrides = {"model": {k: v for k, v in (("video_tokenizer", args.video_tokenizer),
                                                     ("audio_tokenizer", args.audio_tokenizer)) if v},
                         "data": {"cache_dir": args.cache_dir} if args.cache_dir else {}}
        for r in range(args.rounds):
            for cache, w in variants:
                steps, setup_s = _fit(config, cache=cache, latent_dir=str(tmp / "latents"), steps=args.steps,
                                      precision=args.precision, root=str(tmp),
                                      overrides={**overrides, "data": {**overrides["data"], "num_workers": w}})
                runs[name[cache, w]].append({"step_s": steps, "setup_s": setup_s})
                print(f"round {r + 1} {name[cache, w]}: median step "
                      f"{statistics.median(steps[args.warmup:]):.3f} s, setup {setup_s:.1f} s", flush=True)
    med = {k: statistics.median(s for run in runs[k] for s in run["step_s"][args.warmup:]) for k in runs}
    base = name[variants[0]]  # media with the first worker count (the config's, by default)
    first_latents = next(name[v] for v in variants if v[0])  # the run that encoded the cache
    encode_s = runs[first_latents][0]["setup_s"] - runs[base][0]["setup_s"]
    rows = [{"variant": k, "step_s": med[k], "x": med[base] / med[k],
             "first_setup_s": runs[k][0]["setup_s"],  # the first latents run encodes and stores them
             "later_setup_s": statistics.median(run["setup_s"] for run in runs[k][1:]) if args.rounds > 1 else None}
            for k in runs]
    best = min(runs, key=med.get)
    saved = med[base] - med[best]
    result = {
        "benchmark": "latent_cache", "config": args.config, "precision": args.precision, "steps": args.steps,
        "warmup": args.warmup, "rounds": args.rounds, "quick": args.quick, "machine": machine(),
        "batch_size": {**config["data"]["init_args"], **overrides.get("data", {})}["batch_size"],
        "rows": rows, "baseline": base, "fastest": best, "speedup": med[base] / med[best],
        "one_time_encode_s": encode_s,  # the encoding run's setup over the baseline's
        "break_even_steps": encode_s / saved if saved > 0 else None,
        "runs": runs,
    }
    print(table(rows, [("variant", "batches", ""), ("step_s", "median s/step", ".3f"),
                       ("x", f"x {base}", ".2f"), ("first_setup_s", "setup s, round 1", ".1f"),
                       ("later_setup_s", "setup s, later rounds", ".1f")]))
    print(f"fastest: {best}, {result['speedup']:.2f}x faster per step than {base}; encoding once took "
          f"{encode_s:.1f} s" + (f", paid back after {result['break_even_steps']:.0f} steps" if saved > 0 else ""))
    write_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
