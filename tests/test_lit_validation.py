"""JointAV validation samples: each clip preset logs the sync score that fits its world."""
import math

import pytest
import torch

from seedkit.lit import JointAV


@pytest.mark.parametrize("clip, expected", [
    ("bounce", {"val/sample_event_f1", "val/sample_event_f1_over_chance"}),
    # a talking face has no bouncing objects: the impact detector would score noise there
    ("grid", {"val/sample_lip_abs_offset_ms", "val/sample_lip_sync_at_zero"}),
])
def test_validation_samples_log_the_sync_score_of_their_world(tiny_tokenizer_paths, clip, expected, monkeypatch):
    jm = JointAV(*tiny_tokenizer_paths, ["bin", "blue", "red", "ball"], clip=clip, val_samples=2,
                 sampler={"steps": 2}, model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                                              "audio_depth": 1, "audio_heads": 2, "text_dim": 16})
    logged = {}
    monkeypatch.setattr(jm, "log", lambda name, value, **kw: logged.__setitem__(name, float(value)))
    spec = jm.spec
    batch = {"video": torch.zeros(2, spec.num_frames, 3, spec.size, spec.size),
             "text_ids": torch.tensor([[2, 3], [4, 5]]), "text_mask": torch.ones(2, 2, dtype=torch.bool),
             "caption": ["a", "b"]}
    jm._log_samples(batch)
    # (the event offset is logged only when some event matched)
    assert {k for k in logged if k.startswith("val/sample_")} - {"val/sample_event_offset_ms"} == expected
    assert all(math.isfinite(v) for v in logged.values())  # finite numbers: no NaN, no inf


def test_generation_draws_the_noise_prior_the_model_was_trained_with(tiny_tokenizer_paths, monkeypatch):
    """A checkpoint trained with correlated video noise (`flow.video_noise_corr`) samples from it too."""
    import seedkit.lit as lit

    seen = []
    real_sample = lit.sample
    monkeypatch.setattr(lit, "sample", lambda *a, **kw: seen.append(kw["video_noise_corr"]) or real_sample(*a, **kw))
    for rho in (0.0, 0.8):
        jm = JointAV(*tiny_tokenizer_paths, ["red", "ball"], clip="bounce", sampler={"steps": 1},
                     flow={"video_noise_corr": rho},
                     model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                            "audio_depth": 1, "audio_heads": 2, "text_dim": 16})
        jm.generate("joint", torch.tensor([[2, 3]]), torch.ones(1, 2, dtype=torch.bool))
    assert seen == [0.0, 0.8]


def test_generation_from_start_t_starts_from_the_given_clips_latents(tiny_tokenizer_paths, monkeypatch):
    """`generate(init_video=, init_audio=)` with `start_t` < 1 hands the clips' latents to the sampler;
    a2v keeps its given audio and needs only the video to start from."""
    import seedkit.lit as lit
    from seedkit.sampling import SamplerConfig

    seen = []
    real_sample = lit.sample
    monkeypatch.setattr(lit, "sample", lambda *a, **kw: seen.append(kw) or real_sample(*a, **kw))
    jm = JointAV(*tiny_tokenizer_paths, ["red", "ball"], clip="bounce", sampler={"steps": 1},
                 model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                        "audio_depth": 1, "audio_heads": 2, "text_dim": 16})
    spec = jm.spec
    video = torch.rand(1, spec.num_frames, 3, spec.size, spec.size) * 2 - 1
    audio = torch.randn(1, 1, spec.num_samples) * 0.1
    ids, mask = torch.tensor([[2, 3]]), torch.ones(1, 2, dtype=torch.bool)
    part = SamplerConfig(steps=2, start_t=0.4)
    v, a = jm.generate("joint", ids, mask, config=part, init_video=video, init_audio=audio)
    zv, za = jm.encode(video, audio)
    assert torch.equal(seen[0]["init_video"], zv) and torch.equal(seen[0]["init_audio"], za)
    assert v.shape == video.shape and a.shape == audio.shape
    jm.generate("a2v", ids, mask, audio=audio, config=part, init_video=video)
    assert torch.equal(seen[1]["given_audio"], za) and seen[1]["init_audio"] is None
    with pytest.raises(ValueError, match="pass init_audio"):
        jm.generate("joint", ids, mask, config=part, init_video=video)


def test_validation_event_f1_over_chance_pairs_each_video_with_the_next_clips_audio(tiny_tokenizer_paths, monkeypatch):
    from seedkit.data.bounce import BounceGenerator
    from seedkit.metrics.events import event_sync_score

    jm = JointAV(*tiny_tokenizer_paths, ["red", "ball"], clip="bounce",
                 model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                        "audio_depth": 1, "audio_heads": 2, "text_dim": 16})
    logged = {}
    monkeypatch.setattr(jm, "log", lambda name, value, **kw: logged.__setitem__(name, float(value)))
    scenes = [BounceGenerator().scene(i) for i in range(3)]
    frames, waves = [s.frames for s in scenes], [s.waveform for s in scenes]
    jm._log_event_sync(frames, waves, 3)
    fps, sr = jm.spec.fps, jm.spec.sample_rate
    own = [event_sync_score(f, a, fps, sr).f1 for f, a in zip(frames, waves)]
    chance = [event_sync_score(frames[i], waves[(i + 1) % 3], fps, sr).f1 for i in range(3)]
    assert logged["val/sample_event_f1_over_chance"] == pytest.approx((sum(own) - sum(chance)) / 3)
    assert logged["val/sample_event_f1_over_chance"] > 0.3  # real clips: far above their chance
