"""`seedkit fit` with the Gaussian skip (`--model.model {gaussian_skip: K}`): fitted once on the
training clips when training starts, saved in every checkpoint, and not fitted again on resume."""
import pytest
import torch
from runs import TINY_DIT, fit_in_process, tiny_joint_args


def test_the_skip_is_fitted_once_and_resumed_with_the_weights(tiny_tokenizers, tmp_path, capsys):
    root = tmp_path / "run"
    model = TINY_DIT[:-1] + ', "gaussian_skip": 16, "gaussian_fit_clips": 4}'
    args = [*tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2), f"--model.model={model}",
            "--trainer.callbacks.init_args.save_top_k=-1"]
    fit_in_process(args)
    assert "gaussian skip: fitted rank 16 on 4 training clips" in capsys.readouterr().out
    (first,) = (root / "checkpoints").glob("*-step=2.ckpt")
    state = torch.load(first, map_location="cpu", weights_only=True)["state_dict"]
    for prefix in ("model.", "ema."):  # sampling reads the EMA: it carries the same fit
        assert bool(state[prefix + "video_gaussian.fitted"]) and bool(state[prefix + "audio_gaussian.fitted"])
        assert float(state[prefix + "video_gaussian.rho"]) == pytest.approx(0.9)  # joint_bounce.yaml's video_noise_corr
        assert state[prefix + "video_gaussian.eig"][0] > 0
    assert torch.equal(state["model.video_gaussian.basis"], state["ema.video_gaussian.basis"])
    fit_in_process([*args, "--trainer.max_steps=4", "--ckpt_path=last"])
    assert "gaussian skip: fitted" not in capsys.readouterr().out
    (resumed,) = (root / "checkpoints").glob("*-step=4.ckpt")
    after = torch.load(resumed, map_location="cpu", weights_only=True)["state_dict"]
    for name in ("video_gaussian.basis", "video_gaussian.mean", "audio_gaussian.eig", "audio_gaussian.rest"):
        assert torch.equal(after["ema." + name], state["ema." + name])
