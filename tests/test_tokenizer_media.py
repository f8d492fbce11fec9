"""A tokenizer's validation reconstructions reach the CSV logger of the shipped configs as files."""
import json

import pytest

from seedkit import media
from seedkit.demo import config_path
from seedkit.training_cli import run


@pytest.mark.parametrize("modality, small, files", [
    ("video", ["--model.base_channels=8", "--model.latent_channels=4"], ["clip_0.mp4", "clip_1.mp4", "frames_0.png"]),
    ("audio", ["--model.hidden_channels=16", "--model.latent_channels=4", "--model.griffin_lim_clips=0"],
     ["mel_0.png", "audio_0.mp4", "audio_orig_1.mp4"]),
])
def test_validation_reconstructions_are_written_into_the_csv_loggers_folder(tmp_path, modality, small, files):
    logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(tmp_path)}}
    run(["fit", "--config", config_path(f"tokenizer_{modality}_bounce.yaml"), *small, "--trainer.max_steps=2",
         "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", "--trainer.num_sanity_val_steps=0",
         f"--trainer.logger={json.dumps(logger)}", f"--trainer.default_root_dir={tmp_path}",
         f"--model.export_path={tmp_path / 'tok.pt'}", "--trainer.enable_progress_bar=false"])
    folder = next(tmp_path.glob("*/version_*/samples/val_step000002"))  # <name>: the config's, e.g. video_bounce
    assert sorted(files) == sorted(f for f in files if (folder / f).stat().st_size > 1000)
    if modality == "video":  # original | reconstruction side by side, with the clip's sound
        clip = media.read(folder / "clip_0.mp4")
        assert clip.frames.shape == (32, 32, 64, 3) and clip.waveform.shape[-1] > 16000
    else:
        assert media.read(folder / "audio_0.mp4", require_video=False).sample_rate == 16000
