"""The validation's generated clips reach the logger: with the CSV logger of the shipped configs, as
mp4s with sound and a contact sheet in its folder (W&B gets the same as videos and an image)."""
import json

from runs import fit_in_process, tiny_joint_args

from seedkit import media


def test_validation_samples_are_written_into_the_csv_loggers_folder(tiny_tokenizers, tmp_path):
    logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(tmp_path / "logs")}}
    fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path, max_steps=2, every=2) + [
        f"--trainer.logger={json.dumps(logger)}", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2",
        "--model.val_samples=2", "--model.sampler={steps: 2}"])
    folders = list((tmp_path / "logs").glob("lightning_logs/version_*/samples/val_step000002"))
    assert len(folders) == 1, list((tmp_path / "logs").rglob("*"))
    clip = media.read(folders[0] / "sample_1.mp4")
    assert clip.frames.shape == (32, 32, 32, 3) and clip.sample_rate == 16000
    assert (folders[0] / "contact_sheet.png").stat().st_size > 10_000
    assert not (folders[0] / "sample_2.mp4").exists()  # val_samples clips, no more


def test_no_logger_no_files(tiny_tokenizers, tmp_path):
    fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path, max_steps=2, every=2) + [
        "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2", "--model.val_samples=2",
        "--model.sampler={steps: 2}"])
    assert not list(tmp_path.rglob("samples"))


def test_validation_samples_reach_wandb_as_videos_and_a_sheet(tiny_tokenizers, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    logger = {"class_path": "lightning.pytorch.loggers.WandbLogger",
              "init_args": {"save_dir": str(tmp_path), "project": "seedkit-test", "offline": True}}
    fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path / "run", max_steps=2, every=2) + [
        f"--trainer.logger={json.dumps(logger)}", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2",
        "--model.val_samples=2", "--model.sampler={steps: 2}"])
    import wandb

    wandb.finish()
    media_dir = next(tmp_path.glob("wandb/offline-run-*/files/media"))
    assert len(list(media_dir.glob("videos/val/samples_*.mp4"))) == 2
    assert len(list(media_dir.glob("images/val/samples_sheet_*.png"))) == 1
