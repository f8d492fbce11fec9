"""Audio-video I/O: read any file PyAV can open, write mp4 (H.264 + AAC), play it in a notebook.

A `Clip` holds decoded media in the layouts every other module expects:

    frames    uint8 [T, H, W, 3]      RGB
    waveform  float32 [C, N] in [-1, 1]
    fps, sample_rate                  rates of the two streams
    video_start_s, audio_start_s      presentation time of the first frame / sample

Errors name the file and the problem (`MediaError`), so a data-preparation job can record the
reason and move on.
"""
from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["Clip", "MediaError", "read", "read_audio", "write", "encode_mp4", "show", "probe"]


class MediaError(RuntimeError):
    """A media file is missing, unreadable, truncated, or lacks a stream that was asked for."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}")


@dataclass
class Clip:
    """Decoded audio-video clip. Either stream may be absent (None) for audio- or video-only media."""

    frames: np.ndarray | None  # uint8 [T, H, W, 3]
    waveform: np.ndarray | None  # float32 [C, N] in [-1, 1]
    fps: float | None  # video frames per second
    sample_rate: int | None  # audio samples per second
    video_start_s: float = 0.0  # time of the first frame
    audio_start_s: float = 0.0  # time of the first audio sample

    @property
    def num_frames(self) -> int:
        return 0 if self.frames is None else int(self.frames.shape[0])

    @property
    def video_duration_s(self) -> float:
        return self.num_frames / self.fps if self.fps else 0.0

    @property
    def audio_duration_s(self) -> float:
        if self.waveform is None or not self.sample_rate:
            return 0.0
        return self.waveform.shape[1] / self.sample_rate

    def _repr_html_(self) -> str:  # a Clip on the last line of a cell plays itself
        return player_html(self)


# ----------------------------------------------------------------------------------------------
# reading


def probe(path: str | os.PathLike) -> dict:
    """Stream summary of a file without decoding it: codecs, sizes, rates, durations."""
    with _open(path) as container:
        info: dict = {"path": str(path), "video": None, "audio": None}
        if container.streams.video:
            s = container.streams.video[0]
            info["video"] = {
                "codec": s.codec_context.name,
                "width": s.codec_context.width,
                "height": s.codec_context.height,
                "fps": float(s.average_rate) if s.average_rate else None,
                "frames": s.frames or None,
            }
        if container.streams.audio:
            s = container.streams.audio[0]
            info["audio"] = {
                "codec": s.codec_context.name,
                "sample_rate": s.codec_context.sample_rate,
                "channels": s.codec_context.channels,
            }
        return info


def read(
    path: str | os.PathLike,
    *,
    video: bool = True,
    audio: bool = True,
    require_video: bool = True,
    require_audio: bool = True,
    sample_rate: int | None = None,
    mono: bool = False,
    size: tuple[int, int] | None = None,
) -> Clip:
    """Decode a media file.

    Args:
        path: any container PyAV/FFmpeg opens (mp4, mkv, mpg, wav, ...).
        video, audio: decode that stream at all.
        require_video, require_audio: raise `MediaError` when a decoded stream is missing.
        sample_rate: resample audio to this rate (None keeps the file's rate).
        mono: downmix audio to one channel.
        size: (height, width) to scale frames to (None keeps the file's size).

    Returns a `Clip`: frames uint8 [T, H, W, 3], waveform float32 [C, N].
    """
    with _open(path) as container:
        has_v, has_a = bool(container.streams.video), bool(container.streams.audio)
        if video and require_video and not has_v:
            raise MediaError(path, "has no video stream (expected one for frames)")
        if audio and require_audio and not has_a:
            raise MediaError(path, "has no audio stream (expected one for the soundtrack)")
        frames, fps, v_start = None, None, 0.0
        if video and has_v:
            frames, fps, v_start = _decode_video(container, path, size)
    waveform, sr, a_start = None, None, 0.0
    if audio and has_a:
        # Audio is demuxed in a second pass: interleaved demuxing of both streams would need
        # buffering logic, and a second open is cheap next to decoding.
        with _open(path) as container:
            waveform, sr, a_start = _decode_audio(container, path, sample_rate, mono)
    return Clip(frames, waveform, fps, sr, v_start, a_start)


def read_audio(path: str | os.PathLike, sample_rate: int | None = None, mono: bool = False) -> Clip:
    """Decode only the audio of a file (a wav, or the soundtrack of a video)."""
    return read(path, video=False, require_video=False, sample_rate=sample_rate, mono=mono)


def _open(path: str | os.PathLike):
    p = Path(path)
    if not p.exists():
        raise MediaError(path, "no such file")
    if p.is_dir():
        raise MediaError(path, "is a directory, expected a media file")
    if p.stat().st_size == 0:
        raise MediaError(path, "is empty (0 bytes)")
    try:
        return av.open(str(p))
    except av.error.FFmpegError as e:
        raise MediaError(path, f"not a readable media file ({e.strerror or e})") from e


def _decode_video(container, path, size) -> tuple[np.ndarray, float, float]:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    rate = stream.average_rate or stream.guessed_rate
    if not rate:
        raise MediaError(path, "video stream has no frame rate")
    kwargs = {"format": "rgb24"}
    if size is not None:
        kwargs.update(height=int(size[0]), width=int(size[1]))
    frames, start = [], None
    try:
        for frame in container.decode(stream):
            if start is None:
                start = float(frame.time) if frame.time is not None else 0.0
            frames.append(frame.to_ndarray(**kwargs))
    except av.error.FFmpegError as e:
        raise MediaError(path, f"video is truncated or corrupt after {len(frames)} frames ({e})") from e
    if not frames:
        raise MediaError(path, "video stream decodes to no frames (truncated or corrupt)")
    expected = stream.frames
    if expected and len(frames) < 0.9 * expected:
        raise MediaError(path, f"video is truncated: {len(frames)} of {expected} frames decoded")
    return np.stack(frames), float(rate), start or 0.0


def _decode_audio(container, path, sample_rate, mono) -> tuple[np.ndarray, int, float]:
    stream = container.streams.audio[0]
    src_rate = stream.codec_context.sample_rate
    rate = int(sample_rate or src_rate)
    layout = "mono" if mono else None
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    chunks, start = [], None
    try:
        for frame in container.decode(stream):
            if start is None:
                start = float(frame.time) if frame.time is not None else 0.0
            chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray() for f in resampler.resample(None))  # flush
    except av.error.FFmpegError as e:
        raise MediaError(path, f"audio is truncated or corrupt ({e})") from e
    if not chunks:
        raise MediaError(path, "audio stream decodes to no samples (truncated or corrupt)")
    wav = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return wav, rate, start or 0.0


# ----------------------------------------------------------------------------------------------
# writing


def write(
    path: str | os.PathLike,
    frames=None,
    waveform=None,
    fps: float | None = None,
    sample_rate: int | None = None,
    *,
    crf: int = 18,
    audio_bitrate: int = 128_000,
) -> Path:
    """Write an mp4: H.264 video (yuv420p) and AAC audio; either stream may be None.

    Args:
        frames: uint8 [T, H, W, 3] (numpy or tensor). H and W are padded to even sizes (yuv420p).
        waveform: float [C, N] or [N] in [-1, 1] (values outside are clipped).
        fps, sample_rate: rates of the two streams.

    The file is written next to its final name and renamed, so a crash never leaves half an mp4.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_mp4(frames, waveform, fps, sample_rate, crf=crf, audio_bitrate=audio_bitrate)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def encode_mp4(frames=None, waveform=None, fps=None, sample_rate=None, *, crf=18, audio_bitrate=128_000) -> bytes:
    """Encode to mp4 bytes in memory (see `write`)."""
    frames = None if frames is None else np.asarray(_to_numpy(frames))
    waveform = None if waveform is None else np.asarray(_to_numpy(waveform), dtype=np.float32)
    if frames is None and waveform is None:
        raise ValueError("encode_mp4 needs frames, a waveform, or both")
    if frames is not None:
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive to write video, got {fps!r}")
    if waveform is not None:
        if waveform.ndim == 1:
            waveform = waveform[None]
        if waveform.ndim != 2 or waveform.shape[0] > 2:
            raise ValueError(f"waveform must be [C, N] with C in (1, 2), got {waveform.shape}")
        if not sample_rate or sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive to write audio, got {sample_rate!r}")

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        v_stream = a_stream = None
        if frames is not None:
            t, h, w, _ = frames.shape
            h2, w2 = h + h % 2, w + w % 2
            if (h2, w2) != (h, w):  # yuv420p needs even sizes: pad by edge replication
                frames = np.pad(frames, ((0, 0), (0, h2 - h), (0, w2 - w), (0, 0)), mode="edge")
            v_stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            v_stream.width, v_stream.height, v_stream.pix_fmt = w2, h2, "yuv420p"
            # x264's macroblock-tree rate control (mbtree) made the same frames encode to other bytes now
            # and then (8 of 200 encodings of four bounce clips, with one thread too), so a seeded sample
            # would not give the same file; without it none of 400 differed, at the same PSNR (64x64:
            # higher). One thread: x2 faster on these small clips (2.9 against 7.0 ms for 32 frames)
            v_stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"}
        if waveform is not None:
            layout = "mono" if waveform.shape[0] == 1 else "stereo"
            a_stream = out.add_stream("aac", rate=int(sample_rate), layout=layout)
            a_stream.bit_rate = audio_bitrate
        if v_stream is not None:
            for i, img in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                frame.pts = i
                out.mux(v_stream.encode(frame))
            out.mux(v_stream.encode(None))
        if a_stream is not None:
            wav = np.ascontiguousarray(np.clip(waveform, -1.0, 1.0))
            step = 1024  # AAC frame size; the encoder re-chunks anyway
            for start in range(0, wav.shape[1], step):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(wav[:, start : start + step]), format="fltp",
                    layout=a_stream.layout.name,
                )
                frame.sample_rate, frame.pts = int(sample_rate), start
                out.mux(a_stream.encode(frame))
            out.mux(a_stream.encode(None))
    return buf.getvalue()


def _to_numpy(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return x


# ----------------------------------------------------------------------------------------------
# notebook playback


def player_html(clip: Clip | None = None, *, frames=None, waveform=None, fps=None, sample_rate=None,
                width: int = 256, caption: str | None = None) -> str:
    """HTML for an inline player: <video> with sound, or <audio> for audio-only media."""
    if clip is not None:
        frames, waveform, fps, sample_rate = clip.frames, clip.waveform, clip.fps, clip.sample_rate
    cap = f"<div style='font:12px monospace'>{html.escape(caption)}</div>" if caption else ""
    if frames is None:
        data = base64.b64encode(encode_mp4(None, waveform, None, sample_rate)).decode()
        return f"<div>{cap}<audio controls src='data:audio/mp4;base64,{data}'></audio></div>"
    data = base64.b64encode(encode_mp4(frames, waveform, fps, sample_rate)).decode()
    # Pixelated scaling keeps 32x32 frames crisp when shown large.
    return (
        f"<div style='display:inline-block;margin:4px'>{cap}<video controls loop width='{width}' "
        f"style='image-rendering:pixelated' src='data:video/mp4;base64,{data}'></video></div>"
    )


def show(clip: Clip | None = None, **kwargs):
    """Display a playable clip (video with sound, or audio only) in a notebook.

    `show(clip)` or `show(frames=..., waveform=..., fps=..., sample_rate=...)`. Outside a notebook
    it returns the HTML string.
    """
    markup = player_html(clip, **kwargs)
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None:
            display(HTML(markup))
            return None
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    return markup
