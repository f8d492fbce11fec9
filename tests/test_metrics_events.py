import numpy as np
import pytest

from seedkit.metrics.events import (bounce_sync_report, detect_audio_onsets, detect_video_impact_events,
                                    detect_video_impacts, event_sync_score, match_events, motion_stats,
                                    shift_audio, track_objects)

SR = 16000


def knocks(times_s, duration_s=2.0, sr=SR):
    """Decaying 700 Hz knocks starting exactly at times_s: waveform [1, N]."""
    y = np.zeros(int(duration_s * sr))
    t = np.arange(int(0.2 * sr)) / sr
    knock = np.exp(-t / 0.03) * np.sin(2 * np.pi * 700 * t) * (1 - np.exp(-t / 0.0005))
    for s in times_s:
        i = round(s * sr)
        n = min(len(knock), len(y) - i)
        y[i: i + n] += 0.5 * knock[:n]
    return y[None].astype(np.float32)


def square_bouncing(turn_frame: float, T=24, size=32, speed_px=1.5, half=3.0, x0=6.0):
    """A red square starting at x0 and moving right at speed_px / frame that reverses at turn_frame
    (in mid-air by default): [T, H, W, 3]."""
    t = np.arange(T)
    x_turn = x0 + speed_px * turn_frame
    cx = np.where(t <= turn_frame, x0 + speed_px * t, x_turn - speed_px * (t - turn_frame))
    px = np.arange(size) + 0.5
    frames = np.zeros((T, size, size, 3), np.float32) + 20
    for i in range(T):
        cover_x = np.clip(np.minimum(px - (cx[i] - half), (cx[i] + half) - px), 0, 1)
        cover_y = np.clip(np.minimum(px - (16 - half), (16 + half) - px), 0, 1)
        cover = cover_y[:, None] * cover_x[None, :]
        frames[i] = frames[i] * (1 - cover[..., None]) + cover[..., None] * np.array([230, 60, 40])
    return (frames + 0.5).astype(np.uint8)


def test_match_events_pairs_one_to_one_within_tolerance():
    s = match_events([0.10, 0.52, 0.53, 1.5], [0.1, 0.5, 0.9], tolerance_s=0.05)
    assert (s.n_matched, s.n_pred, s.n_true) == (2, 4, 3)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(2 / 3)
    assert s.mean_abs_offset_s == pytest.approx(0.01)  # 0.52 is the closer partner of 0.5


def test_match_events_empty_inputs_are_defined():
    assert match_events([], [], 0.05).f1 == 1.0
    assert match_events([], [0.2], 0.05).f1 == 0.0
    s = match_events([0.3], [], 0.05)
    assert (s.precision, s.recall, s.f1, s.mean_abs_offset_s) == (0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="tolerance"):
        match_events([0.1], [0.1], 0.0)
    with pytest.raises(ValueError, match="finite"):
        match_events([np.nan], [0.1], 0.1)


def test_audio_onsets_found_at_known_times():
    true = [0.3, 0.9, 1.42]
    got = detect_audio_onsets(knocks(true), SR)
    assert len(got) == 3
    np.testing.assert_allclose(got, true, atol=0.003)


def test_silent_or_empty_audio_has_no_onsets():
    assert len(detect_audio_onsets(np.zeros((1, SR)), SR)) == 0
    assert len(detect_audio_onsets(np.zeros(0), SR)) == 0
    with pytest.raises(ValueError):
        detect_audio_onsets(np.zeros((1, 2, 3)), SR)


@pytest.mark.parametrize("turn", [9.0, 9.5, 12.3])
def test_square_reversal_time_recovered_below_one_frame(turn):
    got = detect_video_impacts(square_bouncing(turn), fps=16)
    assert len(got) == 1
    assert got[0] * 16 == pytest.approx(turn, abs=0.15)


def test_impacts_at_a_wall_are_told_from_turns_in_mid_air():
    turn, speed, half = 9.0, 1.5, 3.0
    (mid,) = detect_video_impact_events(square_bouncing(turn), fps=16)  # turns at x = 19.5 of 32
    # the same motion shifted right, so the square's edge touches the right edge of the frame as it turns
    (wall,) = detect_video_impact_events(square_bouncing(turn, x0=32 - half - speed * turn), fps=16)
    assert (mid.axis, mid.at_wall, wall.axis, wall.at_wall) == ("x", False, "x", True)
    assert mid.time_s * 16 == pytest.approx(turn, abs=0.15) and wall.time_s * 16 == pytest.approx(turn, abs=0.15)


def test_real_bounce_impacts_happen_at_walls():
    from seedkit.data.bounce import BounceGenerator

    gen = BounceGenerator()
    found, axes_agree, matched = 0, 0, 0
    for i in range(8):
        scene = gen.scene(i)
        events = detect_video_impact_events(scene.frames, 16)
        found += len(events)
        assert sum(e.at_wall for e in events) >= len(events) - 1
        for e in events:  # the axis is the true wall's: left / right walls are x, top / floor y
            true = [t for t in scene.events if abs(t.time_s - e.time_s) <= 1 / 16]
            if true:
                matched += 1
                axes_agree += e.axis == ("x" if true[0].wall in ("left", "right") else "y")
    assert found > 10 and matched >= 0.8 * found and axes_agree >= 0.85 * matched  # measured: 35, 34, 31


def test_motion_stats_tell_straight_motion_from_jitter():
    straight = square_bouncing(turn_frame=100.0, speed_px=0.8)  # never turns, stays inside the frame
    (track,) = track_objects(straight)
    assert track.valid.all() and np.diff(track.xy[:, 0]) == pytest.approx(0.8, abs=0.05)
    calm = motion_stats([straight, straight])
    assert calm.n_objects == 2 and calm.speed_px == pytest.approx(0.8, abs=0.05) and calm.accel_px < 0.05
    jitter = straight.copy()
    jitter[1::2] = np.roll(straight[1::2], 3, axis=1)  # every other frame 3 px lower: a jump each frame
    shaky = motion_stats([jitter])
    assert shaky.n_objects == 1 and shaky.accel_px > 5.0  # 3 px down and back up: |second difference| 6
    assert motion_stats([np.full((8, 16, 16, 3), 20, np.uint8)]).n_objects == 0


def test_constant_or_empty_video_has_no_impacts():
    still = np.full((20, 16, 16, 3), 40, np.uint8)
    still[:, 4:8, 4:8] = 200
    assert len(detect_video_impacts(still, 16)) == 0
    assert len(detect_video_impacts(np.zeros((0, 16, 16, 3), np.uint8), 16)) == 0
    with pytest.raises(ValueError, match="frames"):
        detect_video_impacts(np.zeros((4, 16, 16)), 16)


def test_shift_audio_delays_and_keeps_length():
    w = np.arange(10, dtype=np.float32)[None]
    np.testing.assert_array_equal(shift_audio(w, 10, 0.3), [[0, 0, 0, 0, 1, 2, 3, 4, 5, 6]])
    np.testing.assert_array_equal(shift_audio(w, 10, -0.2), [[2, 3, 4, 5, 6, 7, 8, 9, 0, 0]])


def test_bounce_audio_matches_video_and_shift_breaks_it():
    from seedkit.data.bounce import BounceGenerator

    gen = BounceGenerator()
    scenes = [gen.scene(i) for i in range(4)]
    real = bounce_sync_report(scenes, 16, SR)
    shifted = bounce_sync_report(scenes, 16, SR, audio_shift_s=0.25)
    assert real["audio_vs_true"]["f1"] > 0.85 and real["audio_vs_true"]["mean_abs_offset_ms"] < 5
    assert real["video_vs_true"]["f1"] > 0.7
    assert shifted["audio_vs_video"]["f1"] < real["audio_vs_video"]["f1"] - 0.4
    s = event_sync_score(scenes[0].frames, scenes[0].waveform, 16, SR)  # F1 0.75, 6.4 ms measured
    assert s.n_pred > 0 and s.n_true > 0 and s.f1 >= 0.7 and s.mean_abs_offset_s < 0.02
    late = event_sync_score(scenes[0].frames, shift_audio(scenes[0].waveform, SR, 0.25), 16, SR)  # 0.25
    assert late.f1 < s.f1 - 0.4
