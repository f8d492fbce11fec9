"""Fréchet distance on the kit's features: closed-form answers, bad inputs, feature shapes."""
import numpy as np
import pytest
import torch

from seedkit.metrics.frechet import audio_features, fd_with_floor, frechet_distance, video_features


def test_identical_sets_are_at_distance_zero():
    x = np.random.default_rng(0).normal(size=(50, 4))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_gaussians_match_the_closed_form():
    rng = np.random.default_rng(0)
    # 1-D: FD = (m1 - m2)^2 + (s1 - s2)^2
    x, y = rng.normal(0.0, 1.0, (20000, 1)), rng.normal(2.0, 3.0, (20000, 1))
    assert frechet_distance(x, y) == pytest.approx(4.0 + 4.0, rel=0.05)
    # a shift of the mean in 3-D: |mu|^2
    a, b = rng.normal(size=(20000, 3)), rng.normal(size=(20000, 3)) + np.array([1.0, 2.0, 0.0])
    assert frechet_distance(a, b) == pytest.approx(5.0, rel=0.05)


def test_split_half_floor_shrinks_with_more_clips():
    rng = np.random.default_rng(1)
    small = fd_with_floor(rng.normal(size=(16, 8)), rng.normal(size=(16, 8)))
    big = fd_with_floor(rng.normal(size=(16, 8)), rng.normal(size=(4000, 8)))
    assert big.fd_split_half < small.fd_split_half
    assert small.n_real == 16 and small.dim == 8


def test_bad_feature_sets_raise_clear_errors():
    with pytest.raises(ValueError, match="at least 2 clips"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((4, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(np.random.rand(4, 3), np.random.rand(4, 2))
    # constant features (a collapsed generator): a finite distance, never NaN
    assert np.isfinite(frechet_distance(np.zeros((8, 3)), np.random.rand(8, 3)))


def test_features_of_the_kit_tokenizers_have_the_documented_size():
    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    vt = VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8)).eval()
    at = AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16)).eval()
    fv = video_features(vt, torch.rand(3, 16, 3, 32, 32) * 2 - 1)
    fa = audio_features(at, torch.randn(3, 1, 16000) * 0.1)
    assert fv.shape == (3, 2 * 4 * 4) and fa.shape == (3, 2 * 4)
    assert np.isfinite(fv).all() and np.isfinite(fa).all()
