"""JointAV validation samples: each clip preset logs the sync score that fits its world."""
import pytest
import torch

from seedkit.lit import JointAV


@pytest.mark.parametrize("clip, expected", [
    ("bounce", {"val/sample_event_f1"}),
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
    assert all(v == v for v in logged.values())  # finite numbers, no NaN


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
