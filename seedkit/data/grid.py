"""GRID corpus (Cooke et al. 2006, CC BY 4.0): source layout, alignments, mouth crops, cache, dataset.

Source layout (as Zenodo record 3625687 lays it out; see data/README.md):

    SOURCE/s1/<id>.mkv | <id>.mpg          clips, 360x288, 25 fps, 44.1 kHz stereo
    SOURCE/alignments/s1/<id>.align        `start end word` per line, units of 1/25000 s
    SOURCE/<any folder>/<...id>.mpg        loose clips without alignments (transcript from the id)

`prepare_grid` turns each clip into a shard of the cache (CACHE/clips/<speaker>/<id>.npz):
    frames uint8 [T, S, S, 3]   lower-face crop (nose to chin, mouth centred), 25 fps
    audio  int16 [N]            mono 16 kHz (value / 32767 is the waveform in [-1, 1])
and appends one JSON line per clip to CACHE/manifest.jsonl (status ok, or skipped + reason).
`grid_splits` reads the cache as fixed-length windows in the sample-dict format of `clip.py`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .clip import ClipSpec, frames_to_video

ALIGN_UNITS_PER_S = 25000  # .align times are in 1/25000 s (1/1000 of a 25 fps frame)
GRID_FPS = 25.0  # GRID video frame rate
GRID_SAMPLE_RATE = 16000  # cached audio rate (resampled from 44.1 kHz stereo)
SILENCE = ("sil", "sp")  # alignment tokens that are not words
MEDIA_SUFFIXES = (".mkv", ".mpg", ".mp4", ".avi", ".mov")  # preference order for duplicates
DEFAULT_CACHE = Path("data/cache/grid")  # git-ignored

# The sentence grammar: one id character per slot (README of the corpus).
GRAMMAR: tuple[dict[str, str], ...] = (
    {"b": "bin", "l": "lay", "p": "place", "s": "set"},
    {"b": "blue", "g": "green", "r": "red", "w": "white"},
    {"a": "at", "b": "by", "i": "in", "w": "with"},
    {c: c for c in "abcdefghijklmnopqrstuvxyz"},  # letters, no w
    {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
     "7": "seven", "8": "eight", "9": "nine"},
    {"a": "again", "n": "now", "p": "please", "s": "soon"},
)
_ID_RE = re.compile("".join(f"[{''.join(slot)}]" for slot in GRAMMAR) + "$")


def grid_vocabulary() -> list[str]:
    """The 51 GRID words, in grammar order."""
    return [w for slot in GRAMMAR for w in slot.values()]


def transcript_from_id(clip_id: str) -> str:
    """`bbaf2n` -> "bin blue at f two now" (raises ValueError for a name outside the grammar)."""
    if not _ID_RE.fullmatch(clip_id):
        raise ValueError(f"{clip_id!r} is not a GRID clip id (command color prep letter digit adverb)")
    return " ".join(slot[c] for slot, c in zip(GRAMMAR, clip_id))


def clip_id_from_name(name: str) -> str:
    """Clip id from a file name: `id2_vcd_swwp2s.mpg` -> `swwp2s` (the last six characters of the stem)."""
    stem = Path(name).stem.lower()
    m = _ID_RE.search(stem)
    if not m:
        raise ValueError(f"{name}: no GRID clip id at the end of the file name")
    return m.group(0)


# ----------------------------------------------------------------------------------------------
# alignments


@dataclass(frozen=True)
class Word:
    """One aligned word: start/end in seconds from the start of the clip."""

    word: str
    start_s: float
    end_s: float


def parse_alignment(text: str, source: str = "<align>") -> list[Word]:
    """Words of an `.align` file (`start end word` lines, 1/25000 s units), `sil`/`sp` dropped."""
    words = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"{source}:{n}: expected 'start end word', got {line!r}")
        start, end, word = int(parts[0]), int(parts[1]), parts[2]
        if end < start:
            raise ValueError(f"{source}:{n}: end {end} before start {start}")
        if word not in SILENCE:
            words.append(Word(word, start / ALIGN_UNITS_PER_S, end / ALIGN_UNITS_PER_S))
    return words


def read_alignment(path: str | os.PathLike) -> list[Word]:
    return parse_alignment(Path(path).read_text(), str(path))


# ----------------------------------------------------------------------------------------------
# source layout


@dataclass(frozen=True)
class SourceClip:
    """One clip found in a source folder."""

    key: str  # "<speaker>/<id>", unique in the cache
    clip_id: str  # six-character GRID id
    speaker: str  # "s1", or the folder of loose clips ("other_speakers")
    path: Path  # media file
    alignment: Path | None  # .align file, None for loose clips

    @property
    def transcript(self) -> str:
        return transcript_from_id(self.clip_id)


def grid_source() -> Path | None:
    """Where the notebooks find GRID: `SEEDKIT_GRID_SOURCE`, else the shared copy beside the kit's
    checkout (`../shared/datasets/grid`), else `data/raw/grid` (`seedkit data download grid`); the first
    that holds `s1/`, or None."""
    kit = Path(__file__).resolve().parents[2]  # the kit's folder (a source checkout or editable install)
    candidates = [os.environ.get("SEEDKIT_GRID_SOURCE"), kit.parent / "shared/datasets/grid", kit / "data/raw/grid"]
    return next((Path(c) for c in candidates if c and (Path(c) / "s1").is_dir()), None)


def find_clips(source: str | os.PathLike) -> list[SourceClip]:
    """All GRID clips under `source`, sorted by key; `.mkv` preferred where an id also has an `.mpg`.
    Hidden folders are not searched (`.downloads/`, and `.extract-*/` left by a download killed while
    it extracted, whose half-written clips would otherwise stand in for the real ones)."""
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(f"GRID source {root} is not a folder (expected s1/, alignments/s1/, ...)")
    found: dict[str, SourceClip] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in MEDIA_SUFFIXES or not path.is_file():
            continue
        parts = path.relative_to(root).parts
        if "alignments" in parts or any(p.startswith(".") for p in parts[:-1]):
            continue
        try:
            clip_id = clip_id_from_name(path.name)
        except ValueError:
            continue  # not a GRID clip (a README video, a preview)
        speaker = path.parent.name
        align = _find_alignment(root, path, speaker, clip_id)
        clip = SourceClip(f"{speaker}/{clip_id}", clip_id, speaker, path, align)
        old = found.get(clip.key)
        if old is None or _rank(clip) < _rank(old):
            found[clip.key] = clip
    if not found:
        raise FileNotFoundError(f"GRID source {root}: no clips found (expected s1/<id>.mkv or .mpg)")
    return [found[k] for k in sorted(found)]


def _rank(clip: SourceClip) -> int:
    return MEDIA_SUFFIXES.index(clip.path.suffix.lower())


def _find_alignment(root: Path, path: Path, speaker: str, clip_id: str) -> Path | None:
    for cand in (root / "alignments" / speaker / f"{clip_id}.align",
                 root / "alignments" / f"{clip_id}.align", path.with_suffix(".align")):
        if cand.is_file():
            return cand
    return None


# ----------------------------------------------------------------------------------------------
# the mouth crop


@dataclass(frozen=True)
class CropBox:
    """Square crop in source pixels: centre (x, y) and side."""

    cx: float
    cy: float
    side: float

    def slices(self, height: int, width: int) -> tuple[slice, slice]:
        """Row and column slices of the box, shifted (not shrunk) to stay inside the frame."""
        half = self.side / 2
        y0 = max(round(min(max(self.cy - half, 0.0), height - self.side)), 0)
        x0 = max(round(min(max(self.cx - half, 0.0), width - self.side)), 0)
        s = round(self.side)
        return slice(y0, y0 + s), slice(x0, x0 + s)


def head_mask(frame: np.ndarray) -> np.ndarray:
    """bool [H, W]: the talker, found by keying out GRID's blue background (largest component)."""
    import cv2

    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    hue, sat = hsv[..., 0], hsv[..., 1]
    background = (hue >= 75) & (hue <= 115) & (sat >= 50)  # OpenCV hue 0..180: cyan-blue
    fg = cv2.morphologyEx((~background).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
    if n < 2:
        raise ValueError("no foreground after keying out the blue background")
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def mouth_box(frame: np.ndarray) -> CropBox:
    """Lower-face box of one RGB frame [H, W, 3]: head from the keyed mask, mouth from lip redness.

    The head's top row and width give a search window for the mouth; lips are the reddest pixels
    (LAB a*) in it. The side (0.58 x head width, hair capped) spans nose to chin.
    """
    import cv2

    h, w = frame.shape[:2]
    fg = head_mask(frame)
    rows = fg.sum(1)
    top = int(np.argmax(rows > 0.04 * w))
    band = fg[top : top + int(0.35 * h)]
    head_w = min(float(band.sum(1).max()), 0.45 * w)  # long hair widens the mask: cap it
    cx = float(np.median(np.nonzero(band)[1]))
    redness = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)
    y0, y1 = int(top + 0.98 * head_w), int(min(h, top + 1.5 * head_w))
    x0, x1 = int(max(0, cx - 0.25 * head_w)), int(min(w, cx + 0.25 * head_w))
    region = redness[y0:y1, x0:x1]
    if region.size == 0:
        raise ValueError("head found too low in the frame for a mouth search")
    ys, xs = np.nonzero(region >= np.percentile(region, 97))
    return CropBox(x0 + float(np.median(xs)), y0 + float(np.median(ys)), 0.58 * head_w)


def clip_crop_box(frames: np.ndarray, num_probes: int = 7, scale: int = 2) -> CropBox:
    """One box for a whole clip [T, H, W, 3]: the median of per-frame boxes (a steady crop).

    Boxes are searched on frames shrunk `scale` times (4x fewer pixels, same box to a pixel or two).
    """
    import cv2

    idx = np.linspace(0, len(frames) - 1, min(num_probes, len(frames))).round().astype(int)
    h, w = frames.shape[1] // scale, frames.shape[2] // scale
    small = [cv2.resize(frames[i], (w, h), interpolation=cv2.INTER_AREA) for i in idx]
    boxes = np.array([[b.cx, b.cy, b.side] for b in map(mouth_box, small)]) * scale
    cx, cy, side = np.median(boxes, axis=0)
    side = min(side, frames.shape[1], frames.shape[2])
    return CropBox(float(cx), float(cy), float(side))


def crop_frames(frames: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    """uint8 [T, H, W, 3] -> uint8 [T, size, size, 3] cut by `box` (area resampling)."""
    import cv2

    ys, xs = box.slices(frames.shape[1], frames.shape[2])
    return np.stack([cv2.resize(f[ys, xs], (size, size), interpolation=cv2.INTER_AREA) for f in frames])


# ----------------------------------------------------------------------------------------------
# prepare: source clips -> cache shards + manifest


@dataclass
class PrepareConfig:
    """How `prepare_grid` builds the cache."""

    size: int = 64  # crop side in pixels after resizing
    sample_rate: int = GRID_SAMPLE_RATE  # audio rate of the cache, mono
    workers: int = 1  # worker processes (1 = in this process)
    limit: int | None = None  # prepare at most this many new clips (None = all)
    min_frames: int = 72  # shorter clips are truncated files: skipped (72 = one 2.88 s window)
    progress: bool = True  # tqdm progress bar


@dataclass
class PrepareSummary:
    """What one `prepare_grid` run did."""

    prepared: int = 0  # clips written this run
    skipped: int = 0  # clips that failed this run (reason in the manifest)
    already_done: int = 0  # clips found in the cache from an earlier run
    seconds: float = 0.0  # wall time of the run
    cache_bytes: int = 0  # size of the cache folder after the run
    reasons: dict = field(default_factory=dict)  # key -> reason, for this run's skips

    def skip_kinds(self) -> dict[str, int]:
        """How many of this run's skips fall in each kind (`skip_kind`), most frequent first."""
        counts: dict[str, int] = {}
        for reason in self.reasons.values():
            counts[skip_kind(reason)] = counts.get(skip_kind(reason), 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in self.skip_kinds().items())
        return (f"prepared {self.prepared}, skipped {self.skipped}" + (f" ({kinds})" if kinds else "")
                + f", already done {self.already_done} in {self.seconds:.1f} s; "
                f"cache {self.cache_bytes / 2**20:.1f} MiB")


# A skip reason -> its kind, for the end-of-run summary (first match wins; reasons are in the manifest).
SKIP_KINDS = (("is empty", "empty file"), ("truncated", "truncated"), ("no audio stream", "no audio"),
              ("no video stream", "no video"), ("not a readable media", "unreadable"),
              ("frame rate", "wrong frame rate"), (".align:", "bad alignment"),
              ("foreground", "no face found"), ("mouth search", "no face found"))


def skip_kind(reason: str) -> str:
    """'MediaError: x.mpg: is empty (0 bytes)' -> 'empty file' (or 'other')."""
    return next((kind for needle, kind in SKIP_KINDS if needle in reason), "other")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(cache_dir: str | os.PathLike) -> dict[str, dict]:
    """key -> latest manifest record (later lines win; a torn last line is ignored)."""
    path = Path(cache_dir) / "manifest.jsonl"
    records: dict[str, dict] = {}
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a run killed mid-write leaves at most one torn line
        records[rec["key"]] = rec
    return records


def shard_path(cache_dir: str | os.PathLike, key: str) -> Path:
    return Path(cache_dir) / "clips" / f"{key}.npz"


def prepare_clip(clip: SourceClip, cache_dir: str | os.PathLike, size: int = 64,
                 sample_rate: int = GRID_SAMPLE_RATE, min_frames: int = 72) -> dict:
    """Decode, crop and store one clip; returns its manifest record (status ok or skipped)."""
    from .. import media

    rec = {"key": clip.key, "id": clip.clip_id, "speaker": clip.speaker, "source": str(clip.path)}
    try:
        rec["transcript"] = clip.transcript
        rec["source_sha256"] = sha256_file(clip.path)
        words = read_alignment(clip.alignment) if clip.alignment else []
        decoded = media.read(clip.path, sample_rate=sample_rate, mono=True)
        if abs(decoded.fps - GRID_FPS) > 0.01:
            raise ValueError(f"frame rate {decoded.fps} fps, expected {GRID_FPS}")
        # A cut-off MPEG file decodes without an error, just shorter: GRID clips are 3 s.
        if decoded.num_frames < min_frames:
            raise ValueError(f"truncated: {decoded.num_frames} frames decoded, expected at least {min_frames}")
        if decoded.audio_duration_s < 0.9 * decoded.video_duration_s:
            raise ValueError(f"truncated: {decoded.audio_duration_s:.2f} s of audio for "
                             f"{decoded.video_duration_s:.2f} s of video")
        box = clip_crop_box(decoded.frames)
        frames = crop_frames(decoded.frames, box, size)
        audio = np.round(np.clip(decoded.waveform[0], -1, 1) * 32767).astype(np.int16)
        out = shard_path(cache_dir, clip.key)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".npz.part")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, frames=frames, audio=audio)
        os.replace(tmp, out)  # a shard is either whole or absent
    except Exception as e:  # noqa: BLE001 - every failure is recorded, the run goes on
        return {**rec, "status": "skipped", "reason": f"{type(e).__name__}: {e}"}
    return {**rec, "status": "ok", "words": [[w.word, w.start_s, w.end_s] for w in words],
            "aligned": clip.alignment is not None, "crop_box": asdict(box),
            "frames_shape": list(frames.shape), "audio_shape": list(audio.shape),
            "fps": GRID_FPS, "sample_rate": sample_rate, "shard": str(out.relative_to(cache_dir))}


def _same_source(rec: dict, clip: SourceClip) -> bool:
    """Is a skipped clip's file still the one its record was skipped for? A file replaced since (another
    path, other bytes: downloaded again, repaired) is prepared again."""
    if rec.get("source") != str(clip.path):
        return False
    return "source_sha256" not in rec or rec["source_sha256"] == sha256_file(clip.path)


def _prepare_job(job):
    return prepare_clip(*job)


def _init_worker():
    import cv2

    cv2.setNumThreads(1)  # one core per worker process


def prepare_grid(source: str | os.PathLike, cache_dir: str | os.PathLike = DEFAULT_CACHE,
                 config: PrepareConfig | None = None) -> PrepareSummary:
    """Prepare every clip under `source` into `cache_dir`; resumable, idempotent.

    Clips already in the manifest (ok with their shard present, or skipped) are not redone; each
    finished clip is appended to the manifest at once, so an interrupted run loses nothing done.
    """
    from tqdm.auto import tqdm

    cfg = config or PrepareConfig()
    if cfg.size < 8:
        raise ValueError(f"--size must be at least 8 pixels, got {cfg.size}")
    if cfg.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {cfg.workers}")
    if cfg.limit is not None and cfg.limit < 0:
        raise ValueError(f"--limit must be >= 0 (new clips to prepare at most), got {cfg.limit}")
    t0 = time.time()
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for part in (cache / "clips").glob("*/.*.npz.part"):  # shards of a killed run, never renamed
        part.unlink(missing_ok=True)
    done = read_manifest(cache)
    summary = PrepareSummary()
    todo = []
    for clip in find_clips(source):
        rec = done.get(clip.key)
        if rec and ((rec["status"] == "skipped" and _same_source(rec, clip)) or
                    (rec.get("frames_shape", [0, cfg.size])[1] == cfg.size and shard_path(cache, clip.key).exists())):
            summary.already_done += 1
        else:
            todo.append(clip)
    if cfg.limit is not None:
        todo = todo[:cfg.limit]
    jobs = [(c, str(cache), cfg.size, cfg.sample_rate, cfg.min_frames) for c in todo]
    bar = tqdm(total=len(jobs), desc="prepare grid", unit="clip", disable=not cfg.progress)
    with open(cache / "manifest.jsonl", "a+b") as manifest:
        if manifest.tell() > 0:
            manifest.seek(-1, os.SEEK_END)
            if manifest.read(1) != b"\n":  # a killed run left a torn line: end it first
                manifest.write(b"\n")
        if cfg.workers > 1 and len(jobs) > 1:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(cfg.workers, initializer=_init_worker)
            results = pool.imap_unordered(_prepare_job, jobs, chunksize=4)
        else:
            pool, results = None, map(_prepare_job, jobs)
        try:
            for rec in results:
                manifest.write((json.dumps(rec) + "\n").encode())
                manifest.flush()
                if rec["status"] == "ok":
                    summary.prepared += 1
                else:
                    summary.skipped += 1
                    summary.reasons[rec["key"]] = rec["reason"]
                bar.update(1)
        finally:
            bar.close()
            if pool is not None:
                pool.terminate()
    summary.seconds = time.time() - t0
    summary.cache_bytes = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    return summary


# ----------------------------------------------------------------------------------------------
# dataset over the cache

SPLIT_PERCENT = {"train": 90, "val": 5, "test": 5}  # seen-speaker clips, by hash of the key


def split_of(key: str) -> str:
    """Deterministic train/val/test split of a clip key (stable across machines and runs)."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    edge = 0
    for name, pct in SPLIT_PERCENT.items():
        edge += pct
        if bucket < edge:
            return name
    return "test"


_WORKER_HEAP_PINNED = False  # set once per DataLoader worker process by GridWindows


def pin_mmap_threshold(nbytes: int = 1 << 20) -> bool:
    """glibc: serve every allocation of `nbytes` or more by mmap, so a freed clip buffer goes back to
    the OS at once. Returns False where there is no glibc `mallopt` (macOS, musl).

    Why: glibc raises its mmap threshold after each large free (up to 32 MiB); a DataLoader worker
    that allocates 4-15 MiB float clips and batches then serves them from a heap that fragments and
    only grows: +350 MiB per worker before it levels off, over 4 epochs of a 64 px GRID cache
    (tests/reliability/test_datamodule_load.py measures it; with this, the growth is ~0).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-3, int(nbytes)))  # -3 = M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


class GridWindows(Dataset):
    """Fixed-length windows of prepared GRID clips, one centred window per clip.

    Sample (clip.py): video float32 [T, 3, S, S] in [-1, 1], audio float32 [1, N] in [-1, 1],
    caption (transcript), events [(word start time_s from the window start, word)], id (key).
    """

    def __init__(self, cache_dir: str | os.PathLike, records: list[dict], spec: ClipSpec):
        if spec.sample_rate != GRID_SAMPLE_RATE or abs(spec.fps - GRID_FPS) > 1e-6:
            raise ValueError(f"GRID cache holds {GRID_FPS:g} fps video and {GRID_SAMPLE_RATE} Hz audio; "
                             f"got ClipSpec(fps={spec.fps}, sample_rate={spec.sample_rate})")
        self.cache_dir, self.records, self.spec = Path(cache_dir), records, spec

    def __len__(self) -> int:
        return len(self.records)

    def ids(self) -> list[str]:
        """The sample ids (clip keys) of this split, in order, without reading any shard."""
        return [r["key"] for r in self.records]

    def __getitem__(self, i: int) -> dict:
        global _WORKER_HEAP_PINNED
        if not _WORKER_HEAP_PINNED and torch.utils.data.get_worker_info() is not None:
            _WORKER_HEAP_PINNED = pin_mmap_threshold() or True  # once per worker process
        rec, spec = self.records[i], self.spec
        with np.load(self.cache_dir / rec["shard"]) as shard:
            frames, audio = shard["frames"], shard["audio"]
        start = max(0, (len(frames) - spec.num_frames) // 2)
        frames = frames[start : start + spec.num_frames]
        if len(frames) < spec.num_frames:  # a short clip: hold the last frame
            frames = np.concatenate([frames, np.repeat(frames[-1:], spec.num_frames - len(frames), 0)])
        window_start_s = start / spec.fps
        a0 = round(window_start_s * spec.sample_rate)
        wav = audio[a0 : a0 + spec.num_samples].astype(np.float32) / 32767.0
        wav = np.pad(wav, (0, spec.num_samples - len(wav)))
        video = frames_to_video(frames)
        if video.shape[-1] != spec.size:
            video = torch.nn.functional.interpolate(video, size=(spec.size, spec.size), mode="area")
        events = [(round(s - window_start_s, 4), w) for w, s, _ in rec.get("words", [])
                  if 0 <= s - window_start_s < spec.duration_s]
        return {"video": video, "audio": torch.from_numpy(wav)[None], "caption": rec["transcript"],
                "events": events, "id": rec["key"]}


def grid_splits(spec: ClipSpec, cache_dir: str | None = None) -> dict[str, Dataset]:
    """train/val/test: clips of speakers with alignments, split by clip key; unseen: other speakers."""
    cache = Path(cache_dir) if cache_dir else DEFAULT_CACHE
    records = [r for r in read_manifest(cache).values() if r["status"] == "ok"]
    if not records:
        raise FileNotFoundError(f"no prepared GRID clips in {cache}; run "
                                f"`seedkit data prepare grid --source PATH --cache {cache}` first")
    groups: dict[str, list[dict]] = {"train": [], "val": [], "test": [], "unseen": []}
    seen = {r["speaker"] for r in records if r.get("aligned")}  # speakers with alignments (s1)
    for rec in sorted(records, key=lambda r: r["key"]):
        groups[split_of(rec["key"]) if rec["speaker"] in seen else "unseen"].append(rec)
    return {name: GridWindows(cache, recs, spec) for name, recs in groups.items()}
