"""Bad inputs to every command: one line `seedkit: error: ...` naming the problem and what is accepted,
exit code 2, no traceback. (Sampling prompts and missing/foreign checkpoints for `sample` are in
tests/test_demo_and_sample.py; `data prepare/download` options in tests/test_grid_cli.py.)"""
import numpy as np
import pytest
import torch
from runs import tiny_joint_args

from seedkit import media
from seedkit.cli import main


def run_user_error(argv, capsys) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.startswith("seedkit: error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, captured.err[-3000:]
    return lines[0]


# ----------------------------------------------------------------------------------------------
# seedkit fit / validate


@pytest.mark.parametrize("extra, message", [
    (["--model.lrr=3"], "model (seedkit.lit.JointAV): unknown option 'lrr' (did you mean 'lr'?)"),
    (["--trainer.max_stepz=3"], "unknown option --trainer.max_stepz"),
    (["--model.lr=fast"], "config error in model.lr (seedkit.lit.JointAV): expected float, got fast"),
    (["--trainer.max_steps=1.5"], "config error in trainer.max_steps: expected int, got 1.5"),
    (["--trainer.precision=bf16-true"], "--trainer.precision bf16-true: JointAV trains in 32-true, bf16-mixed, "
                                        "16-mixed"),
    (["--data.dataset=mnist"], "data.dataset (seedkit.data.AVDataModule): expected typing.Literal['bounce', 'grid']"),
    (['--model.model={"video_dimm": 8}'], "unexpected keyword argument 'video_dimm'"),
    (['--model.model={"video_dim": "wide"}'], "DualTowerConfig.video_dim='wide': expected int"),
    (['--model.flow={"p_clean_video": "high"}'], "FlowConfig.p_clean_video='high': expected a number"),
    (['--model.sampler={"steps": 2.5}'], "SamplerConfig.steps=2.5: expected int"),
    (["--model.lr=-1"], "JointAV(lr=-1.0): expected > 0"),
    (["--model.ema_decay=1.5"], "JointAV(ema_decay=1.5): expected 0 <= ema_decay < 1"),
    (["--model.warmup_steps=-5"], "JointAV(warmup_steps=-5): expected >= 0"),
    (["--data.batch_size=0"], "AVDataModule(batch_size=0): expected >= 1"),
    (["--data.num_train=0"], "the train split is empty (--data.num_train 0): training needs clips"),
    (["--model.video_tokenizer=/nonexistent/video.pt"], "/nonexistent/video.pt: no such checkpoint file"),
    (["--ckpt_path=/nonexistent/last.ckpt"], "--ckpt_path /nonexistent/last.ckpt: no such checkpoint file"),
])
def test_fit_with_a_bad_option(tiny_tokenizers, tmp_path, capsys, extra, message):
    line = run_user_error(tiny_joint_args(tiny_tokenizers, tmp_path) + extra, capsys)
    assert message in line, line


@pytest.mark.parametrize("config, extra, message", [
    ("tokenizer_video_bounce.yaml", ["--model.lr=0"], "TokenizerModule(lr=0.0): expected > 0"),
    ("tokenizer_audio_bounce.yaml", ["--model.kl_weight=-1"], "TokenizerModule(kl_weight=-1.0): expected >= 0"),
    ("syncnet_bounce.yaml", ["--data.batch_size=0"], "BounceSyncData(batch_size=0): expected >= 1"),
    ("syncnet_grid.yaml", ["--model.warmup_steps=-1"], "SyncNetModule(warmup_steps=-1): expected >= 0"),
    ("syncnet_grid.yaml", ["--data.limit_train=0"], "GridSyncData(limit_train=0): expected >= 1"),  # 0 read as all
    ("realism_bounce.yaml", ["--model.lr=-0.1"], "RealismModule(lr=-0.1): expected > 0"),
])
def test_every_training_config_refuses_an_option_out_of_range(config, extra, message, tmp_path, capsys):
    from seedkit.demo import config_path

    line = run_user_error(["fit", "--config", config_path(config), f"--trainer.default_root_dir={tmp_path}", *extra],
                          capsys)
    assert message in line, line


def test_an_export_path_the_end_of_fit_could_not_write_is_refused_before_training(tmp_path, capsys):
    from seedkit.demo import config_path

    (tmp_path / "taken.mp4").write_bytes(b"not a folder")
    for config, path, message in [
            ("tokenizer_video_bounce.yaml", tmp_path / "taken.mp4" / "video.pt",
             f"TokenizerModule(export_path={tmp_path / 'taken.mp4' / 'video.pt'}): {tmp_path / 'taken.mp4'} is a file"),
            ("syncnet_bounce.yaml", tmp_path, f"SyncNetModule(export_path={tmp_path}): is a folder"),
            ("realism_bounce.yaml", tmp_path, f"RealismModule(export_path={tmp_path}): is a folder")]:
        line = run_user_error(["fit", "--config", config_path(config), f"--trainer.default_root_dir={tmp_path}",
                               f"--model.export_path={path}"], capsys)
        assert message in line, line


def test_fit_with_an_unknown_key_in_the_yaml_names_it_and_the_accepted_ones(tiny_tokenizers, tmp_path, capsys):
    bad = tmp_path / "typo.yaml"
    bad.write_text("model:\n  init_args:\n    ema_decai: 0.99\n")
    line = run_user_error(tiny_joint_args(tiny_tokenizers, tmp_path) + ["--config", str(bad)], capsys)
    assert "model (seedkit.lit.JointAV): unknown option 'ema_decai' (did you mean 'ema_decay'?)" in line
    assert "accepted: video_tokenizer, audio_tokenizer" in line
    bad.write_text("trainr:\n  max_steps: 3\n")
    line = run_user_error(tiny_joint_args(tiny_tokenizers, tmp_path) + ["--config", str(bad)], capsys)
    assert "'trainr.max_steps'" in line
    line = run_user_error(["fit", "--config", str(tmp_path / "missing.yaml")], capsys)
    assert "missing.yaml" in line and "does not exist" in line
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\xff\xfe")
    (tmp_path / "broken.yaml").write_text("trainer: {max_steps: [\n")
    for argv, message in [(["--config", str(tmp_path / "clip.mp4")], "clip.mp4: not a text file; expected a YAML"),
                          ([f"--config={tmp_path / 'broken.yaml'}"], "broken.yaml: not valid YAML (")]:
        line = run_user_error(tiny_joint_args(tiny_tokenizers, tmp_path) + argv, capsys)
        assert message in line, line


def test_fit_and_validate_refuse_a_checkpoint_of_another_kind(tiny_tokenizers, tmp_path, capsys):
    video, _ = tiny_tokenizers
    line = run_user_error(tiny_joint_args(tiny_tokenizers, tmp_path) + [f"--ckpt_path={video}"], capsys)
    assert f"--ckpt_path {video}: is a video_autoencoder checkpoint, expected a seedkit.lit.JointAV" in line
    tokenizer_run = tmp_path / "tokenizer.ckpt"  # a Lightning checkpoint, but of the tokenizer module
    torch.save({"state_dict": {}, "pytorch-lightning_version": "2.6.6", "global_step": 3,
                "hyper_parameters": {"_class_path": "seedkit.tokenizers.lit.TokenizerModule"}}, tokenizer_run)
    for command in ("fit", "validate"):
        args = tiny_joint_args(tiny_tokenizers, tmp_path)
        args[0] = command
        line = run_user_error(args + [f"--ckpt_path={tokenizer_run}"], capsys)
        assert "holds a seedkit.tokenizers.lit.TokenizerModule checkpoint, but the config trains " \
               "seedkit.lit.JointAV" in line, line


# ----------------------------------------------------------------------------------------------
# seedkit sample


def write_tone(path, seconds, rate, channels):
    t = np.arange(int(seconds * rate)) / rate
    wav = np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)]).astype(np.float32)
    media.write(path, None, wav, None, rate)
    return path


def capture_given(monkeypatch) -> dict:
    """The keyword arguments `seedkit sample` hands the model's `generate` (the given streams)."""
    from seedkit.lit import JointAV

    seen: dict = {}
    original = JointAV.generate

    def spy(self, mode="joint", *args, **kwargs):
        seen.update(kwargs)
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(JointAV, "generate", spy)
    return seen


@pytest.mark.parametrize("seconds, rate, channels, notes", [
    (3.1, 44100, 2, ["44100 Hz, 2 channel(s); resampled to 16000 Hz mono", "cut to 2.00 s"]),
    (0.7, 8000, 1, ["8000 Hz, 1 channel(s); resampled to 16000 Hz mono", "padded with silence to 2.00 s"]),
])
def test_a2v_audio_of_another_rate_channels_and_length_is_adapted_with_a_note(
        tiny_joint_checkpoint, tmp_path, capsys, monkeypatch, seconds, rate, channels, notes):
    audio = write_tone(tmp_path / "given.m4a", seconds, rate, channels)
    seen = capture_given(monkeypatch)
    assert main(["sample", "--ckpt", str(tiny_joint_checkpoint), "--mode", "a2v", "--audio", str(audio),
                 "--n", "1", "--steps", "1", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    for note in notes:
        assert note in out, out
    given = seen["audio"][0, 0].numpy()  # what the model was given: the tone, at 16 kHz, 2 s long
    assert given.shape == (32000,)
    spectrum = np.abs(np.fft.rfft(given[:8000]))  # 2 Hz bins
    peak_hz = np.argmax(spectrum) * 16000 / 8000
    assert min(abs(peak_hz - f) for f in (220, 330)[:channels]) <= 4, peak_hz
    if seconds < 2:
        assert np.abs(given[int((seconds + 0.1) * 16000):]).max() == 0  # padded with silence
    clip = media.read(tmp_path / "out" / "a2v_000.mp4")
    assert clip.sample_rate == 16000 and clip.waveform.shape[0] == 1


def test_v2a_video_of_another_size_rate_and_length_is_adapted_with_a_note(tiny_joint_checkpoint, tmp_path, capsys,
                                                                         monkeypatch):
    video = tmp_path / "given.mp4"  # 2.5 s of 64x48 at 30 fps: 40 frames at 16 fps, cut to the clip's 32
    frames = np.full((75, 48, 64, 3), 90, np.uint8)
    frames[:, :, :32] = 200  # left half bright: kept left after the scaling
    media.write(video, frames, None, 30.0, 16000)
    seen = capture_given(monkeypatch)
    assert main(["sample", "--ckpt", str(tiny_joint_checkpoint), "--mode", "v2a", "--video", str(video),
                 "--n", "1", "--steps", "1", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    for note in ["given.mp4 is 64x48; scaled to 32x32, the whole frame (aspect not kept)",
                 "given.mp4 is 30 fps; resampled to 16 fps", "cut to 2.00 s"]:
        assert note in out, out
    clip = media.read(tmp_path / "out" / "v2a_000.mp4")
    assert clip.frames.shape == (32, 32, 32, 3) and clip.fps == 16.0
    given = (seen["video"][0] + 1) * 127.5  # what the model was given: [T, 3, H, W] back to 0-255
    assert given.shape == (32, 3, 32, 32)
    assert (given[..., 2:14] - 200).abs().max() < 12 and (given[..., 18:30] - 90).abs().max() < 12
    media.write(video, np.full((16, 32, 32, 3), 90, np.uint8), None, 16.0, 16000)  # 1 s: padded
    assert main(["sample", "--ckpt", str(tiny_joint_checkpoint), "--mode", "v2a", "--video", str(video),
                 "--n", "1", "--steps", "1", "--out", str(tmp_path / "out")]) == 0
    assert "given.mp4 is 1.00 s, the model's clip is 2.00 s: padded (its last frame held) to 2.00 s" in capsys.readouterr().out


def test_sample_bad_inputs(tiny_joint_checkpoint, tmp_path, capsys):
    ckpt = str(tiny_joint_checkpoint)
    silent = tmp_path / "silent.mp4"
    media.write(silent, np.zeros((8, 32, 32, 3), np.uint8), None, 16.0, 16000)
    tone = write_tone(tmp_path / "tone.m4a", 1.0, 16000, 1)
    cases = [
        (["--mode", "a2v"], "--mode a2v needs --audio FILE"),
        (["--mode", "a2v", "--audio", str(tmp_path / "none.wav")], "none.wav: no such file"),
        (["--mode", "a2v", "--audio", str(silent)], "silent.mp4: has no audio stream"),
        (["--mode", "v2a", "--video", str(tone)], "tone.m4a: has no video stream"),
        (["--mode", "joint", "--text", "   "], "--text is empty"),
        (["--mode", "a2v", "--audio", str(tone), "--text", "red unicorn"], "'unicorn' is not in the vocabulary"),
        (["--mode", "joint", "--text", "red ball", "--steps", "0"], "--steps must be at least 1"),
        (["--mode", "joint", "--text", "red ball", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["--mode", "unconditional", "--text", "red ball"], "--mode unconditional does not read --text"),
        (["--mode", "a2v", "--audio", str(tone), "--video", str(silent)], "--mode a2v does not read --video"),
        (["--mode", "joint", "--text", "red ball", "--audio", str(tone)], "--mode joint does not read --audio"),
    ]
    for extra, message in cases:
        line = run_user_error(["sample", "--ckpt", ckpt, *extra, "--out", str(tmp_path / "o")], capsys)
        assert message in line, (extra, line)


# ----------------------------------------------------------------------------------------------
# seedkit data / model


def test_data_prepare_bad_inputs(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    line = run_user_error(["data", "prepare", "grid", "--source", str(tmp_path / "empty"),
                           "--cache", str(tmp_path / "c")], capsys)
    assert "no clips found" in line
    line = run_user_error(["data", "prepare", "grid", "--source", str(tmp_path / "empty"), "--size", "4",
                           "--cache", str(tmp_path / "c")], capsys)
    assert "--size must be at least 8" in line
    line = run_user_error(["data", "prepare", "grid", "--source", str(tmp_path / "empty"), "--limit", "-3",
                           "--cache", str(tmp_path / "c")], capsys)
    assert "--limit must be >= 0" in line


@pytest.mark.parametrize("argv", [["data", "preview", "bounce", "--n", "1"], ["sample", "--ckpt", "c.ckpt"],
                                  ["evaluate", "--clips", "."], ["ablate", "a.yaml"]])
def test_a_negative_seed_is_refused_by_every_command(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's usage error, before anything runs
        main([*argv, "--seed", "-1", "--out", str(tmp_path / "o")])
    assert stop.value.code == 2
    assert "argument --seed: expected an integer >= 0, got -1" in capsys.readouterr().err


def test_an_out_folder_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "taken.mp4").write_bytes(b"not a folder")
    for argv in (["data", "preview", "bounce", "--n", "2", "--out", str(tmp_path / "taken.mp4")],
                 ["demo", "--tiny", "--out", str(tmp_path / "taken.mp4" / "inside")]):
        line = run_user_error(argv, capsys)
        assert f"{tmp_path / 'taken.mp4'} is a file; expected a folder" in line, line


def test_model_summary_bad_inputs(tmp_path, capsys):
    cfg = tmp_path / "model.yaml"
    cfg.write_text("preset: bounce\nvideo_dimm: 64\n")
    line = run_user_error(["model", "summary", "--config", str(cfg)], capsys)
    assert "video_dimm" in line
    line = run_user_error(["model", "summary", "--config", str(tmp_path / "none.yaml")], capsys)
    assert "none.yaml does not exist" in line
    (tmp_path / "broken.yaml").write_text("video_dim: [128\n")
    line = run_user_error(["model", "summary", "--config", str(tmp_path / "broken.yaml")], capsys)
    assert "broken.yaml: not valid YAML (" in line, line


def test_model_summary_with_a_wrong_type(tmp_path, capsys):
    cfg = tmp_path / "model.yaml"
    cfg.write_text("preset: bounce\nvideo_dim: wide\naligned_rope: 1\n")
    line = run_user_error(["model", "summary", "--config", str(cfg)], capsys)
    assert "DualTowerConfig.video_dim='wide': expected int" in line, line
    assert "DualTowerConfig.aligned_rope=1: expected bool" in line, line


# ----------------------------------------------------------------------------------------------
# seedkit evaluate


def test_evaluate_bad_inputs(tiny_tokenizers, tiny_joint_checkpoint, tmp_path, capsys):
    video, _ = tiny_tokenizers
    (tmp_path / "empty").mkdir()
    wrong_fps = tmp_path / "clips"
    wrong_fps.mkdir()
    media.write(wrong_fps / "a.mp4", np.zeros((25, 32, 32, 3), np.uint8), np.zeros((1, 16000), np.float32),
                25.0, 16000)
    cases = [
        ([], "evaluate needs --ckpt"),
        (["--ckpt", str(tmp_path / "none.ckpt")], "none.ckpt does not exist"),
        (["--ckpt", str(video)], "video_autoencoder checkpoint, expected a JointAV"),
        (["--clips", str(tmp_path / "empty")], "no .mp4 files there"),
        (["--clips", str(wrong_fps)], "25 fps, the evaluation expects 16 fps"),
        (["--ckpt", str(tiny_joint_checkpoint), "--n", "1"], "--n must be at least 2"),
        (["--ckpt", str(tiny_joint_checkpoint), "--steps", "0"], "--steps must be at least 1"),
    ]
    for extra, message in cases:
        line = run_user_error(["evaluate", *extra, "--out", str(tmp_path / "o")], capsys)
        assert message in line, (extra, line)


@pytest.mark.slow
def test_python_dash_m_seedkit_cli_reports_user_errors_of_every_module(tmp_path):
    """`python -m seedkit.cli` runs cli.py as __main__; errors raised by other modules (which import
    seedkit.cli.UserError) must still be one line and exit 2."""
    import subprocess
    import sys

    from runs import seedkit_env

    (tmp_path / "empty").mkdir()
    out = subprocess.run([sys.executable, "-m", "seedkit.cli", "evaluate", "--clips", str(tmp_path / "empty"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True, env=seedkit_env())
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "seedkit: error: --clips" in out.stderr
