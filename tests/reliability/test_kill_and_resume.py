"""A joint training run killed with SIGKILL mid-epoch resumes with `--ckpt_path last` and ends with the
weights, EMA weights and global step of a run that was never interrupted.

Tolerance: 0 (bitwise). On a CPU with one thread every kernel is deterministic, the resumed run
restores weights, EMA, optimiser, scheduler, loop counters (Lightning), the random states
(seedkit.callbacks.ResumableRandomState) and the training DataLoader's place in its epoch
(seedkit.data.resumable), so it trains on the batches the killed run had left, in the same order,
whether its checkpoint ended an epoch or fell inside one. Any mismatch (a forgotten random state, an
EMA update lost at the checkpoint, a batch seen twice) shows as a difference of order 1e-5 or more,
not a rounding error.
"""
import signal
import threading
import time

import pytest
import torch
from runs import fit_in_process, seedkit_popen, tiny_joint_args

MAX_STEPS, EPOCH = 9, 3  # 3 epochs of 3 steps


def trained_state(root):
    ckpt = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    sd = ckpt["state_dict"]
    return ckpt["global_step"], {k: v for k, v in sd.items() if k.startswith(("model.", "ema."))}


def kill_when_saved(proc, last, min_step, found: dict, mid_epoch: bool, timeout_s=300.0):
    """SIGKILL `proc` as soon as `last` holds a checkpoint at step >= min_step that falls inside an
    epoch (mid_epoch) or ends one."""
    t0 = time.time()
    while proc.poll() is None and time.time() - t0 < timeout_s:
        if last.exists():
            step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
            if step >= min_step and (step % EPOCH != 0) == mid_epoch:
                proc.send_signal(signal.SIGKILL)
                found["step"] = step
                break
        time.sleep(0.05)
    proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("every", [EPOCH, 2], ids=["epoch-end-checkpoint", "mid-epoch-checkpoint"])
def test_sigkilled_run_resumes_to_the_uninterrupted_weights(tiny_tokenizers, tmp_path, capsys, every):
    t0 = time.time()
    once, killed = tmp_path / "once", tmp_path / "killed"
    # the run to be killed (a subprocess, slowed down so the kill lands mid-epoch) ...
    args = tiny_joint_args(tiny_tokenizers, killed, MAX_STEPS, every, steps_per_epoch=EPOCH)
    proc = seedkit_popen(args + ["--trainer.callbacks+=slow_steps.SlowSteps"], tmp_path / "killed.log")
    found = {}
    watcher = threading.Thread(target=kill_when_saved,
                               args=(proc, killed / "checkpoints" / "last.ckpt", every, found, every != EPOCH))
    watcher.start()
    # ... while the uninterrupted run trains here
    fit_in_process(tiny_joint_args(tiny_tokenizers, once, MAX_STEPS, every, steps_per_epoch=EPOCH))
    watcher.join()
    log = (tmp_path / "killed.log").read_text()
    assert proc.returncode == -signal.SIGKILL and every <= found.get("step", -1) < MAX_STEPS, log[-3000:]

    from slow_steps import CountSteps

    CountSteps.steps = 0
    fit_in_process(args + ["--ckpt_path=last", "--trainer.callbacks+=slow_steps.CountSteps"])
    assert CountSteps.steps == MAX_STEPS - found["step"]  # resumed, not restarted

    step_once, once_sd = trained_state(once)
    step_resumed, resumed_sd = trained_state(killed)
    assert step_once == step_resumed == MAX_STEPS
    assert once_sd.keys() == resumed_sd.keys() and any(k.startswith("ema.") for k in once_sd)
    diff = {k: (once_sd[k].float() - resumed_sd[k].float()).abs().max().item() for k in once_sd}
    worst = max(diff, key=diff.get)
    with capsys.disabled():
        print(f"\nkilled after the step-{found['step']} checkpoint; max |diff| {diff[worst]:.3g} "
              f"({worst}); {time.time() - t0:.1f} s for the three runs")
    assert all(d == 0.0 for d in diff.values()), {k: v for k, v in diff.items() if v}


def test_random_state_round_trips_through_a_weights_only_checkpoint(tmp_path):
    import random

    import numpy as np

    from seedkit.callbacks import random_state, set_random_state

    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    torch.save({"rng": random_state()}, tmp_path / "rng.pt")
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.rand(5), np.random.rand(5), random.random()  # move every stream on
    set_random_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1])
    assert expected[2] == again[2]


def test_validation_leaves_the_training_random_stream_untouched():
    """The noise each training step draws is the same with or without validation runs in between
    (validation here draws random numbers too), so where validation happens cannot change training."""
    import lightning as L

    from seedkit.callbacks import ResumableRandomState

    class Noisy(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer, self.draws = torch.nn.Linear(2, 1), []

        def training_step(self, batch, batch_idx):
            noise = torch.randn(1)
            self.draws.append(noise.item())
            return (self.layer(batch[0]) + noise).pow(2).mean()

        def validation_step(self, batch, batch_idx):
            torch.randn(100)  # e.g. sampling a few clips

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(8, 2)), batch_size=2)
    draws = []
    for val_batches in (0, 2):
        torch.manual_seed(0)
        model = Noisy()
        L.Trainer(max_steps=8, limit_val_batches=val_batches, val_check_interval=2, logger=False,
                  enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                  callbacks=[ResumableRandomState()]).fit(model, data, data)
        draws.append(model.draws)
    assert len(draws[0]) == 8 and draws[0] == draws[1]


def test_last_ckpt_holds_the_final_step_between_periodic_saves(tiny_tokenizers, tmp_path):
    """5 steps with a save every 3: Lightning alone leaves last.ckpt at step 3 (seedkit.callbacks.FinalCheckpoint)."""
    fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path, max_steps=5, every=3))
    step, final = trained_state(tmp_path)
    assert step == 5
    periodic = torch.load(next((tmp_path / "checkpoints").glob("*step=3.ckpt")), map_location="cpu",
                          weights_only=True)
    assert periodic["global_step"] == 3  # the periodic save is still there, and differs from the end
    assert any(not torch.equal(v, periodic["state_dict"][k]) for k, v in final.items())
