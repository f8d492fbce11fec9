"""Best of N by a sync critic (seedkit/rerank.py), with a realism critic beside it
(seedkit/metrics/realism.py), and the sync critic's bounce data: edited soundtracks and mirrored
pictures as its negatives (seedkit/metrics/syncnet_lit.py)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from seedkit.data.bounce import BounceConfig, BounceGenerator, Impact
from seedkit.metrics.syncnet import SyncNetConfig, SyncNetLite, prepare_video
from seedkit.metrics.syncnet_lit import (BounceSyncData, SyncNetModule, bounce_sync_clips, edit_impacts,
                                         mirror_frames, tokenizer_round_trip)
from seedkit.metrics.realism import RealismConfig, RealismCritic, load_realism, save_realism
from seedkit.metrics.syncnet import save_syncnet
from seedkit.rerank import SEED_STRIDE, best_of_n, clip_z, critic_scores
from seedkit.sampling import SamplerConfig

BOUNCE = SyncNetConfig(fps=16.0, hop=250, width=16, dim=8, max_shift=6)


class FakeJoint:
    """`JointAV.generate`'s contract: clips drawn from the sampler seed (video in [-1, 1], audio)."""

    spec = SimpleNamespace(fps=16.0, sample_rate=16000)

    def __init__(self, seed: int | None = 3):
        self.sampler_config = SamplerConfig(seed=seed)
        self.calls = []

    def generate(self, mode, config=None, n=2, **kw):
        self.calls.append((mode, config.seed, kw))
        g = torch.Generator().manual_seed(config.seed)
        return torch.rand(n, 32, 3, 32, 32, generator=g) * 2 - 1, 0.1 * torch.randn(n, 1, 32000, generator=g)


class BrightnessCritic(nn.Module):
    """A critic whose score is known: the clip's mean brightness (video embedding = audio embedding
    = a unit vector turned by it), so the best candidate of each clip is the brightest."""

    config = SyncNetConfig(fps=16.0, hop=250)

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, video, mel):
        b = video.mean((2, 3))  # [B, T] in [0, 1]
        v = torch.stack([torch.ones_like(b), torch.zeros_like(b)], -1)
        a = torch.stack([b, (1 - b * b).clamp_min(0).sqrt()], -1)  # cos(v, a) = brightness
        return v, a


def test_best_of_n_keeps_each_clips_best_candidate_and_one_candidate_is_the_plain_run():
    jm, critic = FakeJoint(), BrightnessCritic()
    r = best_of_n(jm, critic, 3, "a2v", n=4, audio="given")
    assert [c[1] for c in jm.calls] == [3, 3 + SEED_STRIDE, 3 + 2 * SEED_STRIDE]
    assert all(c[0] == "a2v" and c[2] == {"audio": "given"} for c in jm.calls)  # passed through
    candidates = [FakeJoint().generate("a2v", SamplerConfig(seed=s), n=4) for s in (3, 3 + SEED_STRIDE,
                                                                                     3 + 2 * SEED_STRIDE)]
    bright = torch.stack([((v + 1) / 2).mean((1, 2, 3, 4)) for v, _ in candidates])  # [3, 4]
    assert torch.allclose(r.scores, bright, atol=0.02)  # the grey conversion weighs the channels
    assert torch.equal(r.chosen, r.scores.argmax(0))
    for i, k in enumerate(r.chosen.tolist()):
        assert torch.equal(r.video[i], candidates[k][0][i]) and torch.equal(r.audio[i], candidates[k][1][i])
    one = best_of_n(FakeJoint(), critic, 1, "joint", n=4)
    assert torch.equal(one.video, candidates[0][0]) and one.chosen.tolist() == [0] * 4


class RedCritic(RealismCritic):
    """A realism critic whose logit is known: the clip's mean red channel."""

    def forward(self, video):
        return video[:, :, 0].mean((1, 2, 3))


def test_a_realism_critic_joins_the_choice_by_standardised_scores():
    sync_only = best_of_n(FakeJoint(), BrightnessCritic(), 4, "joint", n=3)
    r = best_of_n(FakeJoint(), BrightnessCritic(), 4, "joint", realism=RedCritic(), realism_weight=2.0, n=3)
    assert torch.equal(r.sync, sync_only.scores) and sync_only.realism is None
    candidates = [FakeJoint().generate("joint", SamplerConfig(seed=3 + k * SEED_STRIDE), n=3) for k in range(4)]
    red = torch.stack([v[:, :, 0].mean((1, 2, 3)) for v, _ in candidates])  # [4, 3]
    assert torch.allclose(r.realism, red, atol=0.01)  # judged as written: uint8 frames
    assert torch.allclose(r.scores, clip_z(r.sync) + 2.0 * clip_z(r.realism))
    assert torch.equal(r.chosen, r.scores.argmax(0))
    for i, k in enumerate(r.chosen.tolist()):
        assert torch.equal(r.video[i], candidates[k][0][i]) and torch.equal(r.audio[i], candidates[k][1][i])
    z = clip_z(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
    assert torch.allclose(z, torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))  # equal candidates: 0, not NaN
    deaf = best_of_n(FakeJoint(), BrightnessCritic(), 4, "joint", realism=RedCritic(), realism_weight=0.0, n=3)
    assert torch.equal(deaf.chosen, sync_only.chosen)
    with pytest.raises(ValueError, match="realism_weight must be >= 0"):
        best_of_n(FakeJoint(), BrightnessCritic(), 2, realism=RedCritic(), realism_weight=-1.0)
    grid = RedCritic(RealismConfig(fps=25.0, num_frames=72, size=64))
    with pytest.raises(ValueError, match="trained on 72 frames of 64x64 at 25 fps; these clips are 32 frames"):
        best_of_n(FakeJoint(), BrightnessCritic(), 2, realism=grid)


def test_realism_critic_checkpoints_round_trip_and_refuse_other_files(tmp_path):
    torch.manual_seed(0)
    net = RealismCritic(RealismConfig(width=8)).eval()
    video = torch.rand(2, 32, 3, 32, 32) * 2 - 1
    save_realism(net, tmp_path / "r.pt", meta={"steps": 5})
    back = load_realism(tmp_path / "r.pt")
    assert back.meta == {"steps": 5} and back.config == net.config
    with torch.no_grad():
        assert torch.allclose(back(video), net(video), atol=1e-2)  # fp16 weights
    with pytest.raises(ValueError, match=r"expected video \[B, T, 3, H, W\]"):
        net(video[0])
    with pytest.raises(FileNotFoundError, match="realism_bounce.yaml"):
        load_realism(tmp_path / "missing.pt")
    save_syncnet(SyncNetLite(BOUNCE), tmp_path / "s.pt")
    with pytest.raises(ValueError, match="s.pt: is a syncnet_lite checkpoint, expected a realism-critic"):
        load_realism(tmp_path / "s.pt")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt: not a readable realism critic checkpoint"):
        load_realism(tmp_path / "junk.pt")


def test_best_of_n_refuses_what_it_cannot_do():
    critic = SyncNetLite(BOUNCE).eval()
    with pytest.raises(ValueError, match="at least 1 candidate"):
        best_of_n(FakeJoint(), critic, 0)
    with pytest.raises(ValueError, match="seeded SamplerConfig"):
        best_of_n(FakeJoint(seed=None), critic, 2)
    grid = SyncNetLite(SyncNetConfig(width=16, dim=8)).eval()  # 25 fps
    with pytest.raises(ValueError, match="trained on 25 fps clips; these are 16 fps"):
        best_of_n(FakeJoint(), grid, 2)
    video, audio = FakeJoint().generate("joint", SamplerConfig(seed=0))
    s = critic_scores(critic, video, audio, 16.0, 16000)
    assert s.shape == (2,) and bool(((s >= -1) & (s <= 1)).all())


def test_a_soundtrack_redrawn_with_the_scenes_own_impacts_is_the_scenes():
    gen = BounceGenerator(BounceConfig())
    scene = gen.scene(7)
    assert np.array_equal(gen.soundtrack(7, scene.events), scene.waveform)
    fewer = gen.soundtrack(7, scene.events[1:])
    assert not np.array_equal(fewer, scene.waveform)
    with pytest.raises(ValueError, match="scene 7 has no 'purple ball'"):
        gen.soundtrack(7, [Impact(0.5, "purple ball", 1.0, "left")])


def test_each_edit_changes_exactly_one_impact():
    events = [Impact(0.3, "red ball", 1.0, "left"), Impact(1.1, "red ball", 1.2, "top")]
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(40):
        out = edit_impacts(events, ["red ball"], rng, 2.0, 16.0)
        old, new = {(e.time_s, e.label) for e in events}, {(e.time_s, e.label) for e in out}
        if len(out) == 1:
            kinds.add("drop")
            assert new < old
        elif len(out) == 3:
            kinds.add("add")
            assert old < new
        else:
            kinds.add("move")
            (moved,), (was,) = new - old, old - new
            assert 2 / 16 - 1e-9 <= abs(moved[0] - was[0]) <= 6 / 16 + 1e-9
    assert kinds == {"drop", "add", "move"}
    assert len(edit_impacts([], ["red ball"], rng, 2.0, 16.0)) == 1  # nothing to drop or move: one added


def test_a_mirrored_clip_plays_forward_then_back():
    video = torch.arange(2 * 8, dtype=torch.float32).reshape(2, 8, 1, 1)
    out = mirror_frames(video, torch.tensor([4, 6]))[..., 0, 0]
    assert out[0].tolist() == [0, 1, 2, 3, 3, 2, 1, 0]
    assert out[1].tolist() == [8, 9, 10, 11, 12, 13, 13, 12]


def test_bounce_critic_data_has_edited_soundtracks_and_refuses_another_clip_format():
    videos, mels, edited = bounce_sync_clips(100, 3, BOUNCE, negatives=2)
    assert videos[0].shape == (32, 32, 32) and mels[0].shape == (40, 128) and edited[0].shape == (2, 40, 128)
    assert not torch.equal(edited[0][0].float(), mels[0])
    with pytest.raises(ValueError, match="bounce clips are 16 fps / 16000 Hz"):
        bounce_sync_clips(0, 1, SyncNetConfig())
    data = BounceSyncData(num_train=4, num_val=2, batch_size=2, negatives=2)
    data.setup()
    batch = next(iter(data.train_dataloader()))
    assert batch["mel_edited"].shape == (2, 2, 40, 128) and bool((batch["mirror_at"] >= 16).all())


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no Trainer: logging is a no-op
def test_training_with_edits_learns_to_rank_the_own_soundtrack_first():
    torch.manual_seed(0)
    data = BounceSyncData(num_train=8, num_val=2, batch_size=8, negatives=3)
    data.setup()
    batch = next(iter(data.train_dataloader()))
    module = SyncNetModule(width=16, dim=16, max_shift=6, fps=16.0, hop=250, edit_weight=1.0, export_path=None)
    opt = torch.optim.AdamW(module.parameters(), lr=3e-3)
    edit = []
    for _ in range(30):
        v, a = module.net(batch["video"], batch["mel"])
        loss, _ = module.edit_loss(batch, v, a)
        total = module.training_step(batch, 0)
        opt.zero_grad()
        total.backward()
        opt.step()
        edit.append(loss.item())
    assert np.isfinite(edit).all() and edit[-1] < 0.5 * edit[0]


def test_critic_data_can_show_the_clips_as_the_tokenizers_draw_them(tiny_tokenizer_paths):
    """`video_tokenizer` / `audio_tokenizer`: the pictures encoded and decoded, the soundtracks
    through the audio tokenizer and Griffin-Lim, as generated clips are made (here by untrained
    tokenizers, so the clips change)."""
    v_path, a_path = tiny_tokenizer_paths
    raw_v, raw_m, _ = bounce_sync_clips(0, 2, BOUNCE)
    frames = np.stack([BounceGenerator(BounceConfig()).scene(i).frames for i in range(2)])
    drawn = tokenizer_round_trip(v_path)(frames)
    assert drawn.shape == frames.shape and drawn.dtype == np.uint8 and not np.array_equal(drawn, frames)
    data = BounceSyncData(num_train=2, num_val=1, batch_size=2, negatives=1, video_tokenizer=v_path,
                          audio_tokenizer=a_path)
    data.setup()
    item = data.train_set[0]
    assert item["video"].shape == raw_v[0].shape and item["mel"].shape == raw_m[0].shape
    assert torch.allclose(item["video"], prepare_video(drawn[0], 32))
    assert not torch.allclose(item["mel"], raw_m[0])
    assert item["mel_edited"].shape == (1, 40, 128)
    with pytest.raises(ValueError, match="video_decoder decodes what video_tokenizer encodes"):
        BounceSyncData(num_train=2, video_decoder=v_path).setup()


def test_realism_config_names_classes_that_accept_its_arguments():
    import importlib
    from importlib import resources

    import yaml

    from seedkit.data.clip import BOUNCE_SPEC

    cfg = yaml.safe_load((resources.files("seedkit") / "configs" / "realism_bounce.yaml").read_text())
    made = {}
    for part in ("model", "data"):
        mod, cls_name = cfg[part]["class_path"].rsplit(".", 1)
        made[part] = getattr(importlib.import_module(mod), cls_name)(**cfg[part]["init_args"])  # reads nothing yet
    c = made["model"].net.config
    assert (c.fps, c.num_frames, c.size) == (BOUNCE_SPEC.fps, BOUNCE_SPEC.num_frames, BOUNCE_SPEC.size)
    assert cfg["model"]["init_args"]["export_path"] == "checkpoints/realism_bounce.pt"
    with pytest.raises(ValueError, match="needs --data.joint"):
        made["data"].cache_folder()


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no Trainer: logging is a no-op
def test_a_few_realism_steps_learn_to_tell_a_steady_square_from_a_wobbling_one():
    """'Real': a square of constant size moving across; 'generated': the same square changing size."""
    from seedkit.metrics.realism_lit import RealismModule

    torch.manual_seed(0)
    B, T = 8, 32
    frames = torch.zeros(2 * B, T, 32, 32, 3, dtype=torch.uint8)
    for i in range(2 * B):
        for t in range(T):
            x = (i * 3 + t) % 24
            r = 3 if i < B else 1 + (t % 4)  # the second half wobbles
            frames[i, t, 10 - r: 10 + r, x: x + 2 * r] = 255
    label = torch.cat([torch.ones(B), torch.zeros(B)])
    module = RealismModule(width=8, export_path=None)
    opt = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = module.training_step((frames, label), 0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_a_realism_critic_refuses_clips_of_another_format_than_it_will_claim():
    """The critic is convolutional and would train on 64x64 clips while its checkpoint says 32x32."""
    from types import SimpleNamespace

    from torch.utils.data import TensorDataset

    from seedkit.metrics.realism_lit import RealismModule
    from seedkit.typed import ConfigError

    def fit_setup(module, t, size):
        clips = TensorDataset(torch.zeros(2, t, size, size, 3, dtype=torch.uint8), torch.ones(2))
        module._trainer = SimpleNamespace(datamodule=SimpleNamespace(train_set=clips))
        module.setup("fit")

    fit_setup(RealismModule(width=8, export_path=None), 32, 32)  # bounce clips: as claimed
    with pytest.raises(ConfigError, match=r"num_frames=32, size=32\): the clips are 24 frames of 64x64"):
        fit_setup(RealismModule(width=8, export_path=None), 24, 64)
    fit_setup(RealismModule(width=8, num_frames=24, size=64, export_path=None), 24, 64)
