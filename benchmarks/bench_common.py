"""Shared plumbing of the speed benchmarks: the device, its measured matmul peak, timing, the machine.

A FLOP/s figure means little on its own (a shared 2-core CPU runs at a fraction of its speed when
another job starts), so every benchmark measures the device's dense-matmul peak *in the same run*,
interleaved with its own timings, and reports ratios:

    MFU ratio = (model FLOPs per step / step time) / (matmul FLOPs / matmul time)

The peak is a large square matmul: fp32 on CPU, bf16 on a GPU (the dtypes training runs in there).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def pick_device(name: str) -> torch.device:
    """"auto" -> cuda if available else cpu; otherwise the named device (an error if absent)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: no CUDA device is visible")
    return torch.device(name)


def sync(device: torch.device) -> None:
    """Wait for queued kernels (GPU timings are otherwise only launch times)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device, repeats: int = 1) -> float:
    """Seconds per call of `fn`, averaged over `repeats` back-to-back calls."""
    return timed_wall_cpu(fn, device, repeats)[0]


def timed_wall_cpu(fn: Callable[[], object], device: torch.device, repeats: int = 1) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) per call of `fn`.

    On a shared CPU the wall time includes waiting for a core; the process CPU time does not,
    so ratios of CPU times (same thread count) stay meaningful when other jobs come and go.
    """
    sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        fn()
    sync(device)
    return (time.perf_counter() - start) / repeats, (time.process_time() - cpu) / repeats


class MatmulPeak:
    """Dense matmul throughput of `device`: fp32 n x n on CPU, bf16 on a GPU (or `dtype`).

    `sample()` times one round (a few matmuls) and returns FLOP/s; call it between the timings
    of the thing being measured, so both see the same machine load.
    """

    def __init__(self, device: torch.device, n: int | None = None, per_round: int | None = None,
                 dtype: torch.dtype | None = None):
        self.device = device
        self.dtype = dtype or (torch.float32 if device.type == "cpu" else torch.bfloat16)
        self.n = n or (2048 if device.type == "cpu" else 8192)
        self.per_round = per_round or (2 if device.type == "cpu" else 20)
        g = torch.Generator().manual_seed(0)
        self.a = torch.randn(self.n, self.n, generator=g).to(device, self.dtype)
        self.b = torch.randn(self.n, self.n, generator=g).to(device, self.dtype)
        self.samples: list[float] = []
        self.cpu_samples: list[float] = []  # FLOP per CPU-second of this process
        self.sample()  # warm-up (first call pays for page faults / kernel selection)
        self.samples.clear()
        self.cpu_samples.clear()

    def sample(self) -> float:
        """One round; returns FLOP/s (wall clock) and records FLOP per CPU-second beside it."""
        wall, cpu = timed_wall_cpu(lambda: torch.mm(self.a, self.b), self.device, self.per_round)
        self.samples.append(2 * self.n ** 3 / wall)
        self.cpu_samples.append(2 * self.n ** 3 / max(cpu, 1e-9))
        return self.samples[-1]

    @property
    def label(self) -> str:
        return f"{'fp32' if self.dtype == torch.float32 else 'bf16'} {self.n}x{self.n} matmul"


@dataclass
class Interleaved:
    """Medians of rounds that each time the workload and the matmul peak back to back."""

    seconds: float  # median seconds per workload call
    seconds_min: float  # fastest round
    peak_flops: float  # median matmul FLOP/s
    ratio: float  # median over rounds of (work_flops / seconds) / peak (0 when work_flops is 0)
    rounds: int


def interleave(fn: Callable[[], object], peak: MatmulPeak, rounds: int, per_round: int = 1,
               work_flops: float = 0.0) -> Interleaved:
    """Time `fn` in `rounds` rounds of `per_round` calls, each followed by a peak sample."""
    secs, peaks, ratios = [], [], []
    for _ in range(rounds):
        s = timed(fn, peak.device, per_round)
        p = peak.sample()
        secs.append(s)
        peaks.append(p)
        ratios.append(work_flops / s / p if work_flops else 0.0)
    return Interleaved(seconds=statistics.median(secs), seconds_min=min(secs),
                       peak_flops=statistics.median(peaks), ratio=statistics.median(ratios),
                       rounds=rounds)


def machine() -> dict:
    """What ran the benchmark: device, threads, versions, load average (the machine may be shared)."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (Linux ru_maxrss is in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json(data: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A markdown table; columns are (key, header, format spec)."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r.get(k), f) for k, _, f in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def _fmt(value, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str) or not spec:
        return str(value)
    return format(value, spec)
