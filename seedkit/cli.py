"""The `seedkit` command.

    seedkit fit --config seedkit/configs/NAME.yaml      train (LightningCLI: fit/validate/test)
    seedkit data preview bounce --n 8 --out DIR         mp4s with sound + a contact sheet (also grid)
    seedkit demo                                        the whole pipeline on built-in data
    seedkit evaluate --ckpt C --n 64 --out DIR           sync + quality metrics vs real controls
    seedkit notebooks make-exercises                    exercise copies in notebooks/exercises/
    seedkit ablate seedkit/configs/ablations/NAME.yaml  an ablation grid (arms x seeds) on W&B

User errors (a bad option, a missing file, a word outside the vocabulary) print one line naming
the problem and exit with code 2; a traceback means a bug in the kit.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path

# LightningCLI's subcommands the kit's models support (no `predict`: `seedkit sample` generates)
LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test")


class UserError(Exception):
    """An error in what the user asked for; printed without a traceback, exit code 2."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    from .data.text import UnknownWordError
    from .media import MediaError
    from .training_cli import ConfigError

    return (UserError, MediaError, UnknownWordError, FileNotFoundError, ConfigError)


# ----------------------------------------------------------------------------------------------
# data


def cmd_data_preview(args) -> int:
    from .data import BOUNCE_SPEC, GRID_SPEC
    from .data.preview import BOUNCE_TITLE, bounce_clips, grid_clips, write_preview
    from .viz import use_headless_backend

    use_headless_backend()
    if args.n < 1:
        raise UserError(f"--n must be at least 1, got {args.n}")
    given = {k: v for k, v in (("fps", args.fps), ("num_frames", args.frames), ("size", args.size),
                               ("sample_rate", args.sample_rate)) if v is not None}
    if args.dataset == "bounce":
        spec = dataclasses.replace(BOUNCE_SPEC, **given)
        clips = bounce_clips(args.n, spec, 0 if args.seed is None else args.seed)
        title = BOUNCE_TITLE
    else:
        for name in ("fps", "sample_rate", "seed"):
            if getattr(args, name) is not None:
                raise UserError(f"--{name.replace('_', '-')}: GRID clips keep the rates and the order they were "
                                "prepared with (25 fps, 16 kHz); only --frames and --size apply")
        spec = dataclasses.replace(GRID_SPEC, **given)
        try:
            clips = grid_clips(args.cache, args.n, args.split, spec)
        except (FileNotFoundError, ValueError) as e:
            raise UserError(f"data preview grid: {e}") from None
        title = f"GRID ({args.split}): frames over time, spectrogram with word starts (dashed)"
    sheet = write_preview(clips, spec, args.out, title)
    print(f"wrote {len(clips)} mp4 clips and {sheet.name} to {args.out}")
    return 0


# ----------------------------------------------------------------------------------------------
# sample


def _fit_length(x, n: int, what: str, unit: str, rate: float):
    """Cut or pad x to n samples (unit "s": waveform [C, N], zeros appended) or frames (unit "frames":
    video [T, ...], the last frame held), saying so (a2v/v2a inputs of any length are accepted)."""
    import torch

    have = x.shape[-1] if unit == "s" else x.shape[0]
    if have != n:
        print(f"note: {what} is {have / rate:.2f} s, the model's clip is {n / rate:.2f} s: "
              f"{'cut' if have > n else 'padded with silence' if unit == 's' else 'padded (its last frame held)'} "
              f"to {n / rate:.2f} s")
    if unit == "s":
        return torch.nn.functional.pad(x, (0, max(0, n - have)))[..., :n]
    pad = x[-1:].expand(max(0, n - have), *x.shape[1:])  # hold the last frame
    return torch.cat([x, pad])[:n]


GUIDANCE_OPTIONS = ("text_scale_video", "text_scale_audio", "modality_scale", "time_shift", "clock_ramp")


def add_guidance_options(parser: argparse.ArgumentParser) -> None:
    """--text-scale-video, --text-scale-audio, --modality-scale, --time-shift, --clock-ramp,
    --guidance-interval: override the checkpoint's sampler."""
    parser.add_argument("--text-scale-video", type=float, default=None,
                        help="text guidance scale for video (default: the checkpoint's sampler setting)")
    parser.add_argument("--text-scale-audio", type=float, default=None,
                        help="text guidance scale for audio (default: the checkpoint's sampler setting)")
    parser.add_argument("--modality-scale", type=float, default=None,
                        help="modality (bridge-off) guidance scale, 1 = off (default: the checkpoint's)")
    parser.add_argument("--time-shift", type=float, default=None,
                        help="timestep shift of the sampler, > 0; 1 = uniform steps, larger spends more "
                             "steps near the noise end (default: the checkpoint's)")
    parser.add_argument("--clock-ramp", type=float, default=None,
                        help="w >= 0: draw the clip from its start onwards, noise rising along its clock "
                             "(for a model trained with FlowConfig.clock_ramp); 0 = one noise level for "
                             "every frame (default: the checkpoint's)")
    parser.add_argument("--guidance-interval", type=float, nargs=2, default=None, metavar=("T_MIN", "T_MAX"),
                        help="noise levels where text and modality guidance act, 0 <= T_MIN <= T_MAX <= 1; "
                             "outside, the conditional velocity alone (default: the checkpoint's)")


def guidance_overrides(args) -> dict[str, float]:
    """The sampler options given on the command line, as SamplerConfig fields (--time-shift: shift)."""
    given = {k: getattr(args, k) for k in GUIDANCE_OPTIONS if getattr(args, k, None) is not None}
    for k, v in given.items():
        if v < 0 or (k == "time_shift" and v == 0):
            bound = "> 0" if k == "time_shift" else ">= 0"
            raise UserError(f"--{k.replace('_', '-')} must be {bound}, got {v}")
    if "time_shift" in given:
        given["shift"] = given.pop("time_shift")
    interval = getattr(args, "guidance_interval", None)
    if interval is not None:
        lo, hi = interval
        if not 0.0 <= lo <= hi <= 1.0:
            raise UserError(f"--guidance-interval {lo} {hi}: expected 0 <= T_MIN <= T_MAX <= 1")
        given.update(guidance_t_min=lo, guidance_t_max=hi)
    return given


def _read_audio_clip(path: str, spec):
    """Any audio (or video with sound) file -> waveform [1, N] of the model's clip: resampled to its
    rate, mono, cut or padded to its length (with a message)."""
    import torch

    from . import media

    clip = media.read_audio(path, sample_rate=spec.sample_rate, mono=True)
    given = media.probe(path).get("audio") or {}
    if given.get("sample_rate") != spec.sample_rate or given.get("channels") != 1:
        print(f"note: {path} is {given.get('sample_rate')} Hz, {given.get('channels')} channel(s); "
              f"resampled to {spec.sample_rate} Hz mono")
    return _fit_length(torch.from_numpy(clip.waveform), spec.num_samples, path, "s", spec.sample_rate)


def _read_video_clip(path: str, spec):
    """Any video file -> video [T, 3, H, W] in [-1, 1] of the model's clip: the whole frame scaled to its
    size (bounce's walls are the frame's edges: a crop would lose impacts), resampled to its frame rate,
    cut or padded to its length (each with a message)."""
    import torch

    from . import media
    from .data.clip import frames_to_video

    clip = media.read(path, audio=False, require_audio=False, size=(spec.size, spec.size))
    given = media.probe(path)["video"]
    if (given["width"], given["height"]) != (spec.size, spec.size):
        kept = "aspect not kept" if given["width"] != given["height"] else "aspect kept"
        print(f"note: {path} is {given['width']}x{given['height']}; scaled to {spec.size}x{spec.size}, "
              f"the whole frame ({kept})")
    if abs(clip.fps - spec.fps) > 0.01:
        idx = torch.arange(0, clip.num_frames, clip.fps / spec.fps).long()
        print(f"note: {path} is {clip.fps:g} fps; resampled to {spec.fps:g} fps")
        clip.frames = clip.frames[idx.numpy()]
    frames = _fit_length(torch.from_numpy(clip.frames), spec.num_frames, path, "frames", spec.fps)
    return frames_to_video(frames)


# the inputs each sampling mode leaves unread (unconditional samples with the null caption)
SAMPLE_MODE_IGNORES = {"joint": ("audio", "video"), "a2v": ("video",), "v2a": ("audio",),
                       "unconditional": ("text", "audio", "video")}


def cmd_sample(args) -> int:
    import torch

    from . import media
    from .data.clip import video_to_frames
    from .lit import load_joint
    from .sampling import SamplerConfig

    if args.n < 1:
        raise UserError(f"--n must be at least 1, got {args.n}")
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.rerank < 1:
        raise UserError(f"--rerank must be at least 1 (1: no reranking), got {args.rerank}")
    if args.rerank > 1 and not args.critic:
        raise UserError(f"--rerank {args.rerank} keeps the best of {args.rerank} candidates by a sync critic: "
                        "pass --critic S, a SyncNet-lite checkpoint (seedkit fit --config "
                        "seedkit/configs/syncnet_bounce.yaml)")
    if args.realism and args.rerank < 2:
        raise UserError("--realism R weighs a realism critic into --rerank N's choice: pass --rerank N with N >= 2")
    if args.realism_weight < 0:
        raise UserError(f"--realism-weight must be >= 0, got {args.realism_weight}")
    ignored = [f"--{name}" for name in SAMPLE_MODE_IGNORES[args.mode] if getattr(args, name)]
    if ignored:  # said before the model loads, not left out without a word
        raise UserError(f"--mode {args.mode} does not read {' or '.join(ignored)}: joint reads --text; a2v --audio "
                        "(and --text); v2a --video (and --text); unconditional none of them")
    try:
        jm = load_joint(args.ckpt, video_decoder=args.video_decoder)
    except ValueError as e:
        raise UserError(str(e)) from e
    spec = jm.spec
    text_ids = text_mask = video = audio = None
    if args.mode == "joint":
        if not args.text or not args.text.strip():
            raise UserError("--text is empty; joint sampling needs a caption, e.g. --text "
                            f"'{' '.join(jm.vocab.words[2:4])}' (words: {' '.join(jm.vocab.words[2:])})")
    if args.text:
        text_ids, text_mask = jm.vocab.batch([args.text], strict=True)
    if args.mode == "a2v":
        if not args.audio:
            raise UserError("--mode a2v needs --audio FILE (any audio or video file with sound)")
        audio = _read_audio_clip(args.audio, spec)[None]
    if args.mode == "v2a":
        if not args.video:
            raise UserError("--mode v2a needs --video FILE (any video file)")
        video = _read_video_clip(args.video, spec)[None]
    init = {}
    if args.start_t is not None and not 0 < args.start_t <= 1:
        raise UserError(f"--start-t must lie in (0, 1] (1: from pure noise), got {args.start_t}")
    partial = args.start_t is not None and args.start_t < 1
    if partial != (args.init is not None):
        raise UserError("--init CLIP and --start-t T < 1 go together: the clip noised to T is where sampling starts")
    if args.init:
        if args.mode != "v2a":  # the streams this mode generates start from the clip's
            init["init_video"] = _read_video_clip(args.init, spec)[None]
        if args.mode != "a2v":
            init["init_audio"] = _read_audio_clip(args.init, spec)[None]
    cfg = SamplerConfig(**{**vars(jm.sampler_config), **guidance_overrides(args), "steps": args.steps,
                           "seed": args.seed, "start_t": args.start_t or 1.0})
    critic = realism = None
    if args.rerank > 1:
        from .metrics.realism import load_realism
        from .metrics.syncnet import load_syncnet
        from .rerank import best_of_n

        try:
            critic = load_syncnet(args.critic)
            realism = load_realism(args.realism) if args.realism else None
        except (FileNotFoundError, ValueError) as e:
            raise UserError(str(e)) from e
    one = {"text_ids": text_ids, "text_mask": text_mask, "video": video, "audio": audio, **init}  # [1, ...] each
    frames, out_a, chosen = [], [], []  # frames uint8 [T, H, W, 3] per clip: 4x smaller than the float video
    for i in range(0, args.n, args.batch_size):  # one batch at a time: memory grows with the batch, not --n
        b = min(args.batch_size, args.n - i)
        # every input is one clip, repeated over the batch; the batch that starts at clip i draws its noise
        # from seed + i (as `seedkit evaluate` does), so the first batch is what one call makes
        kwargs = {k: None if x is None else x.expand(b, *x.shape[1:]) for k, x in one.items()}
        chunk_cfg = dataclasses.replace(cfg, seed=args.seed + i)
        if critic is not None:
            try:
                best = best_of_n(jm, critic, args.rerank, args.mode, chunk_cfg, realism=realism,
                                 realism_weight=args.realism_weight, n=b, **kwargs)
            except ValueError as e:
                raise UserError(str(e)) from e
            v, a = best.video, best.audio
            chosen += best.chosen.tolist()
        else:
            v, a = jm.generate(args.mode, n=b, config=chunk_cfg, **kwargs)
        frames += [video_to_frames(x).numpy() for x in v]
        out_a.append(a)
    out_a = torch.cat(out_a)
    kept = ""
    if critic is not None:
        judges = args.critic + (f" and {args.realism} (weight {args.realism_weight:g})" if realism else "")
        kept = f", each the best of {args.rerank} by {judges} (candidates kept: {chosen})"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(args.n):
        media.write(out / f"{args.mode}_{i:03d}.mp4", frames[i], out_a[i].numpy(), spec.fps, spec.sample_rate)
    given = {"joint": args.text, "a2v": args.audio, "v2a": args.video}.get(args.mode) or "no condition"
    _sample_sheet(out, frames, out_a, [f"{args.mode} {i}: {given}" for i in range(args.n)], spec,
                  bounce=jm.data_settings.get("dataset", "bounce") == "bounce")
    start = f", from {args.init} noised to t {args.start_t:g}" if args.init else ""
    print(f"wrote {args.n} {args.mode} clips and contact_sheet.png to {out}{start}{kept}")
    return 0


def _sample_sheet(out: Path, frames: list, audio, captions: list[str], spec, bounce: bool) -> None:
    """contact_sheet.png of the first 8 samples (frames uint8 [T, H, W, 3], audio [1, N], a caption
    each): frames over the spectrogram; on bounce the impacts the detector
    sees in each generated video are dashed on its spectrogram, so sync can be read off the picture
    (a sound under every dashed line)."""
    from .metrics.events import detect_video_impact_events
    from .viz import save_contact_sheet, use_headless_backend

    use_headless_backend()  # a command: never a window
    clips = [{"frames": f, "waveform": a.numpy(), "caption": c,
              "events": [(e.time_s, "") for e in detect_video_impact_events(f, spec.fps)] if bounce else []}
             for f, a, c in zip(frames[:8], audio[:8], captions)]
    title = "samples: frames over time, spectrogram" + ("; dashed: impacts seen in the video" if bounce else "")
    save_contact_sheet(clips, spec.fps, spec.sample_rate, out / "contact_sheet.png", title=title)


def cmd_data_download(args) -> int:
    from .data.grid_download import DownloadError, download_grid

    try:
        out = download_grid(args.to, speakers=args.speakers, base_url=args.base_url)
    except (ValueError, DownloadError) as e:
        raise UserError(str(e)) from e
    print(f"GRID ready in {out}; next: seedkit data prepare grid --source {out}")
    return 0


def cmd_data_prepare(args) -> int:
    from .data.grid import PrepareConfig, prepare_grid

    try:
        cfg = PrepareConfig(size=args.size, workers=args.workers, limit=args.limit)
        summary = prepare_grid(args.source, args.cache, cfg)
    except ValueError as e:
        raise UserError(str(e)) from e
    for key, reason in list(summary.reasons.items())[:10]:
        print(f"skipped {key}: {reason}")
    if len(summary.reasons) > 10:
        print(f"... and {len(summary.reasons) - 10} more skipped (status and reason of each in the manifest)")
    print(f"{summary}; manifest {Path(args.cache) / 'manifest.jsonl'}")
    return 0


# ----------------------------------------------------------------------------------------------
# model


def cmd_model_summary(args) -> int:
    from .model import DualTowerConfig, DualTowerDiT

    try:
        config = DualTowerConfig.from_yaml(args.config)
        model = DualTowerDiT(config)
    except ValueError as e:
        raise UserError(str(e)) from e
    print(f"model config {args.config}")
    print(model.describe())
    return 0


# ----------------------------------------------------------------------------------------------
# notebooks


def cmd_notebooks_make_exercises(args) -> int:
    from .notebooks_tool import ExerciseError, sync_exercises

    try:
        report = sync_exercises(args.dir, check=args.check)
    except ExerciseError as e:
        raise UserError(str(e)) from e
    for path in report.changed:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    for path in report.stale:
        print(f"{'stale (no exercises in its solution)' if args.check else 'removed'}: {path}")
    print(f"{len(report.changed)} exercise notebooks {'out of date' if args.check else 'written'}, "
          f"{len(report.unchanged)} up to date")
    if args.check and not report.up_to_date:
        print("run `seedkit notebooks make-exercises` to regenerate", file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------------------------
# demo


# `seedkit demo` options that set DemoConfig fields (default: the field's, or --tiny's)
DEMO_OPTIONS: dict[str, tuple[type, str]] = {
    "video_tokenizer_steps": (int, "video tokenizer training steps (default 1600)"),
    "audio_tokenizer_steps": (int, "audio tokenizer training steps (default 400)"),
    "joint_steps": (int, "joint model training steps (default 300; a finished shorter run is resumed)"),
    "joint_batch_size": (int, "clips per joint step (default 24; on a GPU try 64)"),
    "precision": (str, "Lightning precision of the joint model: auto (default: bf16-mixed on a GPU or a CPU "
                       "with AMX, else 32-bit), 32-true, bf16-mixed or 16-mixed"),
    "num_workers": (int, "DataLoader workers of the joint stage (default 0)"),
    "n_eval": (int, "clips generated and scored per mode (default 32)"),
    "sample_steps": (int, "sampler steps per clip (default 25)"),
    "modality_scale": (float, "modality guidance scale when sampling (default 1: off)"),
    "clock_ramp": (float, "clock ramp w of the sampler (default: the joint model's; 0: one noise level per clip)"),
    "seed": (int, "sampling seed (default 0)"),
}


def demo_config(args):
    """The DemoConfig of `seedkit demo` options: the defaults (or --tiny's), then each option given."""
    from .demo import DemoConfig

    cfg = DemoConfig(out=args.out)
    if args.tiny:  # a smoke run of every stage (tests): seconds, not minutes; no quality expected
        cfg = DemoConfig.tiny(args.out)
    given = {name: getattr(args, name) for name in DEMO_OPTIONS if getattr(args, name) is not None}
    try:  # DemoConfig checks every option before minutes of training
        return dataclasses.replace(cfg, **given, wandb=args.wandb)
    except ValueError as e:  # named as the option given: "DemoConfig(joint_steps=0)" -> "--joint-steps 0"
        raise UserError(re.sub(r"DemoConfig[.(](\w+)=([^):\s]*)\)?",
                               lambda m: f"--{m.group(1).replace('_', '-')} {m.group(2)}", str(e))) from None


def cmd_demo(args) -> int:
    from .demo import run_demo

    cfg = demo_config(args)
    t0 = time.time()
    run_demo(cfg)
    print(f"demo finished in {time.time() - t0:.0f} s; outputs in {args.out}")
    return 0


# ----------------------------------------------------------------------------------------------
# evaluate


def cmd_evaluate(args) -> int:
    from .evaluate import EvalConfig, format_table, run_evaluation

    cfg = EvalConfig(out=args.out, ckpt=args.ckpt, clips=args.clips, dataset=args.dataset, n=args.n,
                     steps=args.steps, seed=args.seed, shift_s=args.shift_s, bootstrap=args.bootstrap,
                     syncnet=args.syncnet, cache_dir=args.cache, video_tokenizer=args.video_tokenizer,
                     audio_tokenizer=args.audio_tokenizer, video_decoder=args.video_decoder,
                     guidance=guidance_overrides(args), mode=args.mode)
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if args.bootstrap < 0:
        raise UserError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    result = run_evaluation(cfg)
    print(format_table(result))
    for note in result["notes"]:
        print(f"note: {note}")
    print(f"wrote metrics.json, per_clip.jsonl and metrics.png to {args.out}")
    return 0


# ----------------------------------------------------------------------------------------------
# ablate


def cmd_ablate(args) -> int:
    from .experiments import Ablation, AblationRunner, Budget

    if args.seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {args.seeds}")
    if args.threads is not None:
        if args.threads < 1:
            raise UserError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    try:
        ablation = Ablation.from_yaml(args.config)
        budget = Budget.parse(ablation.budget, args.budget)
        seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
        runner = AblationRunner(ablation, Path(args.out), budget, seeds, tokenizers=args.tokenizers)
        summary = runner.run(args.arm)
    except ValueError as e:
        raise UserError(str(e)) from e
    from .experiments import markdown_table

    print(markdown_table(summary))
    print(f"wrote summary.md/.csv/.json to {runner.folder}; W&B runs in {Path(args.out) / 'wandb'}")
    return 0


# ----------------------------------------------------------------------------------------------
# training (LightningCLI)


def run_lightning(argv: list[str]) -> int:
    from .training_cli import run

    return run(argv)


# ----------------------------------------------------------------------------------------------


def seed_number(text: str) -> int:
    """argparse type of every --seed: an integer >= 0 (numpy's generators refuse negative seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seedkit", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Training: seedkit {fit,validate,test} --config FILE "
                                       "(see `seedkit fit --help`).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in LIGHTNING_SUBCOMMANDS:
        sub.add_parser(name, help=f"{name} a model with LightningCLI (--config FILE)", add_help=False)

    data = sub.add_parser("data", help="dataset tools: preview, download, prepare")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    pv = dsub.add_parser("preview", help="write mp4s with sound and a contact-sheet PNG")
    pv.add_argument("dataset", choices=["bounce", "grid"], help="dataset to preview (grid: from a prepared cache)")
    pv.add_argument("--n", type=int, default=8, help="number of clips (default 8)")
    pv.add_argument("--out", required=True, help="output folder")
    pv.add_argument("--fps", type=float, default=None, help="bounce: frame rate (default 16)")
    pv.add_argument("--frames", type=int, default=None, help="frames per clip (default 32 bounce, 72 grid)")
    pv.add_argument("--size", type=int, default=None, help="frame size in pixels (default 32 bounce, 64 grid)")
    pv.add_argument("--sample-rate", type=int, default=None, help="bounce: audio rate (default 16000)")
    pv.add_argument("--seed", type=seed_number, default=None, help="bounce: dataset seed (default 0)")
    pv.add_argument("--cache", default="data/cache/grid", help="grid: prepared cache (default data/cache/grid)")
    pv.add_argument("--split", choices=("all", "train", "val", "test", "unseen"), default="all",  # data.preview.GRID_SPLITS
                    help="grid: which clips (default all, in key order)")
    pv.set_defaults(func=cmd_data_preview)
    dl = dsub.add_parser("download", help="download a dataset (GRID from Zenodo), resumable")
    dl.add_argument("dataset", choices=["grid"], help="dataset to download")
    dl.add_argument("--speakers", nargs="+", default=["s1"], help="GRID speakers (default s1)")
    dl.add_argument("--to", required=True, help="destination folder (becomes the --source of prepare)")
    dl.add_argument("--base-url", default=None, help="mirror serving <name>?download=1 (default Zenodo)")
    dl.set_defaults(func=cmd_data_download)
    pr = dsub.add_parser("prepare", help="decode, crop and cache a dataset for training")
    pr.add_argument("dataset", choices=["grid"], help="dataset to prepare")
    pr.add_argument("--source", required=True, help="GRID folder (s1/, alignments/s1/, loose clips)")
    pr.add_argument("--size", type=int, default=64, help="crop side in pixels (default 64)")
    pr.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    pr.add_argument("--limit", type=int, default=None, help="prepare at most K new clips")
    pr.add_argument("--cache", default="data/cache/grid", help="cache folder (default data/cache/grid)")
    pr.set_defaults(func=cmd_data_prepare)

    sp = sub.add_parser("sample", help="generate clips from a trained JointAV checkpoint")
    sp.add_argument("--ckpt", required=True, help="JointAV checkpoint (.ckpt)")
    sp.add_argument("--mode", choices=["joint", "a2v", "v2a", "unconditional"], default="joint",
                    help="joint: text -> video+audio; a2v: --audio given; v2a: --video given")
    sp.add_argument("--text", default=None, help="caption, e.g. 'red ball' (joint mode)")
    sp.add_argument("--audio", default=None, help="audio file for a2v (resampled, cut/padded)")
    sp.add_argument("--video", default=None, help="video file for v2a (resized, cut/padded)")
    sp.add_argument("--init", default=None, help="clip with sound to start from, noised to --start-t (SDEdit)")
    sp.add_argument("--start-t", type=float, default=None,
                    help="noise level in (0, 1] the --init clip is noised to: lower keeps more of it (1: pure noise)")
    sp.add_argument("--n", type=int, default=4, help="clips to generate (default 4)")
    sp.add_argument("--batch-size", type=int, default=16, help="clips generated at a time: memory grows with it "
                    "(GRID, --n 64: 1.4 GB at 16, 1.8 GB at 64); batch k draws its noise from --seed + its first clip (default 16)")
    sp.add_argument("--steps", type=int, default=25, help="sampler steps (default 25)")
    sp.add_argument("--seed", type=seed_number, default=0, help="sampling seed (default 0)")
    sp.add_argument("--out", required=True, help="output folder")
    sp.add_argument("--video-decoder", default=None, help="video tokenizer .pt with the model's encoder and a "
                    "decoder trained on (--model.decoder_of): decodes the videos")
    sp.add_argument("--rerank", type=int, default=1, metavar="N", help="sample N candidates of every clip and keep "
                    "the one --critic rates best in sync (default 1: no reranking)")
    sp.add_argument("--critic", default=None, help="SyncNet-lite checkpoint that judges the candidates "
                    "(seedkit/configs/syncnet_bounce.yaml)")
    sp.add_argument("--realism", default=None, metavar="R", help="realism critic checkpoint weighed in beside "
                    "--critic (seedkit/configs/realism_bounce.yaml): keeps candidates that look like real clips")
    sp.add_argument("--realism-weight", type=float, default=1.0, metavar="W", help="weight of the realism "
                    "critic's standardised score against the sync critic's (default 1)")
    add_guidance_options(sp)
    sp.set_defaults(func=cmd_sample)

    ev = sub.add_parser("evaluate", help="sync + quality metrics: generated vs real, shifted, shuffled")
    ev.add_argument("--ckpt", default=None, help="JointAV checkpoint: generate the clips with it")
    ev.add_argument("--clips", default=None, help="or: a folder of mp4s to evaluate (no generation)")
    ev.add_argument("--dataset", choices=["bounce", "grid"], default=None,
                    help="real clips to compare with (default: the checkpoint's; bounce with --clips)")
    ev.add_argument("--mode", choices=["joint", "a2v", "v2a"], default="joint",
                    help="joint: text -> video+audio; a2v: video for each real clip's audio; "
                         "v2a: audio for each real clip's video (default joint)")
    ev.add_argument("--n", type=int, default=64, help="clips per arm (default 64)")
    ev.add_argument("--steps", type=int, default=25, help="sampler steps (default 25)")
    ev.add_argument("--seed", type=seed_number, default=0, help="sampling and bootstrap seed (default 0)")
    ev.add_argument("--shift-s", type=float, default=0.2, help="audio shift of the controls (default 0.2)")
    ev.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    ev.add_argument("--syncnet", default=None, help="SyncNet-lite checkpoint of the clips' dataset (GRID default: "
                    "checkpoints/syncnet_grid.pt; bounce: none unless given)")
    ev.add_argument("--cache", default=None, help="GRID cache folder (default data/cache/grid)")
    ev.add_argument("--video-tokenizer", default=None, help="video tokenizer .pt for FD-kitvideo (with --clips)")
    ev.add_argument("--audio-tokenizer", default=None, help="audio tokenizer .pt for FD-kitaudio (with --clips)")
    ev.add_argument("--video-decoder", default=None, help="with --ckpt: video tokenizer .pt with the model's "
                    "encoder and a decoder trained on (--model.decoder_of): decodes the videos")
    ev.add_argument("--out", required=True, help="output folder")
    add_guidance_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    model = sub.add_parser("model", help="model tools: summary")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    ms = msub.add_parser("summary", help="parameters per tower and bridge, token rate of each stream")
    ms.add_argument("--config", required=True, help="model YAML (configs/model_*.yaml) or a joint config")
    ms.set_defaults(func=cmd_model_summary)

    nbs = sub.add_parser("notebooks", help="classroom tools: exercise copies of the notebooks")
    nsub = nbs.add_subparsers(dest="notebooks_command", metavar="ACTION", required=True)
    mx = nsub.add_parser("make-exercises", help="write notebooks/exercises/ from the solution notebooks")
    mx.add_argument("--dir", default="notebooks", help="solution notebooks folder (default notebooks)")
    mx.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a copy is out of date (CI, pre-commit)")
    mx.set_defaults(func=cmd_notebooks_make_exercises)

    ab = sub.add_parser("ablate", help="run an ablation grid (arms x seeds) as W&B runs, then a summary table")
    ab.add_argument("config", help="ablation YAML, e.g. seedkit/configs/ablations/cogeneration.yaml")
    ab.add_argument("--seeds", type=int, default=3, help="training seeds 0..N-1 per arm (default 3)")
    ab.add_argument("--seed", type=seed_number, default=None, help="run only this seed (a W&B sweep cell)")
    ab.add_argument("--arm", action="append", default=None, help="run only this arm (repeatable)")
    ab.add_argument("--budget", nargs="+", default=None, metavar="KEY=VALUE",
                    help="'tiny' and/or overrides of the YAML's budget, e.g. joint_steps=200 n_eval=16")
    ab.add_argument("--out", default="outputs/ablations", help="root folder (default outputs/ablations)")
    ab.add_argument("--tokenizers", default=None, help="folder with trained tokenizer_{video,audio}_bounce.pt")
    ab.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ab.set_defaults(func=cmd_ablate)

    demo = sub.add_parser("demo", help="run the whole pipeline on the built-in bounce dataset")
    demo.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")
    demo.add_argument("--tiny", action="store_true", help="a few steps per stage (smoke test)")
    for name, (kind, what) in DEMO_OPTIONS.items():  # the budget of each stage (DemoConfig)
        demo.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None, help=what)
    demo.add_argument("--wandb", action="store_true",
                      help="log every stage, the scores and the samples to W&B, as runs of one group (offline "
                           "without an account: wandb sync OUT/wandb/offline-run-*)")
    demo.set_defaults(func=cmd_demo)
    return p


def check_out_folder(out: str | None) -> None:
    """--out names a folder (made where missing): a file there, or above it, is a mistake said at once,
    not after the work that would write into it."""
    if out is None:
        return
    from .paths import file_in_the_way

    blocking = Path(out) if Path(out).exists() and not Path(out).is_dir() else file_in_the_way(out)
    if blocking is not None:
        raise UserError(f"--out {out}: {blocking} is a file; expected a folder (made if missing)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in LIGHTNING_SUBCOMMANDS:
            return run_lightning(argv)
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return 0
        check_out_folder(getattr(args, "out", None))
        return int(args.func(args) or 0)
    except _user_error_types() as e:
        print(f"seedkit: error: {e}", file=sys.stderr)
        return 2
    except FloatingPointError as e:  # NaN/inf loss (seedkit.callbacks.FiniteLossGuard): not a bug
        print(f"seedkit: training stopped: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # `python -m seedkit.cli` runs this file as __main__: hand over to the package's own module, whose
    # UserError is the class the other modules raise (this file's copy would not catch theirs).
    from seedkit.cli import main as package_main

    sys.exit(package_main())
