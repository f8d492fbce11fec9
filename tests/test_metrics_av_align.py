import numpy as np
import pytest

from seedkit.metrics.av_align import av_align, audio_peaks, flow_trajectory, peak_iou, video_peaks

FPS, SR = 10.0, 16000


def jumping_square(jump_frames, T=30, size=48):
    """A textured square that sits still and moves 4 px right only between frames j-1 and j."""
    rng = np.random.default_rng(0)
    tex = rng.integers(60, 255, size=(12, 12, 3)).astype(np.uint8)
    frames = np.full((T, size, size, 3), 30, np.uint8)
    x = 8
    for t in range(T):
        if t in jump_frames:
            x += 4
        frames[t, 18:30, x: x + 12] = tex
    return frames


def clicks(times_s, duration_s=3.0):
    y = np.zeros(int(duration_s * SR), np.float32)
    tt = np.arange(int(0.05 * SR)) / SR
    for s in times_s:
        i = int(s * SR)
        y[i: i + len(tt)] += (0.5 * np.exp(-tt / 0.01) * np.sin(2 * np.pi * 1000 * tt)).astype(np.float32)
    return y[None]


def test_peak_iou_follows_the_published_formula():
    # one audio peak within a frame of a video peak: I = 1, |A| = 2, |V| = 2 -> 1 / 3
    assert peak_iou([0.1, 0.5], [0.12, 0.9], fps=25) == pytest.approx(1 / 3)
    assert peak_iou([0.1], [0.1 + 1 / 25], fps=25) == 0.0  # exactly one frame away: no match
    # reference counting: two onsets may share one motion peak (can exceed 1) ...
    assert peak_iou([0.10, 0.11], [0.1], fps=25) == pytest.approx(2.0)
    # ... one_to_one=True gives a true IoU
    assert peak_iou([0.10, 0.11], [0.1], fps=25, one_to_one=True) == pytest.approx(0.5)


def test_empty_peak_lists_score_zero_not_nan():
    assert peak_iou([], [], fps=25) == 0.0
    assert peak_iou([0.2], [], fps=25) == 0.0


def test_video_peaks_at_the_frames_where_the_square_jumps():
    flow = flow_trajectory(jumping_square({10, 20}))
    assert flow.shape == (30,) and np.isfinite(flow).all()
    np.testing.assert_allclose(video_peaks(flow, FPS), [1.0, 2.0])


def test_clicks_on_the_jumps_align_and_shifted_clicks_do_not():
    frames = jumping_square({10, 20})
    aligned = av_align(frames, clicks([1.0, 2.0]), FPS, SR)
    assert len(aligned.audio_peaks_s) == 2 and aligned.score == pytest.approx(1.0)
    late = av_align(frames, clicks([1.35, 2.35]), FPS, SR)
    assert late.score == 0.0


def test_silent_audio_and_still_video_give_zero():
    still = np.full((12, 32, 32, 3), 90, np.uint8)
    r = av_align(still, np.zeros((1, SR)), FPS, SR)
    assert r.score == 0.0 and len(r.audio_peaks_s) == 0 and len(r.video_peaks_s) == 0
    assert len(audio_peaks(np.zeros(0), SR)) == 0
    assert av_align(still[:1], np.zeros((1, SR)), FPS, SR).score == 0.0
    with pytest.raises(ValueError):
        flow_trajectory(np.zeros((3, 8, 8)))
