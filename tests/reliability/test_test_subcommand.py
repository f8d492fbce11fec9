"""`seedkit test`: the joint model, the tokenizers and SyncNet-lite score their held-out test split as
test/*; the realism critic, which has none, says so in one line; `predict` is not offered (`seedkit
sample` generates)."""
import math
import re

import pytest
from runs import tiny_joint_args

from seedkit.cli import main
from seedkit.demo import config_path


def logged(out: str) -> dict[str, float]:
    """The metrics of the table Lightning prints after `trainer.test`."""
    return {k: float(v) for k, v in re.findall(r"(test/\w+)\s+([-+0-9.e]+)\s*$", out, re.M)}


def test_a_trained_joint_model_scores_the_test_split(tiny_tokenizers, tiny_joint_checkpoint, tmp_path, capsys):
    root = tiny_joint_checkpoint.parent.parent
    args = tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2)
    capsys.readouterr()
    assert main(["test", *args[1:], f"--ckpt_path={tiny_joint_checkpoint}", "--data.num_test=4",
                 "--model.val_samples=2", "--model.sampler={steps: 2}"]) == 0
    metrics = logged(capsys.readouterr().out)
    # the flow loss on the test scenes, and the sync of clips generated for their captions
    assert {"test/loss", "test/sample_event_f1", "test/sample_event_f1_over_chance"} <= set(metrics), metrics
    assert metrics["test/loss"] > 0 and 0 <= metrics["test/sample_event_f1"] <= 1


def test_test_and_validate_score_the_model_the_checkpoint_holds(tiny_joint_checkpoint, tmp_path, capsys):
    """Without its tokenizers and widths on the command line: they come from the checkpoint (the
    config's checkpoints/tokenizer_*_bounce.pt need not exist); options set on the command line win."""
    quiet = ["--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}", "--trainer.enable_progress_bar=false",
             f"--trainer.callbacks.init_args.dirpath={tmp_path / 'checkpoints'}"]
    for sub, split, n in (("test", "num_test", 4), ("validate", "num_val", 2)):
        capsys.readouterr()
        assert main([sub, "--config", config_path("joint_bounce.yaml"), f"--ckpt_path={tiny_joint_checkpoint}",
                     f"--data.{split}={n}", "--data.num_train=2", "--model.val_samples=2",
                     "--model.sampler={steps: 2}", *quiet]) == 0
        out = capsys.readouterr().out
        note = next(line for line in out.splitlines() if line.startswith(f"note: seedkit {sub} scores the model"))
        # the tokenizers and the tiny widths it was trained with; val_samples and sampler are the command line's
        assert "video_tokenizer=" in note and "audio_tokenizer=" in note and "model=" in note, note
        assert "val_samples" not in note and "sampler" not in note, note
        stage = "test" if sub == "test" else "val"
        assert f"{stage}/loss" in out and f"{stage}/sample_event_f1" in out, out[-2000:]


def test_a_tokenizer_scores_the_test_split(tmp_path, capsys):
    assert main(["test", "--config", config_path("tokenizer_video_bounce.yaml"), "--model.base_channels=8",
                 "--model.latent_channels=4", "--data.num_test=2", "--trainer.logger=false",
                 f"--trainer.default_root_dir={tmp_path}", "--trainer.enable_progress_bar=false"]) == 0
    metrics = logged(capsys.readouterr().out)
    assert {"test/loss", "test/psnr", "test/ssim"} <= set(metrics), metrics
    # an untrained tokenizer (7.4 dB, SSIM 0.004 measured): far from a copy, the PSNR its MSE implies
    assert 0 <= metrics["test/ssim"] < 0.3 and metrics["test/psnr"] < 15
    assert abs(metrics["test/psnr"] - 10 * math.log10(4 / metrics["test/mse"])) < 1.5  # video in [-1, 1]


def test_syncnet_scores_held_out_scenes_the_realism_critic_has_none_and_predict_is_not_offered(
        tiny_joint_checkpoint, tmp_path, capsys):
    quiet = ["--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}", "--trainer.enable_progress_bar=false"]
    # (the raw sound: a fresh clone has no trained audio tokenizer for the config's round trip)
    assert main(["test", "--config", config_path("syncnet_bounce.yaml"), "--data.num_test=4", "--data.batch_size=4",
                 "--data.audio_tokenizer=null", *quiet]) == 0
    out = capsys.readouterr().out
    assert {"test/loss", "test/offset_acc", "test/lse_c"} <= set(logged(out)), out[-2000:]
    # the demo's test scenes alone are drawn, no training ones
    said = next(line for line in out.splitlines() if line.startswith("SyncNet-lite bounce data:"))
    assert said.startswith("SyncNet-lite bounce data: 4 test scenes "), said  # the only split drawn
    assert main(["test", "--config", config_path("realism_bounce.yaml"), f"--data.joint={tiny_joint_checkpoint}",
                 *quiet]) == 2
    err = capsys.readouterr().err
    assert "seedkit test: RealismModule has no test split to score; `seedkit validate` scores its validation split" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as stop:  # argparse's own usage error
        main(["predict", "--config", config_path("joint_bounce.yaml")])
    assert stop.value.code == 2 and "invalid choice: 'predict'" in capsys.readouterr().err


def test_an_exported_tokenizer_is_scored_on_the_test_split(tmp_path, capsys):
    import torch

    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    torch.manual_seed(1)  # not the config's seed_everything 0, which a fresh tokenizer starts from
    VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8)).save_checkpoint(tmp_path / "v.pt")
    args = ["test", "--config", config_path("tokenizer_video_bounce.yaml"), "--model.base_channels=8",
            "--data.num_test=2", "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}",
            "--trainer.enable_progress_bar=false"]
    assert main([*args, "--model.latent_channels=4", f"--model.init_from={tmp_path / 'v.pt'}"]) == 0
    exported = logged(capsys.readouterr().out)
    assert main([*args, "--model.latent_channels=4"]) == 0  # a fresh tokenizer of the same shape
    fresh = logged(capsys.readouterr().out)
    assert exported["test/psnr"] != fresh["test/psnr"]  # the checkpoint's weights were scored, not new ones
    # options that do not build the checkpoint's architecture are refused, naming the difference
    assert main([*args, f"--model.init_from={tmp_path / 'v.pt'}"]) == 2
    err = capsys.readouterr().err
    assert "init_from" in err and "latent_channels=4 (here 16)" in err, err


def test_an_exported_syncnet_is_scored_on_the_test_scenes(tmp_path, capsys):
    import torch

    from seedkit.metrics.syncnet import SyncNetConfig, SyncNetLite, save_syncnet

    torch.manual_seed(1)
    save_syncnet(SyncNetLite(SyncNetConfig(width=16, dim=16, max_shift=6, fps=16.0, hop=250)), tmp_path / "s.pt")
    args = ["test", "--config", config_path("syncnet_bounce.yaml"), "--data.num_test=4", "--data.batch_size=4",
            "--data.audio_tokenizer=null", "--model.width=16", "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}",
            "--trainer.enable_progress_bar=false"]
    assert main([*args, "--model.dim=16", f"--model.init_from={tmp_path / 's.pt'}"]) == 0
    exported = logged(capsys.readouterr().out)
    assert main([*args, "--model.dim=16"]) == 0
    assert exported["test/loss"] != logged(capsys.readouterr().out)["test/loss"]  # the file's weights were scored
    assert main([*args, f"--model.init_from={tmp_path / 's.pt'}"]) == 2
    err = capsys.readouterr().err
    assert "init_from" in err and "dim=16 (here 64)" in err, err  # syncnet_bounce.yaml: dim 64


def test_the_model_options_a_command_line_sets_itself():
    from seedkit.training_cli import command_line_model_keys

    argv = ["test", "--config", "c.yaml", "--model.sampler={steps: 2}", "--model.init_args.val_samples=2",
            "--model.flow.p_bridge_off", "0.2", "--data.num_test=4", "--ckpt_path=x.ckpt"]
    assert command_line_model_keys(argv) == {"sampler", "val_samples", "flow"}
    assert command_line_model_keys(["test", "--model", "m.yaml"]) is None  # the whole model: nothing taken
    assert command_line_model_keys(["test", "--model=m.yaml"]) is None
    assert command_line_model_keys(["test", "--config", "c.yaml"]) == set()
