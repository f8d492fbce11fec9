"""The demo's joint stage with other settings, scored like the demo (the variant rows of
docs/joint_bounce.md).

    .venv/bin/python benchmarks/demo_joint_variant.py --demo outputs/demo --out outputs/variants/lr2e-3 \\
        -- --model.lr=2e-3
    .venv/bin/python benchmarks/demo_joint_variant.py --demo outputs/demo --out outputs/variants/indep \\
        -- "--model.flow={p_bridge_off: 0.1, video_noise_corr: 0.9, timestep_mode: independent}"

Trains joint_bounce.yaml exactly as `seedkit demo` does (its `joint_options`: the steps, batch and
precision of DemoConfig or of the options here) on the tokenizers of a finished demo (`--demo`), with
the `seedkit fit` options after `--` added last, so they win (a `--model.flow` dict replaces the
config's whole dict: repeat its `p_bridge_off` and `video_noise_corr`). Validation generates no clips
(`--model.val_samples=0`), which leaves training as it is: the demo validates once, after the last
step. Then `evaluate_demo` scores the final checkpoint on the demo's 32 held-out clips and writes
`metrics.json` under `--out`; the printed line holds those tables' columns. Two variants side by side
on a 2-core machine: prefix each with `OMP_NUM_THREADS=1`. `--ckpt C` scores a checkpoint trained
elsewhere (a longer run) the same way, without training; `--sample-steps`, `--clock-ramp`, `--seed` and `--sampler`
(any SamplerConfig fields, as JSON) set the sampler for either.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from seedkit.demo import DemoConfig, _fit, evaluate_demo, joint_options


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo", help="a finished `seedkit demo` folder (its checkpoints/ tokenizers); not needed with --ckpt")
    p.add_argument("--out", required=True, help="folder of this variant (joint run, samples, metrics.json)")
    p.add_argument("--steps", type=int, default=DemoConfig.joint_steps, help="joint steps (default: the demo's)")
    p.add_argument("--batch-size", type=int, default=DemoConfig.joint_batch_size, help="default: the demo's")
    p.add_argument("--precision", default=DemoConfig.precision, help="default: the demo's (auto)")
    p.add_argument("--n-eval", type=int, default=DemoConfig.n_eval, help="clips scored per mode (default 32)")
    p.add_argument("--sample-steps", type=int, default=DemoConfig.sample_steps, help="default: the demo's")
    p.add_argument("--seed", type=int, default=DemoConfig.seed,
                   help="sampling seed (default: the demo's); other seeds give the spread of the scores")
    p.add_argument("--clock-ramp", type=float, default=None,
                   help="the sampler's clock ramp when scoring (default: the trained model's)")
    p.add_argument("--sampler", type=json.loads, default=None, metavar="JSON",
                   help='SamplerConfig fields replacing the model\'s own when scoring, e.g. \'{"guidance_t_min": 0.9}\'')
    p.add_argument("--ckpt", default=None,
                   help="score this joint checkpoint like the demo instead of training one (no fit options)")
    p.add_argument("fit_options", nargs="*", help="more `seedkit fit` options, after --")
    args = p.parse_args(argv)
    if args.ckpt and args.fit_options:
        p.error("--ckpt scores a trained checkpoint: it takes no `seedkit fit` options")
    if not args.ckpt and not args.demo:
        p.error("--demo is needed to train a variant (the tokenizers of a finished demo); or --ckpt to score one")

    tokenizers = Path(args.demo or ".") / "checkpoints"  # the checkpoint of --ckpt names its own tokenizers
    for kind in ("video", "audio"):
        if not args.ckpt and not (tokenizers / f"tokenizer_{kind}_bounce.pt").exists():
            raise SystemExit(f"--demo {args.demo}: no {tokenizers / f'tokenizer_{kind}_bounce.pt'} (run `seedkit demo` first)")
    out = Path(args.out)
    cfg = DemoConfig(out=str(out), joint_steps=args.steps, joint_batch_size=args.batch_size, precision=args.precision,
                     n_eval=args.n_eval, sample_steps=args.sample_steps, clock_ramp=args.clock_ramp,
                     seed=args.seed, sampler=args.sampler)
    t = time.time()
    if args.ckpt is None:
        _fit("joint_bounce.yaml", [*joint_options(cfg, tokenizers, out), "--model.val_samples=0", *args.fit_options])
    fit_s = time.time() - t
    t = time.time()
    m = evaluate_demo(Path(args.ckpt) if args.ckpt else out / "checkpoints" / "last.ckpt", out, cfg)
    m["times_s"] = {"fit": fit_s, "sample_and_score": time.time() - t}
    m["fit_options"] = args.fit_options
    (out / "metrics.json").write_text(json.dumps(m, indent=2))
    j = m["joint"]
    how = f"scored {args.ckpt}" if args.ckpt else f"fit {fit_s:.0f} s"
    print(f"{out.name}: {how}; joint F1 {j['event_f1']:.3f} (pooled {j['event_f1_pooled']:.3f}; "
          f"{j['n_impacts']} impacts, {j['n_impacts_mid_air']} in mid-air, {j['n_matched_events']} matched), "
          f"with the next clip's audio (chance) {m['joint_audio_of_next_clip']['event_f1']:.3f}, "
          f"sequential {m['sequential']['event_f1']:.3f}, "
          f"a2v vs given audio {m['a2v_vs_given_audio']['event_f1']:.3f}, "
          f"v2a vs given video {m['v2a_vs_given_video']['event_f1']:.3f}, "
          f"seams joint {m['video_seams']['joint']['ratio']:.2f}")
    return m


if __name__ == "__main__":
    main()
