"""SyncNet-lite: shapes, the offset search on embeddings with a known shift, the contrastive loss,
bad inputs, checkpoints; and (GRID) the shipped checkpoint on real clips vs shifted audio."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from seedkit.metrics.syncnet import (SyncNetConfig, SyncNetLite, load_syncnet, prepare_audio, prepare_video,
                                     save_syncnet, score_embeddings, shift_distances)
from seedkit.metrics.syncnet_lit import info_nce_over_shifts

FPS, SR = 25.0, 16000


def unit(x):
    return torch.nn.functional.normalize(x, dim=-1)


def test_embeddings_are_one_unit_vector_per_video_frame():
    net = SyncNetLite(SyncNetConfig(width=16, dim=8)).eval()
    v, a = net(torch.rand(2, 30, 32, 32), torch.randn(2, 40, 120))
    assert v.shape == a.shape == (2, 30, 8)
    assert torch.allclose(v.norm(dim=-1), torch.ones(2, 30), atol=1e-5)


def test_prepare_aligns_four_mel_frames_per_video_frame():
    video = prepare_video(np.zeros((30, 64, 64, 3), np.uint8))
    mel = prepare_audio(np.zeros((1, 12345), np.float32), 22050, 30)  # other rate, short: padded
    assert video.shape == (30, 32, 32) and mel.shape == (40, 120) and torch.isfinite(mel).all()


@pytest.mark.parametrize("k", [-5, 0, 3, 12])
def test_offset_search_finds_a_known_shift_of_the_audio_embeddings(k):
    torch.manual_seed(0)
    T, K = 60, 12
    v = unit(torch.randn(T + 2 * K, 16))
    a = torch.roll(v, shifts=k, dims=0)  # a_{t+k} = v_t: the audio comes k frames late
    s = score_embeddings(v, a, K, FPS)
    assert s.offset_frames == k and s.offset_ms == pytest.approx(40.0 * k, abs=1.0)
    assert s.lse_d == pytest.approx(0.0, abs=1e-5) and s.lse_c > 1.0
    assert (s.sync_at_zero > 1.0) == (k == 0)


def test_contrastive_loss_is_low_for_matching_and_chance_for_random_embeddings():
    torch.manual_seed(0)
    v = unit(torch.randn(4, 40, 32))
    assert info_nce_over_shifts(v, v, 12, torch.tensor(30.0)).item() < 0.05
    rand = info_nce_over_shifts(v, unit(torch.randn(4, 40, 32)), 12, torch.tensor(1.0)).item()
    assert rand == pytest.approx(np.log(25), abs=0.2)


def test_constant_video_and_silent_audio_give_no_evidence_not_nan():
    torch.manual_seed(0)
    net = SyncNetLite(SyncNetConfig(width=16, dim=8)).eval()
    rng = np.random.default_rng(0)
    moving = rng.integers(0, 255, (40, 64, 64, 3), dtype=np.uint8)
    speech = (0.1 * rng.standard_normal((1, 40 * 640))).astype(np.float32)
    for frames, audio in [(np.full((40, 64, 64, 3), 128, np.uint8), speech),
                          (moving, np.zeros((1, 40 * 640), np.float32))]:
        s = net.score(frames, audio, FPS, SR)
        values = [s.offset_ms, s.lse_d, s.lse_c, s.sync_at_zero]
        assert np.isfinite(values).all() and np.isfinite(s.dists).all()
    s = net.score(np.full((40, 64, 64, 3), 128, np.uint8), np.zeros((1, 40 * 640), np.float32), FPS, SR)
    assert s.offset_ms == 0.0 and s.lse_c == 0.0 and s.sync_at_zero == 0.0


def test_bad_clips_raise_clear_errors():
    net = SyncNetLite(SyncNetConfig(width=16, dim=8)).eval()
    with pytest.raises(ValueError, match="too short"):
        net.score(np.zeros((10, 64, 64, 3), np.uint8), np.zeros((1, 6400)), FPS, SR)
    with pytest.raises(ValueError, match="empty clip"):
        net.score(np.zeros((0, 64, 64, 3), np.uint8), np.zeros((1, 6400)), FPS, SR)
    with pytest.raises(ValueError, match="trained at 25 fps"):
        net.score(np.zeros((40, 64, 64, 3), np.uint8), np.zeros((1, 6400)), 16.0, SR)
    with pytest.raises(ValueError, match="at least 25 frames"):
        shift_distances(torch.zeros(20, 4), torch.zeros(20, 4), 12)


def test_checkpoint_round_trip_and_foreign_files(tmp_path):
    net = SyncNetLite(SyncNetConfig(width=16, dim=8)).eval()
    path = save_syncnet(net, tmp_path / "s.pt", meta={"steps": 3})
    back = load_syncnet(path)
    x, m = torch.rand(1, 30, 32, 32), torch.randn(1, 40, 120)
    torch.testing.assert_close(back(x, m)[0], net(x, m)[0], atol=2e-2, rtol=0)  # fp16 weights
    assert back.meta == {"steps": 3}
    with pytest.raises(FileNotFoundError, match="syncnet_grid.yaml"):
        load_syncnet(tmp_path / "none.pt")
    torch.save({"kind": "video_autoencoder"}, tmp_path / "tok.pt")
    with pytest.raises(ValueError, match="video_autoencoder checkpoint, expected a syncnet_lite"):
        load_syncnet(tmp_path / "tok.pt")
    # a file of another version of the kit: a renamed option, a layer of another shape; each names the file
    payload = torch.load(path, weights_only=True)
    torch.save({**payload, "config": {**payload["config"], "widht": 16}}, tmp_path / "option.pt")
    name = next(k for k, v in payload["state_dict"].items() if v.ndim > 1)
    wider = torch.zeros(payload["state_dict"][name].shape[0] + 1, *payload["state_dict"][name].shape[1:])
    torch.save({**payload, "state_dict": {**payload["state_dict"], name: wider}}, tmp_path / "shape.pt")
    for bad in ("option.pt", "shape.pt"):
        with pytest.raises(ValueError, match=rf"{bad}: its SyncNet-lite weights do not fit this seedkit.*syncnet_grid"):
            load_syncnet(tmp_path / bad)


@pytest.mark.grid
@pytest.mark.slow
def test_shipped_checkpoint_prefers_real_grid_pairs_over_shifted_audio(grid_source, tmp_path):
    """Three s1 clips straight from the corpus, cropped as `seedkit data prepare` does."""
    from seedkit import media
    from seedkit.data.grid import clip_crop_box, crop_frames, split_of
    from seedkit.metrics.events import shift_audio
    from seedkit.metrics.syncnet import default_syncnet_path

    path = default_syncnet_path()
    if not path.is_file():
        pytest.skip(f"no SyncNet-lite checkpoint at {path}")
    net = load_syncnet(path)
    held_out = [f for f in sorted((grid_source / "s1").glob("*.mkv")) if split_of(f"s1/{f.stem}") != "train"]
    files = held_out[-3:]  # never trained on
    wins = 0
    for f in files:
        clip = media.read(f, sample_rate=SR, mono=True)
        frames = crop_frames(clip.frames, clip_crop_box(clip.frames), 64)
        real = net.score(frames, clip.waveform, FPS, SR)
        late = net.score(frames, shift_audio(clip.waveform, SR, 0.2), FPS, SR)
        assert abs(late.offset_ms - 200) <= 40
        wins += real.sync_at_zero > late.sync_at_zero
    assert wins == len(files)


@pytest.mark.parametrize("name", ["syncnet_grid", "syncnet_bounce"])
def test_config_names_classes_that_accept_its_arguments(name):
    import importlib
    from importlib import resources

    import yaml

    cfg = yaml.safe_load((resources.files("seedkit") / "configs" / f"{name}.yaml").read_text())
    made = {}
    for part in ("model", "data"):
        mod, cls_name = cfg[part]["class_path"].rsplit(".", 1)
        cls = getattr(importlib.import_module(mod), cls_name)
        made[part] = cls(**cfg[part]["init_args"])  # no data is read before setup()
    assert cfg["model"]["init_args"]["export_path"] == f"checkpoints/{name}.pt"
    if name == "syncnet_bounce":  # the network reads the clips the data module makes
        assert made["model"].net.config.mels_per_frame == made["data"].config.mels_per_frame == 4
        assert made["model"].net.config.fps == made["data"].config.fps == 16.0


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no Trainer: logging is a no-op
def test_a_few_training_steps_lower_the_loss_on_a_synced_batch():
    """Synthetic clips where a flash in the video comes with a tone burst in the audio."""
    from seedkit.metrics.syncnet_lit import SyncNetModule

    torch.manual_seed(0)
    B, T = 4, 40
    on = torch.rand(B, T) < 0.3  # frames with an event
    video = torch.full((B, T, 32, 32), 0.2) + 0.6 * on[..., None, None].float()
    mel = torch.full((B, 40, 4 * T), -8.0)
    mel[:, 10:20] += 6.0 * on.repeat_interleave(4, dim=1)[:, None, :].float()
    module = SyncNetModule(width=16, dim=16, export_path=None)
    opt = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = module.training_step({"video": video, "mel": mel}, 0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and losses[-1] < 0.6 * losses[0]


def test_held_out_scores_log_the_share_of_clips_found_at_offset_zero_and_their_confidence(monkeypatch):
    """`seedkit validate|test` of SyncNet-lite: offset_acc is the share of clips whose best offset is 0,
    lse_c the mean confidence; here three clips in sync and one with the audio 3 frames late."""
    from seedkit.metrics.syncnet_lit import SyncNetModule

    torch.manual_seed(0)
    T, K = 40, 12
    module = SyncNetModule(width=16, dim=16, max_shift=K, export_path=None)
    v = unit(torch.randn(4, T, 16))
    a = torch.stack([v[0], v[1], v[2], torch.roll(v[3], 3, 0)])

    class Fixed(torch.nn.Module):  # the embeddings above, whatever the clips
        def __init__(self):
            super().__init__()
            self.log_scale, self.config = torch.nn.Parameter(torch.tensor(0.0)), SimpleNamespace(fps=FPS)

        def forward(self, video, mel):
            return v, a

    module.net = Fixed()
    logged = {}
    monkeypatch.setattr(module, "log_dict", lambda d, **kw: logged.update(d))
    module._held_out_step({"video": None, "mel": None}, "test")
    assert logged["test/offset_acc"] == 0.75
    want = np.mean([score_embeddings(v[i], a[i], K, FPS).lse_c for i in range(4)])
    assert logged["test/lse_c"] == pytest.approx(want) and want > 1.0
