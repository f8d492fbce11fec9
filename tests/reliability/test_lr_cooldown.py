"""The joint model's learning-rate schedule: warm-up, constant, and an optional linear cool-down
(`--model.decay_steps`) that a constant-rate run can take on when it is resumed with more steps."""
import pytest
import torch
from runs import fit_in_process, tiny_joint_args

from seedkit.lit import lr_factor


def test_lr_factor_warms_up_holds_and_cools_down():
    assert [lr_factor(s, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    # the last 4 of 10 steps fall linearly to 0
    assert [lr_factor(s, 2, decay_steps=4, max_steps=10) for s in range(11)] == \
        [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    # a cool-down longer than the run starts below the peak; warm-up still caps it
    assert lr_factor(0, 1, decay_steps=20, max_steps=10) == 0.5
    assert lr_factor(0, 4, decay_steps=20, max_steps=10) == 0.25


def lr_at(root, step: int) -> float:
    (path,) = (root / "checkpoints").glob(f"*-step={step}.ckpt")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == step
    return ckpt["optimizer_states"][0]["param_groups"][0]["lr"]


def test_a_constant_run_resumed_with_a_cooldown_decays_to_zero(tiny_tokenizers, tmp_path):
    root = tmp_path / "run"
    args = tiny_joint_args(tiny_tokenizers, root, max_steps=4, every=2) + [
        "--trainer.callbacks.init_args.save_top_k=-1", "--model.lr=0.001"]
    fit_in_process(args)
    assert lr_at(root, 4) == pytest.approx(1e-3)  # warm-up of 2 steps done, constant since
    fit_in_process([*args, "--trainer.max_steps=8", "--model.decay_steps=4", "--ckpt_path=last"])
    assert [lr_at(root, s) for s in (6, 8)] == pytest.approx([5e-4, 0.0])


def test_a_cooldown_without_max_steps_is_refused(tiny_tokenizers, tmp_path):
    args = tiny_joint_args(tiny_tokenizers, tmp_path / "run", max_steps=-1, every=2)
    with pytest.raises(ValueError, match="decay_steps=4.*--trainer.max_steps"):
        fit_in_process([*args, "--trainer.max_epochs=1", "--model.decay_steps=4"])


def test_a_run_resumed_from_a_checkpoint_file_keeps_the_command_lines_settings(tiny_tokenizers, tmp_path, capsys):
    """Lightning 2.6 would put the file's saved hyperparameters over the command line (not last's):
    seedkit resumes from `--ckpt_path FILE` with the settings given, and names what changed."""
    root = tmp_path / "run"
    args = tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2) + ["--trainer.callbacks.init_args.save_top_k=-1"]
    fit_in_process(args)
    (first,) = (root / "checkpoints").glob("*-step=2.ckpt")
    capsys.readouterr()
    fit_in_process([*args, "--trainer.max_steps=4", "--model.lr=0.002", "--model.flow={logit_mean: 0.5}",
                    f"--ckpt_path={first}"])
    note = capsys.readouterr().out
    assert f"note: {first} was trained with" in note and "'logit_mean': 0.5" in note
    assert "lr of" in note and "optimiser state: lr=0.001 stay" in note  # the rate lives in that state
    (resumed,) = (root / "checkpoints").glob("*-step=4.ckpt")
    hp = torch.load(resumed, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert hp["lr"] == 0.002 and hp["flow"] == {"logit_mean": 0.5}
    assert lr_at(root, 4) == pytest.approx(1e-3)
