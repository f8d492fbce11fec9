"""Test-only callbacks: sleep after each training step (so a test can kill a run mid-epoch), count steps.

It touches no tensor and no random state, so the run's numbers are those of an unthrottled run.
"""
import time

import lightning as L


class SlowSteps(L.Callback):
    def __init__(self, seconds: float = 0.3):  # sleep after each training step
        self.seconds = seconds

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        time.sleep(self.seconds)


class CountSteps(L.Callback):
    """Counts the training steps a run executes (in this process), to tell a resume from a restart."""

    steps = 0  # class-wide: the test reads it after the run

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        CountSteps.steps += 1
