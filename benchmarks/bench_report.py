"""Collect benchmarks/results/{train,sample,data}_<device>.json into benchmarks/results/results.md.

    .venv/bin/python benchmarks/bench_report.py      # `make bench` runs it after the three benchmarks
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_data  # noqa: E402 (the benchmarks folder is not a package)
import bench_sample  # noqa: E402
import bench_train  # noqa: E402
from bench_common import RESULTS_DIR  # noqa: E402

HEADER = """# Speed benchmarks

Written by `make bench` (benchmarks/bench_*.py, then benchmarks/bench_report.py); the raw figures
are in the JSON files beside this page. Every ratio is taken within one run: the matmul peak is
measured between the timings it is compared with, and the naive baseline, the guided/unguided and
data/step pairs alternate round by round. The machine may have been shared: the load average
before and after each benchmark is printed with it. Where the time goes and what was tried:
[analysis.md](analysis.md).
"""

SECTIONS = [("train", bench_train.render, "Training step (forward, flow loss, backward, AdamW)"),
            ("sample", bench_sample.render, "Joint sampling (Euler, text -> video + audio)"),
            ("data", bench_data.render, "Data loading vs training step")]


def main() -> Path:
    parts = [HEADER]
    for kind, render, title in SECTIONS:
        for path in sorted(RESULTS_DIR.glob(f"{kind}_*.json")):
            result = json.loads(path.read_text())
            if result.get("quick"):
                continue  # smoke runs are not results
            parts.append(f"## {title}: {result['device']}\n\n`{path.name}`; " + render(result) + "\n")
    out = RESULTS_DIR / "results.md"
    out.write_text("\n".join(parts))
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help says what it does, no more
    main()
