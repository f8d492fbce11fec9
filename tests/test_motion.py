"""Motion supervision: bounce tracks without rendering, dense per-token targets, the video tower's
motion head and its loss, the datamodule's `motion` option and JointAV's wiring."""
import numpy as np
import pytest
import torch

from seedkit.data import AVDataModule, BounceGenerator
from seedkit.data.motion import WithTracks, motion_channels, motion_targets, track_velocity
from seedkit.flow import FlowConfig, RectifiedFlow
from seedkit.lit import JointAV
from seedkit.model import DualTowerDiT
from tests.test_model import inputs, tiny, wake_up


def test_tracks_are_the_scenes_own_without_drawing_it():
    gen = BounceGenerator()
    for i in range(12):
        scene, tracks = gen.scene(i), gen.tracks(i)
        k = scene.tracks.shape[1]
        assert tracks.shape == (32, gen.config.max_objects, 2)
        assert np.array_equal(tracks[:, :k], scene.tracks) and np.isnan(tracks[:, k:]).all()


def test_targets_put_each_object_in_its_cell_with_its_velocity():
    # one object moving right along the top row, one absent: 8 frames, 2 latent frames of 4
    t = torch.arange(8, dtype=torch.float32)
    tracks = torch.full((1, 8, 2, 2), float("nan"))
    tracks[0, :, 0, 0] = 0.06 + 0.1 * t  # x: 0.06 .. 0.76 (never on a cell border), 0.1 arena per frame
    tracks[0, :, 0, 1] = 0.125  # y: the centre of the top row of a 4 x 4 grid
    m = motion_targets(tracks, latent_frames=2, grid=(4, 4), fps=10.0)
    assert m.shape == (1, 2 * 16, motion_channels(8, 2)) == (1, 32, 12)
    grid = m.view(2, 4, 4, 4, 3)  # latent frame, row, col, frame within it, (occ, occ vx, occ vy)
    for f in range(8):
        occ = grid[f // 4, :, :, f % 4, 0]
        x = 0.06 + 0.1 * f
        assert occ.argmax() == min(int(x * 4), 3)  # row 0, the column under the object
        assert occ[1:].max() < occ[0].max()
    vx = grid[..., 1] / grid[..., 0].clamp(min=1e-6)
    assert torch.allclose(vx[grid[..., 0] > 1e-3], torch.tensor(1.0), atol=1e-4)  # 0.1 per frame at 10 fps
    assert grid[..., 2].abs().max() < 1e-6  # no vertical motion
    # the absent object adds nothing: the same targets with it dropped
    assert torch.equal(m, motion_targets(tracks[:, :, :1], 2, (4, 4), 10.0))


def test_velocity_is_central_inside_and_one_sided_at_the_ends():
    x = torch.tensor([0.0, 1.0, 4.0, 9.0]).view(1, 4, 1, 1).expand(1, 4, 1, 2)
    v = track_velocity(x, fps=2.0)[0, :, 0, 0]
    assert v.tolist() == [2.0, 4.0, 8.0, 10.0]  # (1-0) x 2, (4-0) / 2 x 2, (9-1) / 2 x 2, (9-4) x 2


def test_frames_must_split_into_latent_frames():
    with pytest.raises(ValueError, match="do not split"):
        motion_channels(30, 8)


def test_the_datamodule_adds_tracks_that_match_the_scenes():
    dm = AVDataModule(batch_size=3, num_train=6, num_val=3, num_test=3, motion=True)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))  # the val split starts at scene 6
    gen = BounceGenerator(dm.bounce_config)
    assert batch["tracks"].shape == (3, 32, 2, 2)
    for b, sid in enumerate(batch["id"]):
        want = torch.from_numpy(gen.tracks(int(sid.rsplit("-", 1)[1])))
        assert torch.allclose(batch["tracks"][b], want, rtol=0, atol=0, equal_nan=True)
    assert batch["id"][0].endswith("-6")
    with pytest.raises(ValueError, match="only the bounce dataset"):
        AVDataModule(dataset="grid", motion=True)


def test_tracks_of_a_split_in_another_order_are_refused():
    dm = AVDataModule(num_train=4, num_val=2, num_test=2)
    wrong = WithTracks(dm.dataset("val"), BounceGenerator(dm.bounce_config), start=0)  # val starts at 4
    with pytest.raises(ValueError, match="expected 'bounce-0-0'"):
        wrong[0]


def test_the_motion_head_reads_the_chosen_block_and_adds_its_loss():
    cfg = tiny(motion_head=12, motion_head_block=1)
    model = DualTowerDiT(cfg)
    video, audio, t_video, t_audio, ids, mask = inputs(cfg)
    out = model(video, audio, t_video, t_audio, ids, mask)
    assert out.motion.shape == (2, cfg.video_frames * cfg.video_tokens_per_frame, 12)
    assert DualTowerDiT(tiny())(video, audio, t_video, t_audio, ids, mask).motion is None
    with pytest.raises(ValueError, match="motion_head_block"):
        DualTowerDiT(tiny(motion_head=12, motion_head_block=3))

    target = torch.rand_like(out.motion)
    losses = {}
    for w in (0.0, 2.0):
        g = torch.Generator().manual_seed(0)
        losses[w] = RectifiedFlow(FlowConfig(motion_weight=w)).loss(model, video, audio, ids, mask, generator=g,
                                                                    motion_target=target)
    assert torch.allclose(losses[2.0].total, losses[0.0].total + 2.0 * losses[2.0].motion)
    assert losses[2.0].motion > 0
    losses[2.0].total.backward()
    assert model.motion_head[-1].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="no motion targets"):
        RectifiedFlow(FlowConfig()).loss(model, video, audio, ids, mask)

    # the head reads block 1's output: block 2 does not change it, block 1 does
    wake_up(model)
    before = model(video, audio, t_video, t_audio, ids, mask).motion
    with torch.no_grad():
        model.video.blocks[1].mlp[0].weight.mul_(3.0)
    assert torch.equal(model(video, audio, t_video, t_audio, ids, mask).motion, before)
    with torch.no_grad():
        model.video.blocks[0].mlp[0].weight.mul_(3.0)
    assert not torch.allclose(model(video, audio, t_video, t_audio, ids, mask).motion, before)


def test_joint_model_trains_its_motion_head_on_bounce_tracks(tiny_tokenizer_paths):
    small = {"video_dim": 32, "video_depth": 2, "video_heads": 2, "audio_dim": 32, "audio_depth": 1,
             "audio_heads": 2, "text_dim": 16}
    words = BounceGenerator().vocabulary()
    frames = JointAV(*tiny_tokenizer_paths, words, model=small).model_config.video_frames
    want = motion_channels(32, frames)
    with pytest.raises(ValueError, match=f"use {want}"):
        JointAV(*tiny_tokenizer_paths, words, model={**small, "motion_head": want + 1})
    jm = JointAV(*tiny_tokenizer_paths, words, model={**small, "motion_head": want})
    dm = AVDataModule(batch_size=2, num_train=2, num_val=2, num_test=2, motion=True)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    target = jm.motion_target(batch)
    c = jm.model_config
    assert target.shape == (2, c.video_frames * c.video_tokens_per_frame, want)
    # the batch's tracks, (x, y) as drawn, on the token grid at bounce's 16 fps (tested above)
    grid = (c.video_height // c.video_patch, c.video_width // c.video_patch)
    assert torch.equal(target, motion_targets(batch["tracks"].float(), c.video_frames, grid, 16.0))
    zv, za = jm.batch_latents(batch)
    out = jm.flow.loss(jm.model, zv, za, batch["text_ids"], batch["text_mask"], motion_target=target)
    assert out.motion is not None and torch.isfinite(out.total)
    with pytest.raises(ValueError, match="--data.motion true"):
        jm.motion_target({k: v for k, v in batch.items() if k != "tracks"})
