"""`seedkit fit --model.video_whitening A`: the whitening is fitted once on the training clips when
training starts, saved in every checkpoint, kept on resume, and undone before the decoder."""
import pytest
import torch
from runs import fit_in_process, tiny_joint_args

from seedkit.lit import export_ema, load_joint


def test_whitening_is_fitted_once_kept_on_resume_and_undone_for_sampling(tiny_tokenizers, tmp_path, capsys):
    root = tmp_path / "run"
    args = [*tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2), "--model.video_whitening=1.0",
            "--model.whitening_rank=8", "--model.whitening_fit_clips=4",
            "--trainer.callbacks.init_args.save_top_k=-1"]
    fit_in_process(args)
    assert "video whitening: alpha 1.0, rank 8, fitted on 4 training clips" in capsys.readouterr().out
    (first,) = (root / "checkpoints").glob("*-step=2.ckpt")
    state = torch.load(first, map_location="cpu", weights_only=True)["state_dict"]
    assert bool(state["video_whitening.fitted"]) and float(state["video_whitening.rho"]) > 0
    fit_in_process([*args, "--trainer.max_steps=4", "--ckpt_path=last"])
    assert "video whitening:" not in capsys.readouterr().out
    (resumed,) = (root / "checkpoints").glob("*-step=4.ckpt")
    after = torch.load(resumed, map_location="cpu", weights_only=True)["state_dict"]
    for name in ("basis", "mean", "gain"):
        assert torch.equal(after["video_whitening." + name], state["video_whitening." + name])

    model = load_joint(str(resumed))
    assert bool(model.video_whitening.fitted) and model.hparams.video_whitening == 1.0
    video = torch.rand(2, model.spec.num_frames, 3, model.spec.size, model.spec.size) * 2 - 1
    z = model.video_tok.encode(video)
    assert torch.allclose(model.unwhiten(model.whiten(z)), z, atol=1e-4)
    assert not torch.allclose(model.whiten(z), z, atol=1e-3)
    # v2a given a clip: the given video enters whitened and is carried through the sampler, and
    # comes back through the inverse: the decoder draws the tokenizer's own round trip of it
    out_video, out_audio = model.generate("v2a", video=video, n=2)
    round_trip, _ = model.decode(z, torch.zeros(2, model.model_config.audio_length, model.model_config.audio_channels))
    assert torch.allclose(out_video, round_trip, atol=1e-3) and torch.isfinite(out_audio).all()

    # the sampling file (EMA weights alone) carries the fitted whitening; one without it is refused
    ema_only = tmp_path / "ema.pt"
    export_ema(resumed, ema_only)
    assert torch.equal(load_joint(str(ema_only)).whiten(z), model.whiten(z))
    stripped = torch.load(ema_only, map_location="cpu", weights_only=True)
    del stripped["video_whitening_state_dict"]
    torch.save(stripped, ema_only)
    with pytest.raises(ValueError, match="holds no fitted whitening"):
        load_joint(str(ema_only))


def test_whitening_and_gaussian_skip_are_fitted_from_one_fetch(tiny_tokenizers, tmp_path, capsys):
    """Both fits read the same first training clips; the Gaussian skip fits the whitened latents."""
    from runs import TINY_DIT

    root = tmp_path / "both"
    model = TINY_DIT[:-1] + ', "gaussian_skip": 8, "gaussian_fit_clips": 6}'
    fit_in_process([*tiny_joint_args(tiny_tokenizers, root, max_steps=1, every=1), f"--model.model={model}",
                    "--model.video_whitening=0.5", "--model.whitening_rank=8", "--model.whitening_fit_clips=4"])
    out = capsys.readouterr().out
    assert "video whitening: alpha 0.5, rank 8, fitted on 4 training clips" in out
    assert "gaussian skip: fitted rank 8 on 6 training clips" in out
    state = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    assert bool(state["video_whitening.fitted"]) and bool(state["ema.video_gaussian.fitted"])
