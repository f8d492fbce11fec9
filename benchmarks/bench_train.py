"""Training-step throughput of the dual-tower model, against the device's own matmul peak.

    .venv/bin/python benchmarks/bench_train.py                 # bounce + grid defaults, CPU or GPU
    .venv/bin/python benchmarks/bench_train.py --quick         # a tiny smoke run (tests)
    .venv/bin/python benchmarks/bench_train.py --compile       # adds the torch.compile variant
    .venv/bin/python benchmarks/bench_train.py --grid-conv 3   # adds the video grid conv variant
    .venv/bin/python benchmarks/bench_train.py --bf16          # adds bf16 autocast on a CPU

One step = forward, rectified-flow loss (seedkit.flow), backward, AdamW step, on latents of the
default models (seedkit/configs/model_{bounce,grid}.yaml) at the batch size of their joint
training configs. Per model and variant it reports samples/s, tokens/s (video + audio tokens),
the model FLOPs per step (counted by torch.utils.flop_counter on the math-attention model, so the
fused kernel's backward recomputation is not counted: the usual MFU convention), achieved FLOP/s,
and the MFU ratio to the dense-matmul peak measured in the same rounds, from wall-clock times and
(on a shared CPU the steadier figure) from this process's CPU times. Variants:

    fast      the kit's path: fused SDPA attention, eager; bf16 autocast on a GPU
    naive     the baseline: attention written out (math backend), eager, fp32
    compile   fast + torch.compile (opt-in: compiling the whole model takes minutes on a CPU)
    gridconv  fast + the video grid convolution (`video_grid_conv`, opt-in; joint_bounce.yaml uses 3)
    bf16      fast + bf16 autocast on a CPU (opt-in; `--trainer.precision bf16-mixed` in `seedkit
              fit`): pays on CPUs with bf16 matrix units (AMX); its MFU ratio is to a bf16 peak

Every row also gives its step time over the fast variant's in the same rounds ("x fast time").

For scale, a *skeleton* (a plain pre-norm transformer: LayerNorm, fused QKV, SDPA, GELU MLP, no
RoPE, adaLN, text attention or bridge) runs at the grid model's token count, depth and video head
width, at the grid video width and at width 256; the gap between it and the kit's model is what
RoPE, adaLN, the text cross-attention and the bridge cost.

Memory: saved activations for backward (counted through autograd's saved-tensor hooks) plus
parameters, gradients and AdamW state; on a GPU also torch.cuda.max_memory_allocated.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (  # noqa: E402 (the benchmarks folder is not a package)
    RESULTS_DIR,
    MatmulPeak,
    machine,
    peak_rss_mb,
    pick_device,
    sync,
    table,
    timed_wall_cpu,
    write_json,
)

from seedkit.flow import RectifiedFlow  # noqa: E402
from seedkit.model import DualTowerConfig, DualTowerDiT  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "seedkit" / "configs"
DEFAULT_BATCH = {"bounce": 32, "grid": 16}  # used when configs/joint_<name>.yaml is absent


# -- the workloads ----------------------------------------------------------------------------
def model_config(name: str, quick: bool) -> DualTowerConfig:
    """The default model of a preset (configs/model_<name>.yaml); --quick shrinks the widths."""
    cfg = DualTowerConfig.from_yaml(CONFIGS / f"model_{name}.yaml")
    if quick:
        cfg = dataclasses.replace(cfg, video_dim=32, video_heads=2, video_depth=1, audio_dim=16,
                                  audio_heads=2, audio_depth=1, text_dim=16, mlp_ratio=2.0)
    return cfg


def training_batch_size(name: str) -> int:
    """data.init_args.batch_size of configs/joint_<name>.yaml (what `seedkit fit` trains with)."""
    path = CONFIGS / f"joint_{name}.yaml"
    if path.is_file():
        data = yaml.safe_load(path.read_text()) or {}
        size = ((data.get("data") or {}).get("init_args") or {}).get("batch_size")
        if size:
            return int(size)
    return DEFAULT_BATCH[name]


def latent_batch(cfg: DualTowerConfig, batch: int, device: torch.device, text_len: int = 6):
    """Random clean latents and text of the model's shapes (values do not change the timing)."""
    g = torch.Generator().manual_seed(0)
    video = torch.randn(batch, cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width,
                        generator=g)
    audio = torch.randn(batch, cfg.audio_length, cfg.audio_channels, generator=g)
    length = min(text_len, cfg.max_text_len)
    ids = torch.randint(0, cfg.vocab_size, (batch, length), generator=g)
    mask = torch.ones(batch, length, dtype=torch.bool)
    return tuple(x.to(device) for x in (video, audio, ids, mask))


def grid_conv_flops(cfg: DualTowerConfig, batch: int) -> int:
    """FLOPs of the video grid convolutions in one training step (forward + backward), by hand:
    torch.utils.flop_counter counts a depthwise convolution's backward as if it were dense (for
    Conv3d(128, 128, 3, groups=128) on [32, 128, 8, 4, 4]: 3.65 GFLOP against the 57 MFLOP of
    its input and weight gradients), so the counter's figure would inflate the MFU ratio."""
    video_tokens = cfg.video_frames * cfg.video_tokens_per_frame
    forward = 2 * batch * video_tokens * cfg.video_dim * cfg.video_grid_conv ** 3 * cfg.video_depth
    return 3 * forward  # backward: the input gradient and the weight gradient, each as much again


def tokens_per_sample(cfg: DualTowerConfig) -> int:
    return cfg.video_frames * cfg.video_tokens_per_frame + cfg.audio_length


class SkeletonBlock(nn.Module):
    """Plain pre-norm transformer block: x + Attn(LN(x)); x + MLP(LN(x)). Fused QKV, SDPA."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        x = x + self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2))
        return x + self.mlp(self.norm2(x))


class Skeleton(nn.Module):
    """tokens [B, N, dim] -> [B, N, dim] through `depth` plain blocks (the MFU reference)."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.blocks = nn.Sequential(*(SkeletonBlock(dim, heads, mlp_ratio) for _ in range(depth)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


# -- one training step ------------------------------------------------------------------------
class Workload:
    """A model, its AdamW optimiser and a fixed batch; `step()` runs one full training step."""

    def __init__(self, model: nn.Module, batch: tuple, device: torch.device, autocast: bool):
        self.model = model.to(device).train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4, weight_decay=0.01)
        self.batch, self.device, self.autocast = batch, device, autocast
        self.flow = RectifiedFlow()

    def loss(self) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            if isinstance(self.model, Skeleton):
                x, target = self.batch
                return F.mse_loss(self.model(x).float(), target)
            video, audio, ids, mask = self.batch
            return self.flow.loss(self.model, video, audio, ids, mask).total

    def forward_backward(self) -> None:
        self.loss().backward()

    def step(self) -> None:
        self.forward_backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)

    def count_flops(self) -> int:
        """FLOPs of forward + loss + backward (the optimiser's elementwise update is not counted)."""
        with FlopCounterMode(display=False) as counter:
            self.forward_backward()
        self.opt.zero_grad(set_to_none=True)
        return counter.get_total_flops()

    def memory_mb(self) -> dict:
        """Saved activations of one forward (unique storages) and params + grads + AdamW state."""
        seen: dict[int, int] = {}

        def pack(t: torch.Tensor):
            storage = t.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = self.loss()
        del loss
        params = sum(p.numel() * p.element_size() for p in self.model.parameters())
        out = {"activations_mb": sum(seen.values()) / 2**20, "params_grads_adam_mb": 4 * params / 2**20}
        if self.device.type == "cuda":  # the allocator's high-water mark over one full step
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.step()
            out["cuda_max_memory_mb"] = torch.cuda.max_memory_allocated(self.device) / 2**20
        return out


def build_workloads(name: str, variants: list[str], device: torch.device, quick: bool,
                    batch_size: int | None, grid_conv: int = 0) -> tuple[dict[str, Workload], dict]:
    cfg = model_config(name, quick)
    batch = batch_size or (2 if quick else training_batch_size(name))
    data = latent_batch(cfg, batch, device)
    torch.manual_seed(0)
    base = DualTowerDiT(cfg)
    gpu = device.type == "cuda"
    loads = {}
    for v in variants:
        model = copy.deepcopy(base)
        if v == "naive":
            model = DualTowerDiT(dataclasses.replace(cfg, attention="math"))
            model.load_state_dict(base.state_dict())
        if v == "gridconv":  # the same weights plus the (new) grid convolutions
            model = DualTowerDiT(dataclasses.replace(cfg, video_grid_conv=grid_conv))
            missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
            assert not unexpected and all(".grid_conv." in k for k in missing), (missing, unexpected)
        loads[v] = Workload(model, data, device, autocast=(gpu and v != "naive") or v == "bf16")
        if v == "compile":
            loads[v].model.compile()
    info = {"model": name, "batch": batch, "tokens_per_sample": tokens_per_sample(cfg),
            "video_tokens": cfg.video_frames * cfg.video_tokens_per_frame, "audio_tokens": cfg.audio_length,
            "parameters": sum(p.numel() for p in base.parameters()),
            "config": {k: cfg.to_dict()[k] for k in ("video_dim", "video_depth", "audio_dim", "audio_depth",
                                                      "video_heads", "audio_heads", "bridge")}}
    return loads, info


def build_skeleton(dim: int, depth: int, heads: int, tokens: int, batch: int, device: torch.device):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, tokens, dim, generator=g).to(device)
    target = torch.randn(batch, tokens, dim, generator=g).to(device)
    info = {"model": f"skeleton w{dim}", "batch": batch, "tokens_per_sample": tokens,
            "parameters": None, "config": {"dim": dim, "depth": depth, "heads": heads}}
    model = Skeleton(dim, depth, heads)
    info["parameters"] = sum(p.numel() for p in model.parameters())
    return Workload(model, (x, target), device, autocast=device.type == "cuda"), info


# -- measurement ------------------------------------------------------------------------------
def measure(entries: list[tuple[str, str, Workload, dict, int]], peak: MatmulPeak, rounds: int,
            warmup: int, device: torch.device, bf16_peak: MatmulPeak | None = None) -> list[dict]:
    """Time every workload in interleaved rounds: w1, w2, ..., peak sample; medians over rounds.

    The `bf16` variant's MFU ratio is taken against `bf16_peak` (sampled in the same rounds)."""
    compile_s = {}
    for key, variant, w, _, _ in entries:
        start = time.perf_counter()
        for _ in range(warmup):
            w.step()
        sync(device)
        if variant == "compile":
            compile_s[key] = time.perf_counter() - start
    times: dict[str, list[float]] = {key: [] for key, *_ in entries}
    cpu_times: dict[str, list[float]] = {key: [] for key, *_ in entries}
    ratios: dict[str, list[float]] = {key: [] for key, *_ in entries}
    cpu_ratios: dict[str, list[float]] = {key: [] for key, *_ in entries}
    peaks: dict[str, list[float]] = {"default": [], "bf16": []}
    for _ in range(rounds):
        round_times = {key: timed_wall_cpu(w.step, device) for key, _, w, _, _ in entries}
        peaks["default"].append(peak.sample())
        if bf16_peak is not None:
            peaks["bf16"].append(bf16_peak.sample())
        for key, variant, _, _, flops in entries:
            pk = bf16_peak if variant == "bf16" and bf16_peak is not None else peak
            wall, cpu = round_times[key]
            times[key].append(wall)
            cpu_times[key].append(cpu)
            ratios[key].append(flops / wall / pk.samples[-1])
            cpu_ratios[key].append(flops / max(cpu, 1e-9) / pk.cpu_samples[-1])
    rows = []
    for key, variant, w, info, flops in entries:
        s = statistics.median(times[key])
        which = "bf16" if variant == "bf16" and bf16_peak is not None else "default"
        row = {**info, "variant": variant, "step_s": s, "step_s_min": min(times[key]),
               "samples_per_s": info["batch"] / s, "tokens_per_s": info["batch"] * info["tokens_per_sample"] / s,
               "gflop_per_step": flops / 1e9, "achieved_gflops": flops / s / 1e9,
               "mfu_ratio": statistics.median(ratios[key]), "peak_gflops": statistics.median(peaks[which]) / 1e9,
               "peak": (bf16_peak if which == "bf16" else peak).label,
               "step_cpu_s": statistics.median(cpu_times[key]),
               "mfu_ratio_cpu_time": statistics.median(cpu_ratios[key]),
               **w.memory_mb()}
        if key in compile_s:
            row["warmup_with_compile_s"] = compile_s[key]
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="grid,bounce", help="comma list of presets: grid, bounce")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--batch", type=int, default=None, help="override the training batch size")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per workload first")
    ap.add_argument("--compile", action="store_true", help="also measure torch.compile (slow to build)")
    ap.add_argument("--grid-conv", type=int, default=0, metavar="K",
                    help="also measure the model with a depthwise K^3 video grid conv (odd K; 0: skip)")
    ap.add_argument("--bf16", action="store_true",
                    help="also measure bf16 autocast on a CPU (on a GPU the fast variant already uses it)")
    ap.add_argument("--no-skeleton", action="store_true", help="skip the plain-transformer reference")
    ap.add_argument("--quick", action="store_true", help="tiny models, 1 round: a smoke test")
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/train_<device>.json)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    if args.quick:
        args.rounds, args.warmup = 1, 1
    if args.bf16 and device.type != "cpu":
        print("--bf16: on a GPU the fast variant already runs under bf16 autocast; nothing added")
    cpu_bf16 = args.bf16 and device.type == "cpu"
    variants = (["fast", "naive"] + (["compile"] if args.compile else []) + (["gridconv"] if args.grid_conv else [])
                + (["bf16"] if cpu_bf16 else []))
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in DEFAULT_BATCH:
            raise SystemExit(f"--models: unknown preset {n!r}; expected some of {sorted(DEFAULT_BATCH)}")
    env_before = machine()
    peak = MatmulPeak(device, n=256 if args.quick else None)
    bf16_peak = MatmulPeak(device, n=256 if args.quick else None, dtype=torch.bfloat16) if cpu_bf16 else None
    rows = []
    for name in names:
        print(f"{name}: batch {args.batch or 'from config'}, variants {variants}", flush=True)
        loads, info = build_workloads(name, variants, device, args.quick, args.batch, args.grid_conv)
        # FLOPs of the math-attention model: the flop counter does not see inside fused SDPA kernels.
        ref = loads.get("naive") or Workload(DualTowerDiT(dataclasses.replace(
            loads["fast"].model.config, attention="math")), loads["fast"].batch, device, False)
        flops = ref.count_flops()
        entries = [(f"{name}/{v}", v, w, info, flops) for v, w in loads.items() if v != "gridconv"]
        if "gridconv" in loads:
            gc = loads["gridconv"]
            entries.append((f"{name}/gridconv", "gridconv", gc, info,
                            flops + grid_conv_flops(gc.model.config, info["batch"])))
        if name == "grid" and not args.no_skeleton:
            cfg = loads["fast"].model.config
            depth = cfg.video_depth + cfg.audio_depth
            widths = [cfg.video_dim] if args.quick else sorted({cfg.video_dim, 256})
            head_dim = cfg.video_dim // cfg.video_heads  # the kit's video heads
            for dim in widths:
                sk, sk_info = build_skeleton(dim, depth, max(1, dim // head_dim), info["tokens_per_sample"],
                                             info["batch"], device)
                entries.append((f"skeleton/{dim}", "fast", sk, sk_info, sk.count_flops()))
        print(f"{name}: {flops / 1e9:.2f} GFLOP per step; timing {[e[0] for e in entries]} in "
              f"{args.rounds} interleaved rounds", flush=True)
        rows += measure(entries, peak, args.rounds, args.warmup, device, bf16_peak)
    for name in names:  # speed-up over the naive baseline, from the same interleaved rounds
        naive = next(r for r in rows if r["model"] == name and r["variant"] == "naive")
        fast = next(r for r in rows if r["model"] == name and r["variant"] == "fast")
        for r in rows:
            if r["model"] == name:
                r["time_vs_fast"] = r["step_s"] / fast["step_s"]
                r["speedup_vs_naive"] = naive["step_s"] / r["step_s"]
                r["speedup_vs_naive_cpu_time"] = naive["step_cpu_s"] / r["step_cpu_s"]
    result = {"benchmark": "train", "device": str(device), "peak": peak.label,
              "peak_gflops_median": statistics.mean(r["peak_gflops"] for r in rows if r["variant"] != "bf16"),
              "peak_gflops_per_cpu_s_median": statistics.median(peak.cpu_samples) / 1e9,
              **({"bf16_peak": bf16_peak.label, "bf16_peak_gflops_median": statistics.median(bf16_peak.samples) / 1e9}
                 if bf16_peak else {}),
              "quick": args.quick, "rounds": args.rounds, "machine_before": env_before,
              "machine_after": machine(), "process_peak_rss_mb": peak_rss_mb(), "rows": rows}
    print(render(result))
    out = args.out or RESULTS_DIR / f"train_{device.type}.json"
    print(f"wrote {write_json(result, out)}")
    return result


COLUMNS = [("model", "model", ""), ("variant", "variant", ""), ("batch", "batch", "d"),
           ("tokens_per_sample", "tokens", "d"), ("step_s", "step s", ".3f"),
           ("samples_per_s", "samples/s", ".1f"), ("tokens_per_s", "tokens/s", ".0f"),
           ("gflop_per_step", "GFLOP/step", ".2f"), ("achieved_gflops", "GFLOP/s", ".1f"),
           ("mfu_ratio", "MFU ratio", ".3f"), ("mfu_ratio_cpu_time", "MFU ratio (CPU time)", ".3f"),
           ("speedup_vs_naive", "x naive", ".2f"), ("speedup_vs_naive_cpu_time", "x naive (CPU time)", ".2f"),
           ("time_vs_fast", "x fast time", ".2f"),
           ("activations_mb", "act. MB", ".0f"), ("params_grads_adam_mb", "param+grad+adam MB", ".1f")]


def render(result: dict) -> str:
    m = result["machine_before"]
    return (f"training step on {result['device']} ({m['torch_threads']} threads), peak {result['peak']}: "
            f"{result['peak_gflops_median']:.0f} GFLOP/s median"
            + (f"; bf16 rows against {result['bf16_peak']}: {result['bf16_peak_gflops_median']:.0f} GFLOP/s"
               if "bf16_peak" in result else "")
            + "; load average before "
            f"{m['load_average_1_5_15']}, after {result['machine_after']['load_average_1_5_15']}\n\n"
            + table(result["rows"], COLUMNS))


if __name__ == "__main__":
    main()
