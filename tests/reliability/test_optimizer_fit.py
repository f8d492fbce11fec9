"""JointAV's `--model.optimizer muon` (seedkit/optim.py) through `seedkit fit`: it trains, saves its
momentum and resumes; an unknown optimiser is refused, and a resume with the other one names the flag to add."""
import pytest
import torch
from runs import fit_in_process, tiny_joint_args


def test_jointav_trains_and_resumes_with_muon(tiny_tokenizers, tmp_path):
    root = tmp_path / "run"
    args = tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2) + ["--model.optimizer=muon"]
    fit_in_process(args)
    fit_in_process([*args, "--trainer.max_steps=4", "--ckpt_path=last"])
    (last,) = (root / "checkpoints").glob("*-step=4.ckpt")
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 4 and ckpt["hyper_parameters"]["optimizer"] == "muon"
    state = ckpt["optimizer_states"][0]
    assert [g["use_muon"] for g in state["param_groups"]] == [True, False, False]
    assert any("momentum_buffer" in s for s in state["state"].values())


def test_an_unknown_optimizer_is_refused(tiny_tokenizers, tmp_path):
    with pytest.raises(ValueError, match="optimizer='sgd'.*'adamw' or 'muon'"):
        fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path / "run", max_steps=2, every=2)
                       + ["--model.optimizer=sgd"])


def test_resuming_with_another_optimizer_names_the_one_to_use(tiny_tokenizers, tmp_path):
    args = tiny_joint_args(tiny_tokenizers, tmp_path / "run", max_steps=2, every=2)
    fit_in_process([*args, "--model.optimizer=muon"])
    with pytest.raises(ValueError, match="optimizer='muon'.*add --model.optimizer muon"):
        fit_in_process([*args, "--trainer.max_steps=4", "--ckpt_path=last"])
