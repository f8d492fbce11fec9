import numpy as np
import pytest

from seedkit.metrics.events import shift_audio
from seedkit.metrics.offset import cross_correlation, estimate_offset, video_signal

FPS, SR = 25.0, 16000


def flashes(frames_on, T=75, size=16):
    """A square that appears for one frame at each of frames_on (motion pulses): [T, H, W, 3]."""
    f = np.full((T, size, size, 3), 20, np.uint8)
    for i in frames_on:
        f[i, 4:12, 4:12] = 220
    return f


def bursts(times_s, duration_s=3.0):
    y = np.zeros(int(duration_s * SR), np.float32)
    rng = np.random.default_rng(0)
    n = int(0.04 * SR)
    env = np.exp(-np.arange(n) / (0.008 * SR))
    for s in times_s:
        i = int(s * SR)
        y[i: i + n] += (0.4 * env * rng.standard_normal(n)).astype(np.float32)
    return y[None]


FRAMES_ON = [8, 21, 30, 47, 59]


@pytest.mark.parametrize("shift_s", [-0.2, 0.0, 0.12, 0.2])
def test_known_shift_recovered_from_motion_pulses(shift_s):
    frames = flashes(FRAMES_ON)
    audio = shift_audio(bursts([i / FPS for i in FRAMES_ON]), SR, shift_s)
    est = estimate_offset(frames, audio, FPS, SR)
    assert est.offset_ms == pytest.approx(1000 * shift_s, abs=25)
    assert est.confidence > 0.3 and est.peak_ratio > 1.0


def test_cross_correlation_peaks_at_the_known_lag():
    v = np.zeros(100)
    v[[10, 40, 70]] = 1
    a = np.roll(v, 7)
    lags, r = cross_correlation(a, v, max_lag=20, min_overlap=50)
    assert lags[np.argmax(r)] == 7 and r.max() == pytest.approx(1.0, abs=0.05)


def test_silent_audio_or_still_video_has_zero_confidence():
    still = np.full((50, 16, 16, 3), 80, np.uint8)
    for frames, audio in [(still, bursts([0.5, 1.0], 2.0)), (flashes([10, 30], T=50), np.zeros((1, 2 * SR)))]:
        est = estimate_offset(frames, audio, FPS, SR)
        assert est.offset_ms == 0.0 and est.confidence == 0.0
        assert np.isfinite(est.corr).all()
    est = estimate_offset(np.zeros((0, 16, 16, 3), np.uint8), np.zeros((1, 0)), FPS, SR)
    assert est.offset_ms == 0.0 and est.confidence == 0.0


def test_bad_signal_names_raise():
    with pytest.raises(ValueError, match="kind"):
        video_signal(flashes([3]), FPS, kind="optical")
    with pytest.raises(ValueError, match="audio"):
        estimate_offset(flashes([3]), bursts([0.2]), FPS, SR, audio="mel")


def test_bounce_impacts_and_onsets_recover_a_known_shift():
    from seedkit.data.bounce import BounceGenerator

    scene = BounceGenerator().scene(1)
    est = estimate_offset(scene.frames, shift_audio(scene.waveform, SR, 0.1), 16, SR,
                          kind="impacts", audio="onsets")
    assert est.offset_ms == pytest.approx(100, abs=20)
