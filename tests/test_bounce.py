import time

import numpy as np
import pytest

from seedkit.data import BounceConfig, BounceGenerator, ClipSpec
from seedkit.data.bounce import read_layout


def test_scenes_are_deterministic_per_seed_and_index():
    a, b = BounceGenerator(BounceConfig(seed=3)), BounceGenerator(BounceConfig(seed=3))
    s1, s2 = a.scene(17), b.scene(17)
    assert np.array_equal(s1.frames, s2.frames) and np.array_equal(s1.waveform, s2.waveform)
    assert s1.caption == s2.caption and [e.time_s for e in s1.events] == [e.time_s for e in s2.events]
    assert not np.array_equal(a.scene(18).frames, s1.frames)
    assert not np.array_equal(BounceGenerator(BounceConfig(seed=4)).scene(17).frames, s1.frames)


def test_default_shapes_follow_the_clip_spec():
    s = BounceGenerator().scene(0)
    assert s.frames.shape == (32, 32, 32, 3) and s.frames.dtype == np.uint8
    assert s.waveform.shape == (1, 32000) and s.waveform.dtype == np.float32
    assert np.abs(s.waveform).max() <= 1.0


def test_other_clip_specs_are_honoured():
    spec = ClipSpec(fps=25, num_frames=50, size=48, sample_rate=22050)
    s = BounceGenerator(BounceConfig(spec=spec)).scene(1)
    assert s.frames.shape == (50, 48, 48, 3) and s.waveform.shape == (1, 44100)


def test_captions_name_the_objects():
    gen = BounceGenerator()
    for i in range(20):
        s = gen.scene(i)
        words = s.caption.split()
        assert len(words) in (2, 4)
        assert all(w in gen.vocabulary() for w in words)
        assert {e.label for e in s.events} <= {" ".join(words[k:k + 2]) for k in range(0, len(words), 2)}


def test_layout_captions_say_where_each_object_starts_and_heads():
    objects, layout = BounceGenerator(), BounceGenerator(BounceConfig(captions="layout"))
    assert objects.vocabulary() == ["red", "blue", "green", "yellow", "ball", "box"]  # unchanged
    lo, hi = layout.config.radius, 1 - layout.config.radius
    dt = 1 / layout.config.spec.fps
    checked = 0
    for i in range(40):
        s, tracks = layout.scene(i), layout.tracks(i)
        assert layout.caption(i) == s.caption  # the same words without drawing the scene
        assert all(w in layout.vocabulary() for w in s.caption.split())
        described = read_layout(s.caption)
        # the same objects in the same order as the plain caption, one description per track
        assert " ".join(f"{c} {k}" for c, k, *_ in described) == objects.scene(i).caption
        assert len(described) == np.isfinite(tracks[0, :, 0]).sum()
        for j, (_, _, row, col, heading) in enumerate(described):
            x, y = tracks[0, j]
            # the third of the arena the centre starts in (y points down)
            assert col == ("left", "center", "right")[min(2, int(3 * (x - lo) / (hi - lo)))]
            assert row == ("top", "middle", "bottom")[min(2, int(3 * (y - lo) / (hi - lo)))]
            # the heading: within half a 45-degree sector (+6 degrees for a frame of gravity) of
            # the first frame's displacement, unless a bounce falls inside that frame
            if any(e.time_s < dt for e in s.events):
                continue
            dx, dy = tracks[1, j] - tracks[0, j]
            angle = np.degrees(np.arctan2(-dy, dx))
            said = {"right": 0, "up right": 45, "up": 90, "up left": 135, "left": 180,
                    "down left": -135, "down": -90, "down right": -45}[heading]
            assert abs((angle - said + 180) % 360 - 180) <= 22.5 + 6, (i, j, angle, heading)
            checked += 1
    assert checked >= 40
    with pytest.raises(ValueError, match="unknown bounce captions 'long'"):
        BounceGenerator(BounceConfig(captions="long"))
    with pytest.raises(ValueError, match="not a layout caption: 'red ball blue box'"):
        read_layout("red ball blue box")


def _onset(wav, t, sr, window_s=0.05):
    lo = max(0, int((t - window_s) * sr))
    seg = np.abs(wav[lo: int((t + window_s) * sr)])
    return (lo + int(np.argmax(seg > 0.05 * seg.max()))) / sr


def test_every_impact_sound_starts_within_5ms_of_its_event():
    gen = BounceGenerator()
    sr = gen.config.spec.sample_rate
    checked = 0
    for i in range(30):
        s = gen.scene(i)
        times = [e.time_s for e in s.events]
        for k, t in enumerate(times):
            # an isolated impact: silence before it, so the onset is unambiguous
            if (k == 0 or t - times[k - 1] > 0.36) and 0.06 < t < 1.9:
                assert abs(_onset(s.waveform[0], t, sr) - t) <= 0.005, (i, t)
                checked += 1
    assert checked >= 15


def test_impacts_are_where_the_trajectory_reverses():
    gen = BounceGenerator(BounceConfig(gravity=0.0))
    s = gen.scene(5)
    fps = gen.config.spec.fps
    for e in s.events:
        f = int(e.time_s * fps)
        if 1 <= f < len(s.tracks) - 2:
            j = 0 if s.caption.startswith(e.label) else 1
            axis = 0 if e.wall in ("left", "right") else 1
            before = s.tracks[f, j, axis] - s.tracks[f - 1, j, axis]
            after = s.tracks[f + 2, j, axis] - s.tracks[f + 1, j, axis]
            assert before * after < 0


def test_louder_impacts_for_faster_objects():
    gen = BounceGenerator(BounceConfig(min_objects=1, max_objects=1, gravity=0.0, colors=("blue",)))
    slow = BounceGenerator(BounceConfig(min_objects=1, max_objects=1, gravity=0.0, colors=("blue",),
                                        min_speed=0.3, max_speed=0.31)).scene(0)
    fast = BounceGenerator(BounceConfig(min_objects=1, max_objects=1, gravity=0.0, colors=("blue",),
                                        min_speed=1.2, max_speed=1.21)).scene(0)
    assert gen.vocabulary()
    assert np.abs(fast.waveform).max() > 2 * np.abs(slow.waveform).max()


def test_unknown_colour_is_rejected_by_name():
    with pytest.raises(ValueError, match="purple"):
        BounceGenerator(BounceConfig(colors=("purple",)))


def test_generation_is_fast_enough_to_feed_training():
    gen = BounceGenerator()
    t0 = time.perf_counter()
    n = 50
    for i in range(n):
        gen.scene(i)
    rate = n / (time.perf_counter() - t0)
    assert rate > 50, f"bounce generates {rate:.0f} clips/s"
