"""Tokenizer checkpoints: plain dicts, identical outputs after reload, clear errors otherwise."""
import pytest
import torch

from seedkit.tokenizers import AudioAutoencoder, CheckpointError, VideoAutoencoder


def test_video_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    ae = VideoAutoencoder(latent_channels=4, base_channels=8).eval()
    ae.set_latent_stats(0.3, 1.7)
    path = ae.save_checkpoint(tmp_path / "v.pt")
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "video_autoencoder" and payload["latent_scale"] == pytest.approx(1.7)
    loaded = VideoAutoencoder.from_checkpoint(path)
    video = torch.rand(1, 8, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded.encode(video), ae.encode(video))
        z = ae.encode(video)
        assert torch.equal(loaded.decode(z), ae.decode(z))
    assert loaded.config == ae.config


def test_audio_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    ae = AudioAutoencoder(hidden_channels=32, latent_channels=8).eval()
    ae.set_latent_stats(-0.2, 2.5)
    path = ae.save_checkpoint(tmp_path / "a.pt")
    loaded = AudioAutoencoder.from_checkpoint(path)
    audio = torch.randn(2, 1, 8000) * 0.1
    with torch.no_grad():
        assert torch.equal(loaded.encode(audio), ae.encode(audio))
        assert torch.equal(loaded.decode(ae.encode(audio)), ae.decode(ae.encode(audio)))


def test_missing_checkpoint_names_the_file_and_the_kind(tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.pt.*video_autoencoder"):
        VideoAutoencoder.from_checkpoint(tmp_path / "nope.pt")


def test_checkpoint_of_the_wrong_kind_is_refused(tmp_path):
    path = AudioAutoencoder(hidden_channels=32).save_checkpoint(tmp_path / "audio.pt")
    with pytest.raises(CheckpointError, match=r"audio\.pt.*'audio_autoencoder'.*expected 'video_autoencoder'"):
        VideoAutoencoder.from_checkpoint(path)


def test_checkpoint_whose_weights_do_not_fit_the_architecture_is_refused(tmp_path):
    """E.g. a video tokenizer saved by an older seedkit with another layer layout."""
    from seedkit.tokenizers.checkpoint import save_plain_checkpoint
    from seedkit.tokenizers.video import VideoAutoencoderConfig

    from seedkit.demo import _loads
    from seedkit.tokenizers.audio import AudioAutoencoderConfig

    old = {"encoder.net.0.weight": torch.zeros(8, 24, 3, 3, 3)}
    path = save_plain_checkpoint(tmp_path / "old.pt", "video_autoencoder", VideoAutoencoderConfig(), old, 0.0, 1.0)
    with pytest.raises(CheckpointError, match=r"old\.pt: weights do not fit.*Retrain"):
        VideoAutoencoder.from_checkpoint(path)
    # every weight there but one of another shape (a layer widened since), and an audio tokenizer missing one
    wide = VideoAutoencoder(base_channels=8).state_dict()
    name = next(k for k, v in wide.items() if v.ndim == 5)
    wide[name] = torch.zeros(wide[name].shape[0] + 1, *wide[name].shape[1:])
    shaped = save_plain_checkpoint(tmp_path / "shape.pt", "video_autoencoder", VideoAutoencoderConfig(base_channels=8),
                                   wide, 0.0, 1.0)
    audio = AudioAutoencoder(hidden_channels=32).state_dict()
    audio.pop(next(k for k in audio if k.endswith("weight")))
    short = save_plain_checkpoint(tmp_path / "audio.pt", "audio_autoencoder", AudioAutoencoderConfig(hidden_channels=32),
                                  audio, 0.0, 1.0)
    with pytest.raises(CheckpointError, match=rf"shape\.pt: weights do not fit.*{name}.*Retrain"):
        VideoAutoencoder.from_checkpoint(shaped)
    with pytest.raises(CheckpointError, match=r"audio\.pt: weights do not fit.*missing.*Retrain.*tokenizer_audio_"):
        AudioAutoencoder.from_checkpoint(short)
    # so `seedkit demo` sets each aside and retrains it instead of stopping
    assert not _loads("video", shaped) and not _loads("audio", short)
    assert _loads("audio", AudioAutoencoder(hidden_channels=32).save_checkpoint(tmp_path / "fresh.pt"))


def test_foreign_file_is_refused_clearly(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pt.*audio_autoencoder"):
        AudioAutoencoder.from_checkpoint(junk)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match=r"plain\.pt.*no 'kind'"):
        AudioAutoencoder.from_checkpoint(plain)


def test_save_is_atomic_and_leaves_no_partial_files(tmp_path, monkeypatch):
    """A save that dies half-way leaves the previous file as it was, and no partial file beside it."""
    import seedkit.tokenizers.checkpoint as checkpoint

    first = VideoAutoencoder(base_channels=8)
    first.save_checkpoint(tmp_path / "sub" / "v.pt")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["v.pt"]

    def dies_half_way(payload, f):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        VideoAutoencoder(base_channels=8).save_checkpoint(tmp_path / "sub" / "v.pt")
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["v.pt"]
    loaded = VideoAutoencoder.from_checkpoint(tmp_path / "sub" / "v.pt")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), first.state_dict().values()))


def test_unknown_video_loss_is_refused():
    from seedkit.tokenizers.lit import TokenizerModule

    with pytest.raises(ValueError, match="video_loss must be 'mse' or 'l1\\+mse', got 'l2'"):
        TokenizerModule(modality="video", base_channels=8, video_loss="l2")


@pytest.mark.parametrize("name", ["video_bounce", "audio_bounce", "video_grid", "audio_grid"])
def test_shipped_tokenizer_configs_build_their_model(name):
    """Every shipped YAML names a TokenizerModule whose arguments exist and build a tokenizer."""
    from pathlib import Path

    import yaml

    from seedkit.tokenizers.lit import TokenizerModule

    path = Path(__file__).parents[1] / "seedkit" / "configs" / f"tokenizer_{name}.yaml"
    cfg = yaml.safe_load(path.read_text())
    assert cfg["model"]["class_path"] == "seedkit.tokenizers.lit.TokenizerModule"
    assert cfg["data"]["class_path"] == "seedkit.data.AVDataModule"
    module = TokenizerModule(**cfg["model"]["init_args"])
    assert module.hparams.modality == name.split("_")[0]
    if module.hparams.modality == "video":  # the latent grid is 8x8 on both datasets
        size = cfg["data"]["init_args"]["size"]
        assert size // module.tokenizer.space_down == 8
    assert module.hparams.export_path.startswith("checkpoints/")


def test_fit_prints_the_rate_table_and_exports_a_loadable_checkpoint(tmp_path, capsys):
    """`seedkit fit` on a tokenizer config: the tokens/s table is printed when training starts, and
    the exported checkpoint carries the measured latent shift/scale."""
    import lightning as L

    from seedkit.data import AVDataModule
    from seedkit.tokenizers.lit import TokenizerModule

    torch.manual_seed(0)
    dm = AVDataModule(batch_size=2, num_train=4, num_val=2, num_frames=8, size=16)
    module = TokenizerModule(modality="video", latent_channels=4, base_channels=8,
                             export_path=str(tmp_path / "v.pt"), stats_batches=1)
    trainer = L.Trainer(max_steps=2, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, datamodule=dm)
    out = capsys.readouterr().out
    assert "tokens/s" in out and "video latents" in out and "compression" in out
    loaded = VideoAutoencoder.from_checkpoint(tmp_path / "v.pt")
    assert loaded.latent_scale.item() != 1.0  # measured on training batches, not the default
    batch = next(iter(dm.val_dataloader()))
    with torch.no_grad():
        assert torch.equal(loaded.encode(batch["video"]), module.tokenizer.eval().encode(batch["video"]))


def test_decoder_of_trains_the_decoder_alone_and_keeps_what_the_latents_mean(tmp_path, capsys):
    """`decoder_of`: a second fit changes only the decoder; the encoder, and so every latent a joint
    model was trained on, and the latent normalisation are the checkpoint's own."""
    import lightning as L

    from seedkit.data import AVDataModule
    from seedkit.tokenizers.lit import TokenizerModule

    torch.manual_seed(0)
    dm = AVDataModule(batch_size=2, num_train=4, num_val=2, num_frames=8, size=16)
    opts = dict(modality="video", latent_channels=4, base_channels=8, kl_weight=0.01, stats_batches=1)

    def fit(module):
        L.Trainer(max_steps=3, limit_val_batches=0, logger=False, enable_checkpointing=False,
                  enable_progress_bar=False, enable_model_summary=False).fit(module, datamodule=dm)

    fit(TokenizerModule(**opts, export_path=str(tmp_path / "v.pt")))
    module = TokenizerModule(**opts, export_path=str(tmp_path / "v2.pt"), decoder_of=str(tmp_path / "v.pt"))
    fit(module)
    assert module.tokenizer.encoder.training is False and module.tokenizer.decoder.training  # the frozen half in eval
    assert f"latent stats kept from {tmp_path / 'v.pt'}" in capsys.readouterr().out
    before, after = (VideoAutoencoder.from_checkpoint(tmp_path / n) for n in ("v.pt", "v2.pt"))
    a, b = before.state_dict(), after.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("decoder."))  # encoder and latent stats
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("decoder."))  # the decoder trained
    batch = next(iter(dm.val_dataloader()))
    with torch.no_grad():
        z = before.encode(batch["video"])
        assert torch.equal(after.encode(batch["video"]), z)
        assert not torch.allclose(after.decode(z), before.decode(z))
    # the checkpoint's own architecture options are required, named in the error; video only
    with pytest.raises(ValueError, match="decoder_of=.*kl_weight=0.01 \\(here 0.0\\)"):
        TokenizerModule(**{**opts, "kl_weight": 0.0}, decoder_of=str(tmp_path / "v.pt"))
    with pytest.raises(ValueError, match="decoder_of is for the .*video tokenizer"):
        TokenizerModule(modality="audio", decoder_of=str(tmp_path / "v.pt"))
