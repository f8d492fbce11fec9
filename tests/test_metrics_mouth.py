"""Weight-free lip-sync offset on a synthetic talking mouth with a known delay."""
import numpy as np
import pytest

from seedkit.metrics.events import shift_audio
from seedkit.metrics.mouth import estimate_mouth_offset, frame_log_energy, lip_box, lip_signal

FPS, SR, T = 25.0, 16000, 75


def openness(seed=0):
    """Syllable-like mouth opening in [0, 1] per frame: a few bumps of random width, silence at the ends."""
    rng = np.random.default_rng(seed)
    o = np.zeros(T)
    t = 10
    while t < T - 12:
        w = int(rng.integers(3, 7))
        o[t: t + w] = np.sin(np.linspace(0, np.pi, w)) * rng.uniform(0.5, 1.0)
        t += w + int(rng.integers(1, 4))
    return o


def talking_face(o):
    """Skin-coloured 64x64 crop with red lips whose dark gap opens with o [T]: uint8 [T, 64, 64, 3]."""
    f = np.zeros((len(o), 64, 64, 3), np.uint8)
    f[:] = (200, 160, 130)
    for i, x in enumerate(o):
        gap = int(round(6 * x))
        f[i, 36 - 3 - gap // 2: 36 - gap // 2, 20:44] = (190, 60, 70)  # upper lip
        f[i, 36 + (gap + 1) // 2: 36 + (gap + 1) // 2 + 3, 20:44] = (190, 60, 70)  # lower lip
        f[i, 36 - gap // 2: 36 + (gap + 1) // 2, 22:42] = (40, 20, 25)  # the open mouth
    return f


def speech(o, seed=1):
    """Noise whose loudness follows the mouth opening o [T] (one value per video frame): [1, N]."""
    rng = np.random.default_rng(seed)
    n = int(T / FPS * SR)
    env = np.interp(np.arange(n) / SR * FPS, np.arange(T), o)
    return (0.3 * env * rng.standard_normal(n)).astype(np.float32)[None]


def test_lip_box_finds_the_red_lips():
    ys, xs = lip_box(talking_face(openness()))
    assert 26 <= ys.start <= 33 and 38 <= ys.stop <= 46
    assert 18 <= xs.start <= 22 and 42 <= xs.stop <= 46


@pytest.mark.parametrize("shift_s", [-0.2, -0.08, 0.0, 0.12, 0.2])
def test_known_audio_delay_is_recovered_within_a_frame(shift_s):
    o = openness()
    # the synthetic mouth has no articulation lead: lead_ms=0
    est = estimate_mouth_offset(talking_face(o), shift_audio(speech(o), SR, shift_s), FPS, SR, lead_ms=0)
    assert est.offset_ms == pytest.approx(1000 * shift_s, abs=20)
    assert est.confidence > 0.3


def test_openness_signal_follows_the_gap():
    o = openness()
    assert np.corrcoef(lip_signal(talking_face(o), "openness"), o)[0, 1] > 0.9


def test_shuffled_audio_has_lower_confidence_than_matching_audio():
    o1, o2 = openness(0), openness(5)
    real = estimate_mouth_offset(talking_face(o1), speech(o1), FPS, SR)
    shuffled = estimate_mouth_offset(talking_face(o1), speech(o2), FPS, SR)
    assert real.confidence > shuffled.confidence + 0.2


def test_silent_audio_and_still_video_give_no_evidence_not_nan():
    o = openness()
    still = np.repeat(talking_face(o)[:1], T, 0)
    for frames, audio in [(talking_face(o), np.zeros((1, 48000), np.float32)), (still, speech(o))]:
        est = estimate_mouth_offset(frames, audio, FPS, SR)
        assert est.offset_ms == 0.0 and est.confidence == 0.0
    assert np.isfinite(frame_log_energy(np.zeros(0), SR, FPS, 10)).all()


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="empty clip"):
        estimate_mouth_offset(np.zeros((0, 64, 64, 3), np.uint8), np.zeros((1, 100)), FPS, SR)
    with pytest.raises(ValueError, match=r"\[T, H, W, 3\]"):
        lip_signal(np.zeros((5, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="'motion' or 'openness'"):
        lip_signal(talking_face(openness()), "teeth")
