"""Latent caching: clips encoded once give the batches that encoding every step gives."""
import lightning as L
import pytest
import torch

from seedkit.data import AVDataModule
from seedkit.data.latents import LatentClips, cached_latents, encode_split, latent_key
from seedkit.lit import JointAV
from seedkit.tokenizers.audio import AudioAutoencoder
from seedkit.tokenizers.video import VideoAutoencoder

TINY_MODEL = {"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32, "audio_depth": 1,
              "audio_heads": 2, "text_dim": 16}


@pytest.fixture(scope="module")
def tokenizers(tiny_tokenizer_paths):
    v, a = tiny_tokenizer_paths
    return VideoAutoencoder.from_checkpoint(v).eval(), AudioAutoencoder.from_checkpoint(a).eval()


def _bounce(tmp_path, **kw):
    return AVDataModule("bounce", batch_size=4, num_train=12, num_val=4, num_test=4,
                        latent_dir=str(tmp_path / "latents"), **kw)


def test_latent_key_follows_weights_and_settings(tokenizers):
    v, a = tokenizers
    key = latent_key([v, a], {"dataset": "bounce"})
    assert key == latent_key([v, a], {"dataset": "bounce"})
    assert key != latent_key([v, a], {"dataset": "bounce", "seed": 1})
    v2 = VideoAutoencoder(v.config)
    v2.load_state_dict(v.state_dict())
    with torch.no_grad():
        next(v2.parameters()).view(-1)[0] += 1e-3
    assert key != latent_key([v2, a], {"dataset": "bounce"})


def test_cli_bookkeeping_does_not_change_the_cache_folder(tmp_path, tokenizers):
    """LightningCLI adds `_class_path` and `_instantiator` to a datamodule's hparams: `seedkit fit`
    and the same datamodule built in Python must name the same cache."""
    plain = _bounce(tmp_path).encode_latents(*tokenizers, splits=("val",))
    cli = _bounce(tmp_path)
    cli.hparams.update(_class_path="seedkit.data.AVDataModule", _instantiator="lightning.pytorch.cli.instantiate_module")
    assert cli.encode_latents(*tokenizers, splits=("val",)) == plain
    assert _bounce(tmp_path, seed=1).encode_latents(*tokenizers, splits=("val",)) != plain


def test_stored_latents_equal_encoding_each_batch(tmp_path, tokenizers):
    v, a = tokenizers
    dm = _bounce(tmp_path)
    raw = dm.dataset("train")
    folder = dm.encode_latents(v, a)
    cached = dm.dataset("train")
    assert isinstance(cached, LatentClips) and len(cached) == len(raw) == 12
    assert (folder / "train.pt").is_file() and (folder / "val.pt").is_file()
    assert not isinstance(dm.dataset("test"), LatentClips)  # test clips stay media (evaluation decodes them)
    with torch.no_grad():
        zv = v.encode(torch.stack([raw[i]["video"] for i in (0, 5)]))
        za = a.encode(torch.stack([raw[i]["audio"] for i in (0, 5)]))
    for j, i in enumerate((0, 5)):
        s = cached[i]
        torch.testing.assert_close(s["video_latent"], zv[j], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(s["audio_latent"], za[j], atol=1e-5, rtol=1e-5)
        assert s["caption"] == raw[i]["caption"] and s["id"] == raw[i]["id"]
        assert s["events"] == raw[i]["events"]
    batch = next(iter(dm.train_dataloader()))
    assert batch["video_latent"].shape == (4, *zv.shape[1:]) and "video" not in batch


def test_cache_is_loaded_not_recomputed_and_rebuilt_when_stale(tmp_path, tokenizers, monkeypatch):
    v, a = tokenizers
    dm = _bounce(tmp_path)
    raw = dm.dataset("val")
    path = tmp_path / "val.pt"
    first = cached_latents(raw, v, a, path)
    import seedkit.data.latents as latents

    def refuse(*args, **kw):
        raise AssertionError("encoded again although the cache holds this split")

    monkeypatch.setattr(latents, "encode_split", refuse)
    again = cached_latents(raw, v, a, path)
    torch.testing.assert_close(again.video, first.video, atol=0, rtol=0)
    assert again.ids == first.ids and again.events == first.events
    monkeypatch.setattr(latents, "encode_split", encode_split)
    other = _bounce(tmp_path, seed=3).dataset("val")  # other scenes, same file: encoded again
    assert cached_latents(other, v, a, path).ids == [f"bounce-3-{i}" for i in range(12, 16)]
    path.write_bytes(b"not a torch file")  # a damaged cache is rebuilt, not trusted
    assert cached_latents(raw, v, a, path).ids == first.ids


def test_encoding_leaves_the_random_stream_alone(tmp_path, tokenizers):
    v, a = tokenizers
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    encode_split(_bounce(tmp_path).dataset("val"), v, a, batch_size=2)
    torch.testing.assert_close(torch.rand(3), expected, atol=0, rtol=0)


def test_cache_needs_the_tokenizers_and_bounded_bounce_splits(tmp_path, tokenizers):
    with pytest.raises(RuntimeError, match="cache_latents needs the joint model's frozen tokenizers"):
        _bounce(tmp_path, cache_latents=True).setup("fit")
    dm = AVDataModule("bounce", num_train=100_000, cache_latents=True, latent_dir=str(tmp_path))
    with pytest.raises(ValueError, match="num_train=100000"):
        dm.encode_latents(*tokenizers)


class _Losses(L.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))


def _fit(tmp_path, paths, cache: bool) -> list[float]:
    L.seed_everything(0)
    dm = _bounce(tmp_path, cache_latents=cache)
    jm = JointAV(*paths, dm.vocab.words, clip="bounce", val_samples=0, model=TINY_MODEL, warmup_steps=1)
    rec = _Losses()
    trainer = L.Trainer(max_steps=3, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[rec],
                        default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(jm, datamodule=dm)
    return rec.losses


def test_training_on_cached_latents_matches_encoding_each_step(tmp_path, tiny_tokenizer_paths):
    plain = _fit(tmp_path, tiny_tokenizer_paths, cache=False)
    encoded = _fit(tmp_path, tiny_tokenizer_paths, cache=True)  # encodes the cache at setup
    loaded = _fit(tmp_path, tiny_tokenizer_paths, cache=True)  # loads it
    assert len(plain) == 3
    # same batches, same noise: the losses agree to float rounding of the encoders' batching
    torch.testing.assert_close(torch.tensor(encoded), torch.tensor(plain), rtol=1e-4, atol=1e-5)
    assert loaded == encoded


def test_grid_latents_sit_next_to_the_prepared_clips(tmp_path, tokenizers, monkeypatch):
    from test_grid import make_source

    from seedkit.data.grid import PrepareConfig, prepare_grid

    src, cache = make_source(tmp_path / "src", n_good=3), tmp_path / "cache"
    prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    dm = AVDataModule("grid", batch_size=2, fps=25.0, num_frames=24, size=32, cache_dir=str(cache))
    raw = {name: [r["key"] for r in dm.dataset(name).records] for name in ("train", "val")}
    folder = dm.encode_latents(*tokenizers)
    assert folder.parent == cache / "latents"
    for name, keys in raw.items():
        ds = dm.dataset(name)
        assert (isinstance(ds, LatentClips) and ds.ids == keys) if keys else len(ds) == 0
    train = dm.dataset("train")
    assert train[0]["video_latent"].shape == (6, 4, 8, 8) and train[0]["caption"]

    # a clip prepared again (another crop, say) changes its manifest record: its latents are redone
    import seedkit.data.latents as latents

    calls = []
    monkeypatch.setattr(latents, "encode_split", lambda *a, **kw: calls.append(1) or encode_split(*a, **kw))
    fresh = AVDataModule("grid", batch_size=2, fps=25.0, num_frames=24, size=32, cache_dir=str(cache))
    fresh.dataset("train")
    fresh.encode_latents(*tokenizers, splits=("train",))
    assert calls == []  # same clips, same records: loaded
    fresh = AVDataModule("grid", batch_size=2, fps=25.0, num_frames=24, size=32, cache_dir=str(cache))
    fresh.dataset("train").records[0]["crop_box"] = [1, 2, 3]
    fresh.encode_latents(*tokenizers, splits=("train",))
    assert calls == [1]


def test_validate_encodes_only_the_val_split(tmp_path, tiny_tokenizer_paths):
    dm = _bounce(tmp_path, cache_latents=True)
    jm = JointAV(*tiny_tokenizer_paths, dm.vocab.words, clip="bounce", val_samples=0, model=TINY_MODEL)
    L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
              default_root_dir=tmp_path).validate(jm, datamodule=dm)
    assert isinstance(dm.dataset("val"), LatentClips) and not isinstance(dm.dataset("train"), LatentClips)
