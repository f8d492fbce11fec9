"""Joint sampling speed: clips/s of text -> video + audio, and where the time goes.

    .venv/bin/python benchmarks/bench_sample.py             # bounce + grid, batch 1 and 4, 25 Euler steps
    .venv/bin/python benchmarks/bench_sample.py --quick     # a tiny smoke run (tests)

A clip is made in three stages, timed separately:

    model    seedkit.sampling.sample: Euler, 25 steps, mode joint (dual-tower DiT, eval, no grad)
    decode   video autoencoder decoder -> frames; audio autoencoder decoder -> log-mel
    vocoder  log-mel -> waveform: InverseMelScale + Griffin-Lim (seedkit.tokenizers.audio; CPU always)

Without guidance one forward per step; with text guidance (scale 3 for both modalities) the
conditional and text-dropped passes run as ONE forward on a batch of 2B (seedkit.sampling batches
them), so guidance should cost less than 2x; modality guidance (`--modality-scale`) adds a third,
separate bridge-off pass. The tokenizers are the architectures of the tokenizer configs with
random weights: the time does not depend on the weights.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (  # noqa: E402 (the benchmarks folder is not a package)
    RESULTS_DIR,
    MatmulPeak,
    machine,
    pick_device,
    table,
    timed_wall_cpu,
    write_json,
)

from seedkit.model import DualTowerConfig, DualTowerDiT  # noqa: E402
from seedkit.sampling import SamplerConfig, sample  # noqa: E402
from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig  # noqa: E402
from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "seedkit" / "configs"
PRESETS = ("bounce", "grid")


def load_tokenizers(name: str, device: torch.device) -> tuple[VideoAutoencoder, AudioAutoencoder, str]:
    """The architectures of configs/tokenizer_{video,audio}_<name>.yaml, random weights (the time
    does not depend on the weights, and no trained checkpoint is needed)."""
    toks = []
    for kind, cls, config in (("video", VideoAutoencoder, VideoAutoencoderConfig),
                              ("audio", AudioAutoencoder, AudioAutoencoderConfig)):
        args = (yaml.safe_load((CONFIGS / f"tokenizer_{kind}_{name}.yaml").read_text())["model"]["init_args"])
        keys = {f.name for f in dataclasses.fields(config)}
        toks.append(cls(**{k: v for k, v in args.items() if k in keys}))
    source = f"configs/tokenizer_{{video,audio}}_{name}.yaml, random weights"
    return toks[0].to(device).eval(), toks[1].to(device).eval(), source


def model_for(name: str, video_tok: VideoAutoencoder, audio_tok: AudioAutoencoder, quick: bool,
              device: torch.device) -> DualTowerDiT:
    cfg = DualTowerConfig.from_yaml(CONFIGS / f"model_{name}.yaml")
    cfg = dataclasses.replace(cfg, video_channels=video_tok.config.latent_channels,
                              audio_channels=audio_tok.config.latent_channels)
    if quick:
        cfg = dataclasses.replace(cfg, video_dim=32, video_heads=2, video_depth=1, audio_dim=16,
                                  audio_heads=2, audio_depth=1, text_dim=16, mlp_ratio=2.0)
    torch.manual_seed(0)
    return DualTowerDiT(cfg).to(device).eval()


def run_case(model: DualTowerDiT, video_tok, audio_tok, batch: int, sampler: SamplerConfig,
             device: torch.device, rounds: int, autocast: bool) -> dict:
    cfg = model.config
    ids = torch.randint(0, cfg.vocab_size, (batch, min(6, cfg.max_text_len)), device=device)
    mask = torch.ones_like(ids, dtype=torch.bool)
    shapes = {"video": (batch, cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width),
              "audio": (batch, cfg.audio_length, cfg.audio_channels)}
    state = {}
    calls = {"n": 0}
    forward = model.forward

    def counting_forward(*args, **kwargs):  # how many model forwards one clip batch costs
        calls["n"] += 1
        return forward(*args, **kwargs)

    def gen():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            state["res"] = sample(model, "joint", ids, mask, shapes, config=sampler)

    def decode():
        with torch.no_grad():
            state["frames"] = video_tok.decode(state["res"].video.float())
            state["mel"] = audio_tok.decode(state["res"].audio.float())

    def vocoder():
        state["wave"] = audio_tok.mel_to_waveform(state["mel"])

    model.forward = counting_forward
    try:
        gen()
        forwards = calls["n"]
    finally:
        model.forward = forward
    decode()
    vocoder()  # warm-up of all three stages (and the Griffin-Lim cache)
    times = {"model": [], "decode": [], "vocoder": []}
    cpu = {"model": [], "decode": [], "vocoder": []}
    for _ in range(rounds):
        for name, fn in (("model", gen), ("decode", decode), ("vocoder", vocoder)):
            wall, cpu_s = timed_wall_cpu(fn, device)
            times[name].append(wall)
            cpu[name].append(cpu_s)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    total = sum(med.values())
    return {"batch": batch, "steps": sampler.steps, "guidance": sampler.text_scale_video != 1.0
            or sampler.modality_scale != 1.0, "model_forwards": forwards,
            "forward_batch": batch * (2 if sampler.text_scale_video != 1.0 else 1),
            "model_s": med["model"], "decode_s": med["decode"], "vocoder_s": med["vocoder"],
            "total_s": total, "clips_per_s": batch / total, "clips_per_s_model_only": batch / med["model"],
            "share_model": med["model"] / total, "share_decode": med["decode"] / total,
            "share_vocoder": med["vocoder"] / total,
            "cpu_s": med_cpu, "clips_per_cpu_s": batch / max(sum(med_cpu.values()), 1e-9),
            "frames_shape": list(state["frames"].shape), "waveform_shape": list(state["wave"].shape)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="bounce,grid", help="comma list of presets: bounce, grid")
    ap.add_argument("--batches", default="1,4", help="comma list of batch sizes")
    ap.add_argument("--steps", type=int, default=25, help="Euler steps")
    ap.add_argument("--text-scale", type=float, default=3.0, help="text CFG scale of the guided runs")
    ap.add_argument("--modality-scale", type=float, default=1.0, help="modality guidance scale (1: off)")
    ap.add_argument("--rounds", type=int, default=1, help="timed repetitions after one warm-up (median reported)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--quick", action="store_true",
                    help="tiny model, batch 1, 2 steps, 2 Griffin-Lim iterations, 1 round: a smoke test")
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/sample_<device>.json)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    if args.quick:
        args.steps, args.rounds, args.batches = 2, 1, "1"
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    bad = [n for n in names if n not in PRESETS]
    if bad:
        raise SystemExit(f"--models: unknown preset(s) {bad}; expected some of {list(PRESETS)}")
    batches = [int(b) for b in args.batches.split(",")]
    before = machine()
    peak = MatmulPeak(device, n=256 if args.quick else None)
    rows = []
    for name in names:
        video_tok, audio_tok, source = load_tokenizers(name, device)
        if args.quick:  # the smoke test checks the plumbing, not the vocoder's 32 iterations
            audio_tok.config.griffin_lim_iters = 2
        model = model_for(name, video_tok, audio_tok, args.quick, device)
        for batch in batches:
            for guided in (False, True):
                sampler = SamplerConfig(steps=args.steps, text_scale_video=args.text_scale if guided else 1.0,
                                        text_scale_audio=args.text_scale if guided else 1.0,
                                        modality_scale=args.modality_scale if guided else 1.0)
                print(f"{name}: batch {batch}, guided {guided}", flush=True)
                row = run_case(model, video_tok, audio_tok, batch, sampler, device, args.rounds,
                               autocast=device.type == "cuda")
                rows.append({"model": name, "tokenizers": source, **row, "peak_gflops": peak.sample() / 1e9})
    for r in rows:  # guidance cost at the same model and batch, same run
        base = next(x for x in rows if x["model"] == r["model"] and x["batch"] == r["batch"] and not x["guidance"])
        r["guidance_cost_x"] = r["model_s"] / base["model_s"]
        r["guidance_cost_x_cpu_time"] = r["cpu_s"]["model"] / base["cpu_s"]["model"]
    result = {"benchmark": "sample", "device": str(device), "peak": peak.label, "quick": args.quick,
              "guided_text_scale": args.text_scale, "guided_modality_scale": args.modality_scale,
              "machine_before": before, "machine_after": machine(), "rows": rows}
    print(render(result))
    out = args.out or RESULTS_DIR / f"sample_{device.type}.json"
    print(f"wrote {write_json(result, out)}")
    return result


COLUMNS = [("model", "model", ""), ("batch", "batch", "d"), ("steps", "steps", "d"),
           ("guidance", "guided", ""), ("model_forwards", "forwards", "d"),
           ("forward_batch", "fwd batch", "d"), ("clips_per_s", "clips/s", ".3f"),
           ("clips_per_s_model_only", "clips/s (model only)", ".3f"), ("model_s", "model s", ".2f"),
           ("decode_s", "decode s", ".3f"), ("vocoder_s", "Griffin-Lim s", ".3f"),
           ("share_model", "model share", ".0%"), ("guidance_cost_x", "guided / unguided", ".2f"),
           ("guidance_cost_x_cpu_time", "guided / unguided (CPU time)", ".2f"),
           ("clips_per_cpu_s", "clips per CPU-s", ".3f")]


def render(result: dict) -> str:
    m = result["machine_before"]
    return (f"joint sampling on {result['device']} ({m['torch_threads']} threads); load average before "
            f"{m['load_average_1_5_15']}, after {result['machine_after']['load_average_1_5_15']}\n\n"
            + table(result["rows"], COLUMNS))


if __name__ == "__main__":
    main()
