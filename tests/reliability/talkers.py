"""Synthetic GRID-like source folders: talking heads on GRID's blue background, plus broken files."""

import numpy as np

from seedkit import media

GOOD_IDS = ["bbaf2n", "lgaz8p", "pwij3p", "sbaz4s", "bgwa5n", "lrwp9a", "prac6n", "swiz3n"]
ALIGN = "0 23750 sil\n23750 29500 bin\n29500 34000 blue\n34000 35500 at\n35500 41000 f\n" \
        "41000 47250 two\n47250 53000 now\n53000 74500 sil\n"


def talker(num_frames=75, h=96, w=120, seed=0):
    """frames uint8 [T, h, w, 3] (a head with moving red lips), waveform float32 [1, N] at 16 kHz."""
    import cv2

    rng = np.random.default_rng(seed)
    frames = np.zeros((num_frames, h, w, 3), np.uint8)
    frames[:] = (40, 170, 240)  # GRID blue
    for t, f in enumerate(frames):
        cv2.ellipse(f, (w // 2, 52), (24, 32), 0, 0, 360, (225, 180, 150), -1)  # head
        cv2.ellipse(f, (60, 66), (8, 2 + (t + seed) % 4), 0, 0, 360, (200, 40, 60), -1)  # lips
    n = num_frames * 640
    wav = 0.3 * np.sin(2 * np.pi * (300 + 40 * seed) * np.arange(n) / 16000) + 0.01 * rng.standard_normal(n)
    return frames, wav.astype(np.float32)[None]


def write_source(root, n_good=2, faults=True):
    """n_good clips with alignments in root/s1; with `faults`, one file of each broken kind.

    Returns {clip key: the kind of skip expected} for the broken files."""
    (root / "alignments/s1").mkdir(parents=True, exist_ok=True)
    for i, clip_id in enumerate(GOOD_IDS[:n_good]):
        frames, wav = talker(seed=i)
        media.write(root / "s1" / f"{clip_id}.mkv", frames, wav, 25.0, 16000)
        (root / "alignments/s1" / f"{clip_id}.align").write_text(ALIGN)
    if not faults:
        return {}
    frames, wav = talker(seed=9)
    (root / "s1/sbaz1s.mpg").write_bytes(b"")  # zero bytes
    write_mpeg1(root / "s1/sbaz2s.mpg", frames, wav)
    whole = (root / "s1/sbaz2s.mpg").read_bytes()
    (root / "s1/sbaz2s.mpg").write_bytes(whole[: len(whole) // 2])  # cut off: decodes to 66 frames
    # not media at all; fixed bytes: a rare draw of os.urandom opened as an MPEG stream with no video
    (root / "s1/sbaz3s.mpg").write_bytes(np.random.default_rng(0).bytes(8192))
    media.write(root / "s1/sbaz5s.mp4", frames, None, 25.0, 16000)  # video, no audio stream
    media.write(root / "s1/sbaz6s.mp4", None, wav, None, 16000)  # audio, no video stream
    media.write(root / "s1/sbaz7s.mkv", frames, wav, 25.0, 16000)
    (root / "alignments/s1/sbaz7s.align").write_text("0 23750 sil\n23750 bin\n")  # a line lacks a field
    return {"s1/sbaz1s": "empty file", "s1/sbaz2s": "truncated", "s1/sbaz3s": "unreadable",
            "s1/sbaz5s": "no audio", "s1/sbaz6s": "no video", "s1/sbaz7s": "bad alignment"}


def write_mpeg1(path, frames, wav, fps=25, sample_rate=16000):
    """An MPEG-1 program stream (mpeg1video + mp2), like GRID's original .mpg files: cut short, it
    still opens and decodes, just to fewer frames."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w", format="mpeg") as out:
        v = out.add_stream("mpeg1video", rate=Fraction(fps))
        v.width, v.height, v.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        a = out.add_stream("mp2", rate=sample_rate, layout="mono")
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode())
        pcm = (np.clip(wav[0], -1, 1) * 32767).astype(np.int16)
        for i in range(0, len(pcm) - 1152 + 1, 1152):
            fr = av.AudioFrame.from_ndarray(pcm[None, i:i + 1152], format="s16", layout="mono")
            fr.sample_rate = sample_rate
            out.mux(a.encode(fr))
        out.mux(a.encode())
