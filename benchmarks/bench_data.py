"""Is the data ever the bottleneck? Clip loading rate against the training step rate.

    .venv/bin/python benchmarks/bench_data.py              # bounce + grid
    .venv/bin/python benchmarks/bench_data.py --quick      # a tiny smoke run (tests)

Per dataset, in interleaved rounds on the same machine:

    data     clips/s of the training dataset in ONE process (bounce: scenes simulated, rendered
             and sonified on the fly; grid: windows read from the prepared cache, .npz shards),
             collated into batches like the DataLoader does
    step     samples/s of the model's training step (benchmarks/bench_train.py, fast variant, the
             batch size of configs/joint_<name>.yaml)
    encode   the frozen tokenizers' encode of a batch (JointAV.training_step runs it every step)

    ratio = data clips/s / step samples/s           (goal: >= 5, so loading never stalls a step)

from wall-clock times and, steadier on a shared CPU, from this process's CPU times.

With `num_workers` DataLoader processes loading runs beside the step, and the rate multiplies by
up to the number of free cores; the ratio here is for one process, the worst case.
GRID clips come from data/cache/grid when it is prepared, else a few clips are prepared from
$SEEDKIT_GRID_SOURCE into a temporary folder; with neither, the grid row is skipped.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (  # noqa: E402
    RESULTS_DIR,
    machine,
    pick_device,
    table,
    timed,
    timed_wall_cpu,
    write_json,
)
from bench_sample import load_tokenizers  # noqa: E402
from bench_train import build_workloads  # noqa: E402

from seedkit.data.datamodule import AVDataModule  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "seedkit" / "configs"
GRID_CACHE = ROOT / "data" / "cache" / "grid"


def datamodule(name: str, cache_dir: str | None = None) -> AVDataModule:
    """The datamodule of configs/joint_<name>.yaml (its clip spec and batch size)."""
    args = {"dataset": name}
    path = CONFIGS / f"joint_{name}.yaml"
    if path.is_file():
        args.update(((yaml.safe_load(path.read_text()) or {}).get("data") or {}).get("init_args") or {})
    args.pop("num_workers", None)  # one process: the worst case
    if cache_dir is not None:
        args["cache_dir"] = cache_dir
    return AVDataModule(**args)


def grid_cache(tmp: str, clips: int) -> tuple[str | None, str]:
    """A GRID cache folder: the prepared one, else `clips` clips prepared from the source."""
    if (GRID_CACHE / "manifest.jsonl").is_file():
        return str(GRID_CACHE), "data/cache/grid"
    source = os.environ.get("SEEDKIT_GRID_SOURCE")
    if not source:
        return None, "no data/cache/grid and SEEDKIT_GRID_SOURCE unset"
    from seedkit.data.grid import PrepareConfig, prepare_grid

    prepare_grid(source, tmp, PrepareConfig(limit=clips, progress=False))
    return tmp, f"{clips} clips prepared from $SEEDKIT_GRID_SOURCE into a temporary folder"


def measure(name: str, dm: AVDataModule, source: str, device: torch.device, rounds: int,
            quick: bool) -> dict:
    ds = dm.dataset("train")
    if len(ds) == 0:
        ds = next(dm.dataset(s) for s in ("val", "test", "unseen") if len(dm.dataset(s)))
    batch = 2 if quick else dm.hparams.batch_size
    collate = dm.train_dataloader().collate_fn
    cursor = {"i": 0}

    def load_batch():
        items = []
        for _ in range(batch):
            items.append(ds[cursor["i"] % len(ds)])
            cursor["i"] += 1
        return collate(items)

    loads, info = build_workloads(name, ["fast"], device, quick, batch)
    step = loads["fast"].step
    video_tok, audio_tok, tok_source = load_tokenizers(name, device)
    example = load_batch()
    video, audio = example["video"].to(device), example["audio"].to(device)

    def encode():
        with torch.no_grad():
            video_tok.encode(video)
            audio_tok.encode(audio)

    step()
    encode()  # warm-up
    data_s, step_s, enc_s, ratios, cpu_ratios = [], [], [], [], []
    for _ in range(rounds):
        d, d_cpu = (t / batch for t in timed_wall_cpu(load_batch, torch.device("cpu")))
        s, s_cpu = (t / batch for t in timed_wall_cpu(step, device))
        e = timed(encode, device) / batch
        data_s.append(d)
        step_s.append(s)
        enc_s.append(e)
        ratios.append(s / d)
        cpu_ratios.append(s_cpu / max(d_cpu, 1e-9))
    d, s, e = (statistics.median(x) for x in (data_s, step_s, enc_s))
    return {"dataset": name, "source": source, "tokenizers": tok_source, "clips_in_split": len(ds),
            "batch": batch, "data_clips_per_s": 1 / d, "step_samples_per_s": 1 / s,
            "encode_clips_per_s": 1 / e, "jointav_step_samples_per_s": 1 / (s + e),
            "data_to_step_ratio": statistics.median(ratios), "data_to_jointav_step_ratio": (s + e) / d,
            "data_to_step_ratio_cpu_time": statistics.median(cpu_ratios),
            "goal_met": statistics.median(ratios) >= 5}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="bounce,grid", help="comma list: bounce, grid")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    ap.add_argument("--grid-clips", type=int, default=8, help="clips to prepare when there is no cache")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda (where the step runs)")
    ap.add_argument("--quick", action="store_true", help="tiny model, batch 2, 1 round: a smoke test")
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/data_<device>.json)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    if args.quick:
        args.rounds = 1
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    bad = [n for n in names if n not in ("bounce", "grid")]
    if bad:
        raise SystemExit(f"--datasets: unknown dataset(s) {bad}; expected bounce and/or grid")
    before = machine()
    rows, skipped = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name == "grid":
                cache, source = grid_cache(tmp, args.grid_clips)
                if cache is None:
                    skipped[name] = source
                    continue
                dm = datamodule(name, cache)
            else:
                dm, source = datamodule(name), "generated on the fly (seedkit.data.bounce)"
            rows.append(measure(name, dm, source, device, args.rounds, args.quick))
    result = {"benchmark": "data", "device": str(device), "quick": args.quick, "rounds": args.rounds,
              "skipped": skipped, "machine_before": before, "machine_after": machine(), "rows": rows}
    print(render(result))
    out = args.out or RESULTS_DIR / f"data_{device.type}.json"
    print(f"wrote {write_json(result, out)}")
    return result


COLUMNS = [("dataset", "dataset", ""), ("batch", "batch", "d"), ("data_clips_per_s", "data clips/s", ".1f"),
           ("step_samples_per_s", "step samples/s", ".1f"), ("data_to_step_ratio", "data / step", ".1f"),
           ("data_to_step_ratio_cpu_time", "data / step (CPU time)", ".1f"),
           ("encode_clips_per_s", "encode clips/s", ".1f"),
           ("data_to_jointav_step_ratio", "data / (encode + step)", ".1f"), ("goal_met", ">= 5", "")]


def render(result: dict) -> str:
    m = result["machine_before"]
    skipped = "".join(f"\nskipped {k}: {v}" for k, v in result["skipped"].items())
    return (f"data loading (one process) vs training step on {result['device']} ({m['torch_threads']} "
            f"threads); load average before {m['load_average_1_5_15']}, after "
            f"{result['machine_after']['load_average_1_5_15']}\n\n" + table(result["rows"], COLUMNS) + skipped)


if __name__ == "__main__":
    main()
