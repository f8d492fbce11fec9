"""The `seedkit` command.

    seedkit fit --config seedkit/configs/NAME.yaml      train (LightningCLI: fit/validate/test)
    seedkit data preview bounce --n 8 --out DIR         mp4s with sound + a contact sheet
    seedkit demo                                        the whole pipeline on built-in data

User errors (a bad option, a missing file, a word outside the vocabulary) print one line naming
the problem and exit with code 2; a traceback means a bug in the kit.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test", "predict")


class UserError(Exception):
    """An error in what the user asked for; printed without a traceback, exit code 2."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    from .data.text import UnknownWordError
    from .media import MediaError

    return (UserError, MediaError, UnknownWordError, FileNotFoundError)


# ----------------------------------------------------------------------------------------------
# data


def cmd_data_preview(args) -> int:
    from . import media
    from .data import BounceConfig, BounceGenerator, ClipSpec
    from .viz import contact_sheet, use_headless_backend

    if args.dataset != "bounce":
        raise UserError(f"data preview: dataset {args.dataset!r} is not supported yet; use 'bounce'")
    if args.n < 1:
        raise UserError(f"--n must be at least 1, got {args.n}")
    use_headless_backend()
    spec = ClipSpec(fps=args.fps, num_frames=args.frames, size=args.size, sample_rate=args.sample_rate)
    gen = BounceGenerator(BounceConfig(spec=spec, seed=args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(args.n):
        scene = gen.scene(i)
        media.write(out / f"bounce_{i:03d}.mp4", scene.frames, scene.waveform, spec.fps, spec.sample_rate)
        clips.append({"frames": scene.frames, "waveform": scene.waveform, "caption": scene.caption,
                      "events": [(e.time_s, e.label) for e in scene.events]})
        meta = {"caption": scene.caption, "events": [vars(e) for e in scene.events]}
        (out / f"bounce_{i:03d}.json").write_text(json.dumps(meta, indent=1))
    fig = contact_sheet(clips[: min(args.n, 8)], spec.fps, spec.sample_rate,
                        title="bounce: frames over time, spectrogram with impact times (dashed)")
    fig.savefig(out / "contact_sheet.png", dpi=110)
    print(f"wrote {args.n} mp4 clips and contact_sheet.png to {out}")
    return 0


# ----------------------------------------------------------------------------------------------
# demo


def cmd_demo(args) -> int:
    out = Path(args.out)
    t0 = time.time()
    preview = argparse.Namespace(dataset="bounce", n=8, out=str(out / "preview"), fps=16.0,
                                 frames=32, size=32, sample_rate=16000, seed=0)
    cmd_data_preview(preview)
    print(f"demo finished in {time.time() - t0:.1f} s; outputs in {out}")
    return 0


# ----------------------------------------------------------------------------------------------
# training (LightningCLI)


def run_lightning(argv: list[str]) -> int:
    from .training_cli import run

    return run(argv)


# ----------------------------------------------------------------------------------------------


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
    pv.add_argument("dataset", choices=["bounce"], help="dataset to preview")
    pv.add_argument("--n", type=int, default=8, help="number of clips (default 8)")
    pv.add_argument("--out", required=True, help="output folder")
    pv.add_argument("--fps", type=float, default=16.0, help="frame rate (default 16)")
    pv.add_argument("--frames", type=int, default=32, help="frames per clip (default 32)")
    pv.add_argument("--size", type=int, default=32, help="frame size in pixels (default 32)")
    pv.add_argument("--sample-rate", type=int, default=16000, help="audio rate (default 16000)")
    pv.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    pv.set_defaults(func=cmd_data_preview)

    demo = sub.add_parser("demo", help="run the whole pipeline on the built-in bounce dataset")
    demo.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in LIGHTNING_SUBCOMMANDS:
            return run_lightning(argv)
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return 0
        return int(args.func(args) or 0)
    except _user_error_types() as e:
        print(f"seedkit: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
