"""Load: the GRID datamodule with worker processes runs 3 epochs over a cache without leaking memory.

The cache: two synthetic talkers prepared by `prepare_grid` (64 px, 75 frames), their shards copied
under 60 GRID ids (as a real cache holds many clips of one speaker). RSS is summed over the main
process and its DataLoader workers after epoch 1 (warm: imports, worker start-up, allocator pools)
and after epoch 3; the growth must stay under 24 MiB while each epoch moves ~190 MiB of float
tensors, so holding on to even an eighth of one epoch's batches would fail the test.
"""
import gc
import itertools
import json
import shutil
import time

import psutil
import pytest
from talkers import write_source

from seedkit.data import AVDataModule
from seedkit.data.grid import PrepareConfig, prepare_grid, read_manifest

N_CLIPS = 60  # clips in the cache
BOUND_MIB = 24  # allowed RSS growth from epoch 1 to epoch 3, main process + workers


def grid_ids():
    for cmd, color, prep, letter, digit, adv in itertools.product("blps", "bgrw", "abi", "xyz", "123", "ans"):
        yield cmd + color + prep + letter + digit + adv


def build_cache(tmp_path):
    src, cache = tmp_path / "src", tmp_path / "cache"
    write_source(src, n_good=2, faults=False)
    summary = prepare_grid(src, cache, PrepareConfig(size=64, progress=False))
    assert summary.prepared == 2
    originals = list(read_manifest(cache).values())
    with open(cache / "manifest.jsonl", "a") as manifest:
        for i, clip_id in enumerate(itertools.islice(grid_ids(), N_CLIPS)):
            rec = dict(originals[i % 2], key=f"s1/{clip_id}", id=clip_id, shard=f"clips/s1/{clip_id}.npz")
            shutil.copyfile(cache / originals[i % 2]["shard"], cache / rec["shard"])
            manifest.write(json.dumps(rec) + "\n")
    return cache


def rss_mib(proc: psutil.Process) -> float:
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20


@pytest.mark.slow
def test_grid_datamodule_with_workers_runs_three_epochs_without_leaking(tmp_path):
    cache = build_cache(tmp_path)
    dm = AVDataModule("grid", batch_size=4, num_workers=2, fps=25.0, num_frames=72, size=64,
                      cache_dir=str(cache))
    loader = dm.train_dataloader()
    n_train = len(dm.dataset("train"))
    assert n_train >= 45
    me, rss, seen, mib_per_epoch = psutil.Process(), [], [], 0.0
    t0 = time.time()
    for epoch in range(3):
        ids = []
        for batch in loader:
            assert batch["video"].shape[1:] == (72, 3, 64, 64) and batch["audio"].shape[1:] == (1, 46080)
            ids += batch["id"]
            mib_per_epoch += (batch["video"].nbytes + batch["audio"].nbytes) / 2**20 / 3
        seen.append(sorted(ids))
        gc.collect()
        rss.append(rss_mib(me))
    growth = rss[2] - rss[0]
    print(f"\n{n_train} clips/epoch, {mib_per_epoch:.0f} MiB of tensors/epoch; RSS (main + 2 workers) "
          f"after epochs 1-3: {', '.join(f'{r:.0f}' for r in rss)} MiB; growth {growth:+.1f} MiB; "
          f"{time.time() - t0:.1f} s")
    assert seen[0] == seen[1] == seen[2] and len(seen[0]) == 4 * (n_train // 4)  # every epoch complete
    assert mib_per_epoch > 8 * BOUND_MIB
    assert growth < BOUND_MIB
