import numpy as np
import pytest

from seedkit import media
from seedkit.media import MediaError


def _clip(t=24, size=32, fps=16.0, sr=16000):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:size, :size]
    frames = np.stack([((x + 2 * i) % size * 8 + y * 0).astype(np.uint8) for i in range(t)])
    frames = np.repeat(frames[..., None], 3, axis=-1)
    frames[..., 1] = 128
    n = int(t / fps * sr)
    tt = np.arange(n) / sr
    wav = (0.4 * np.sin(2 * np.pi * 440 * tt) * (1 + 0.5 * np.sin(2 * np.pi * 3 * tt))).astype(np.float32)
    wav += 0.01 * rng.standard_normal(n).astype(np.float32)
    return frames, wav[None], fps, sr


def test_round_trip_keeps_frames_rate_duration_and_sound(tmp_path):
    frames, wav, fps, sr = _clip()
    path = media.write(tmp_path / "a.mp4", frames, wav, fps, sr)
    clip = media.read(path)
    assert clip.frames.shape == frames.shape and clip.frames.dtype == np.uint8
    assert clip.fps == pytest.approx(fps)
    assert clip.sample_rate == sr and clip.waveform.dtype == np.float32
    assert abs(clip.audio_duration_s - clip.video_duration_s) <= 1 / fps
    # AAC has an encoder delay: align by the audio start time, then correlate.
    got = clip.waveform[0]
    shift = int(round(clip.audio_start_s * sr))
    got = got[max(0, -shift):] if shift < 0 else np.concatenate([np.zeros(shift), got])
    n = min(len(got), wav.shape[1])
    lag = int(np.argmax(np.correlate(got[: n][:4000], wav[0, :4000], mode="full"))) - 3999
    got = np.roll(got, -lag)[:n]
    corr = np.corrcoef(got[2000:n - 2000], wav[0, 2000:n - 2000])[0, 1]
    assert corr > 0.95
    assert np.abs(clip.frames.astype(int) - frames.astype(int)).mean() < 6


def test_written_file_has_one_h264_and_one_aac_stream(tmp_path):
    frames, wav, fps, sr = _clip()
    info = media.probe(media.write(tmp_path / "a.mp4", frames, wav, fps, sr))
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    assert (info["video"]["width"], info["video"]["height"]) == (32, 32)
    assert info["audio"]["sample_rate"] == sr and info["audio"]["channels"] == 1


def test_the_same_clip_always_encodes_to_the_same_bytes():
    """A seeded sample must give the same file: with x264's default threads, bounce scenes encoded to
    other bytes now and then (1-4 of 30-40 tries)."""
    from seedkit.data.bounce import BounceGenerator

    gen = BounceGenerator()
    for scene in (gen.scene(i) for i in range(3)):
        encodings = {media.encode_mp4(scene.frames, scene.waveform, 16.0, 16000) for _ in range(16)}
        assert len(encodings) == 1


def test_read_resamples_and_downmixes_on_request(tmp_path):
    frames, wav, fps, sr = _clip()
    stereo = np.concatenate([wav, wav * 0.5])
    path = media.write(tmp_path / "s.mp4", frames, stereo, fps, sr)
    clip = media.read(path, sample_rate=8000, mono=True, size=(16, 16))
    assert clip.waveform.shape[0] == 1 and clip.sample_rate == 8000
    assert clip.frames.shape[1:] == (16, 16, 3)
    assert clip.audio_duration_s == pytest.approx(len(frames) / fps, abs=0.1)


def test_odd_frame_sizes_are_padded_to_even(tmp_path):
    frames = np.zeros((4, 15, 17, 3), np.uint8)
    clip = media.read(media.write(tmp_path / "o.mp4", frames, None, 10.0, None), audio=False)
    assert clip.frames.shape == (4, 16, 18, 3)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(MediaError, match="nope.mp4: no such file"):
        media.read(tmp_path / "nope.mp4")


def test_zero_byte_file_is_reported(tmp_path):
    (tmp_path / "z.mp4").write_bytes(b"")
    with pytest.raises(MediaError, match=r"z.mp4: is empty"):
        media.read(tmp_path / "z.mp4")


def test_garbage_bytes_are_unreadable(tmp_path):
    (tmp_path / "g.mp4").write_bytes(b"this is not a video" * 100)
    with pytest.raises(MediaError, match="g.mp4: not a readable media file"):
        media.read(tmp_path / "g.mp4")


def test_truncated_file_is_reported(tmp_path):
    frames, wav, fps, sr = _clip(t=48)
    data = media.encode_mp4(frames, wav, fps, sr)
    (tmp_path / "t.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match="t.mp4"):
        media.read(tmp_path / "t.mp4")


def test_file_without_audio_stream_is_reported(tmp_path):
    frames, _, fps, _ = _clip()
    path = media.write(tmp_path / "v.mp4", frames, None, fps, None)
    with pytest.raises(MediaError, match="v.mp4: has no audio stream"):
        media.read(path)
    assert media.read(path, require_audio=False).waveform is None


def test_file_without_video_stream_is_reported(tmp_path):
    _, wav, _, sr = _clip()
    path = media.write(tmp_path / "a.mp4", None, wav, None, sr)
    with pytest.raises(MediaError, match="a.mp4: has no video stream"):
        media.read(path)
    assert media.read_audio(path).waveform.shape[0] == 1


def test_player_html_has_video_with_sound_or_audio_only():
    frames, wav, fps, sr = _clip(t=8)
    assert "<video" in media.player_html(frames=frames, waveform=wav, fps=fps, sample_rate=sr)
    assert "<audio" in media.player_html(waveform=wav, sample_rate=sr)
