"""Checkpoints are written atomically: a writer killed (SIGKILL) or failing mid-write never leaves a
half-written file under the checkpoint's name, and the temporary file it may leave is never taken
for `last` by Lightning's `--ckpt_path last`."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from runs import seedkit_env
from lightning.pytorch.callbacks import ModelCheckpoint

import seedkit.callbacks
from seedkit.callbacks import AtomicCheckpointIO

WRITER = """
import os, sys, time, torch
from seedkit.callbacks import AtomicCheckpointIO
for attempt in range(3):  # import once, then fork one writer per kill
    pid = os.fork()
    if pid == 0:
        io, w, t0 = AtomicCheckpointIO(), torch.zeros(4_000_000), time.time()  # 16 MB per checkpoint
        for i in range(1, 10**9):
            w.fill_(i)
            io.save_checkpoint({"i": i, "w": w}, sys.argv[1])
            if time.time() - t0 > 120:  # never outlive a failed test for long
                os._exit(1)
    print(pid, flush=True)
    os.waitpid(pid, 0)
"""


def test_a_save_that_fails_mid_write_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"step": 1, "w": torch.ones(1000)}, path)

    def dies_half_way(obj, f):
        f.write(b"PK\x03\x04" + b"\x00" * 5000)  # the start of a zip, then the process "dies"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(seedkit.callbacks.torch, "save", dies_half_way)
    with pytest.raises(OSError, match="No space"):
        AtomicCheckpointIO().save_checkpoint({"step": 2, "w": torch.zeros(1000)}, path)
    assert os.listdir(tmp_path) == ["last.ckpt"]  # no temporary file left behind either
    assert torch.load(path, weights_only=True)["step"] == 1


def test_the_next_save_clears_what_a_killed_save_left_whatever_its_name(tmp_path):
    """SIGKILL leaves the temporary file: of `last.ckpt`, or of a periodic checkpoint never saved again."""
    torn = [tmp_path / ".last.ckpt.part-ab12", tmp_path / ".epoch=0-step=250.ckpt.part-cd34"]
    for t in torn:
        t.write_bytes(b"PK\x03\x04 half a checkpoint")
    (tmp_path / "notes.txt").write_text("kept")
    AtomicCheckpointIO().save_checkpoint({"step": 500}, tmp_path / "epoch=0-step=500.ckpt")
    assert sorted(os.listdir(tmp_path)) == ["epoch=0-step=500.ckpt", "notes.txt"]


@pytest.mark.slow
def test_sigkill_during_saves_never_leaves_a_torn_checkpoint(tmp_path):
    path = tmp_path / "last.ckpt"
    parent = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=seedkit_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        torn_temporaries = kill_writers_mid_save(parent, path, tmp_path)
    finally:
        parent.kill()
    assert torn_temporaries >= 1  # at least one kill did land mid-write (else the test proved nothing)


def kill_writers_mid_save(parent, path, tmp_path) -> int:
    """Kill each of the parent's three writers during a save; check the checkpoint after each kill."""
    torn_temporaries = 0
    for attempt in range(3):
        before = path.stat().st_mtime_ns if path.exists() else None
        writer = int(parent.stdout.readline())
        t0 = time.time()
        while time.time() - t0 < 120:  # until this writer's first save
            if path.exists() and path.stat().st_mtime_ns != before:
                break
            time.sleep(0.01)
        # then kill it inside a later save: once its temporary file exists (the first save removed
        # any left by the writer before), the save is between open and rename. A fixed sleep
        # instead missed every save on an idle machine, where a save is a small part of the loop.
        t1 = time.time()
        while time.time() - t1 < 30 and not any(p.startswith(".last.ckpt.part-") for p in os.listdir(tmp_path)):
            pass
        os.kill(writer, signal.SIGKILL)
        time.sleep(0.1)
        ckpt = torch.load(path, weights_only=True)  # always a whole checkpoint ...
        assert ckpt["i"] >= 1 and torch.equal(ckpt["w"], torch.full((4_000_000,), float(ckpt["i"])))  # ... of one save
        parts = [p for p in os.listdir(tmp_path) if p != "last.ckpt"]
        assert all(p.startswith(".last.ckpt.part-") for p in parts), parts
        torn_temporaries += bool(parts)
        # Lightning's `--ckpt_path last` candidates: the temporary file is not one of them
        assert ModelCheckpoint(dirpath=tmp_path)._find_last_checkpoints(None) == {str(path)}
    assert parent.wait(timeout=60) == 0
    return torn_temporaries
