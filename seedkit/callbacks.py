"""Training that survives faults: atomic checkpoints, resumable random streams, a finite-loss guard.

`seedkit fit` adds all three to every run (see training_cli.py):

* `AtomicCheckpointIO`   a checkpoint is written to `.NAME.part-XXXX` in its own folder, flushed to
                         disk and renamed over NAME, so a kill mid-write never leaves a half file that
                         `--ckpt_path last` would pick up. Loading is `weights_only=True` (no pickled
                         code runs).
* `ResumableRandomState` the torch / numpy / python random states are stored in each checkpoint and
                         restored on resume, so a resumed run draws the same noise and timesteps as
                         an uninterrupted one (Lightning saves weights, optimiser and loops, not RNGs).
* `FiniteLossGuard`      a NaN or inf loss stops training before the optimiser step, naming the step
                         and the last good checkpoint (garbage weights are never saved).
* `FinalCheckpoint`      `last.ckpt` holds the final step when training ends (Lightning leaves it at
                         the last periodic save: 250 of 300 steps).
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from .paths import write_atomic


class AtomicCheckpointIO(TorchCheckpointIO):
    """Local checkpoints written to a temporary file in the same folder, then `os.replace`d.

    The temporary name does not end in `.ckpt`, so Lightning's search for `last.ckpt` never sees it;
    a run killed mid-write leaves at most a `.part` file, removed by the next save in that folder
    (whatever checkpoint it was for: one process saves at a time, DDP's rank 0 alone).
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        path = Path(path)
        if "://" in str(path):  # remote storage: Lightning's own (transactional) writer
            return super().save_checkpoint(checkpoint, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(".*.part-*"):  # left by a run killed mid-write
            stale.unlink(missing_ok=True)
        write_atomic(path, lambda f: torch.save(checkpoint, f), prefix=f".{path.name}.part-", suffix="")

    def load_checkpoint(self, path, map_location=None, weights_only: bool | None = None) -> dict[str, Any]:
        if weights_only is False:
            raise ValueError("seedkit loads checkpoints with weights_only=True only (no pickled code)")
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)


def random_state() -> dict:
    """The global torch, numpy and python random states as plain data (loads with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)},
             "python": _to_lists(random.getstate())}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Inverse of `random_state`."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():  # a resume may see fewer GPUs than the save
        for i, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, i)


def _to_lists(x):
    return [_to_lists(v) for v in x] if isinstance(x, tuple) else x


class ResumableRandomState(L.Callback):
    """Stores the random states in every checkpoint and restores them when a run resumes.

    The state saved is the one right after the training step (before validation and before the
    checkpoint is written), and validation (sanity check included) gives back the state it found, so
    a resumed run draws exactly the data order, noise, timesteps and condition dropout of the
    uninterrupted run; from a mid-epoch checkpoint too, with the training DataLoader's own place in
    its epoch (seedkit.data.resumable).
    """

    def __init__(self):
        self._after_step: dict | None = None  # random state right after the last training step
        self._before_eval: dict | None = None  # random state when a sanity check started

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._after_step = random_state()

    def on_sanity_check_start(self, trainer, pl_module) -> None:
        self._before_eval = random_state()

    def on_sanity_check_end(self, trainer, pl_module) -> None:
        set_random_state(self._before_eval)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "fit" and self._after_step is not None:
            set_random_state(self._after_step)  # validation inside fit leaves no trace

    def state_dict(self) -> dict:
        return self._after_step if self._after_step is not None else random_state()

    def load_state_dict(self, state_dict: dict) -> None:
        # Restored at once: Lightning builds the first data iterator before any training hook.
        set_random_state(state_dict)
        self._after_step = state_dict


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or inf; training stopped before the weights were updated."""


class FinalCheckpoint(L.Callback):
    """When training ends, every ModelCheckpoint with `save_last` writes `last.ckpt` at the final step.

    Lightning's ModelCheckpoint writes `last.ckpt` next to its periodic saves, and at the end of
    training only if it never wrote one: with `every_n_train_steps=250` and `max_steps=300`,
    `last.ckpt` stays at step 250, so sampling, evaluation and `--ckpt_path last` see a model 50
    steps short of the run. This runs before the checkpoint callbacks' own end-of-training hook
    (Lightning calls checkpoint callbacks last) and only when the final step is not saved yet.
    Interrupted runs (exceptions, Ctrl-C) never reach `on_train_end`: they keep their last save.
    """

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from lightning.pytorch.callbacks import ModelCheckpoint

        for cb in trainer.checkpoint_callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.save_last and not cb._should_skip_saving_checkpoint(trainer):
                cb._save_last_checkpoint(trainer, cb._monitor_candidates(trainer))


def last_checkpoint(trainer: L.Trainer) -> str | None:
    """The newest checkpoint any ModelCheckpoint of `trainer` wrote, or None."""
    paths = []
    for cb in trainer.checkpoint_callbacks:
        paths += [p for p in (getattr(cb, "last_model_path", ""), getattr(cb, "best_model_path", "")) if p]
    paths = [p for p in paths if os.path.isfile(p)]
    return max(paths, key=os.path.getmtime) if paths else None


class FiniteLossGuard(L.Callback):
    """Stops training at the first NaN/inf loss, before backward, naming the step and last checkpoint."""

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        if not torch.isfinite(loss.detach()).all():
            value = loss.detach().float().flatten()[0].item()
            ckpt = last_checkpoint(trainer)
            # No "resume with a lower --model.lr" advice: a resume restores the optimiser's own lr.
            where = (f"last good checkpoint: {ckpt} (resume with --ckpt_path {ckpt})" if ckpt
                     else "no checkpoint was written yet")
            raise NonFiniteLossError(f"training loss is {value} at step {trainer.global_step} "
                                     f"(epoch {trainer.current_epoch}); stopped before updating the "
                                     f"weights; {where}")
