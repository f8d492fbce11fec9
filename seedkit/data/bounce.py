"""`bounce`: the built-in procedural dataset. Objects fly, bounce off the walls, and every impact
makes a sound, so picture and soundtrack share exact, known event times.

* 1-2 objects per scene; kind = shape (`ball`, `box`); colour = material, and the material sets the
  timbre of the impact sound (red rubber thud, blue metal ring, green wood knock, yellow glass
  ping). Loudness follows the speed of the object into the wall.
* Motion is event-driven and exact: x moves at constant speed, y falls under gravity, collisions
  with walls are elastic by default, so impact times are solved in closed form (no time-step
  error) and the sound of each impact starts on its exact sample.
* Captions name the objects ("red ball blue box"); `BounceConfig(captions="layout")` also says
  where each starts and heads ("red ball top left moving down right ..."), the same scenes in
  more words (docs/joint_bounce.md, "Captions that say where the objects start").
* Deterministic per (seed, index): `BounceGenerator(config).scene(index)` is the same everywhere.

Objects do not collide with each other (they pass in front of one another): every sound has one
visible wall impact as its cause.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import Dataset

from .clip import BOUNCE_SPEC, ClipSpec, frames_to_video

# colour name -> (RGB in [0, 1], material)
COLORS: dict[str, tuple[tuple[float, float, float], str]] = {
    "red": ((0.95, 0.2, 0.15), "rubber"),
    "blue": ((0.2, 0.45, 1.0), "metal"),
    "green": ((0.2, 0.85, 0.3), "wood"),
    "yellow": ((1.0, 0.9, 0.2), "glass"),
}
SHAPES: tuple[str, ...] = ("ball", "box")

# layout captions: the third of the arena an object starts in, and its heading in 45-degree sectors
ROWS: tuple[str, ...] = ("top", "middle", "bottom")
COLUMNS: tuple[str, ...] = ("left", "center", "right")
HEADINGS: tuple[str, ...] = ("right", "up right", "up", "up left", "left", "down left", "down", "down right")
LAYOUT_WORDS: tuple[str, ...] = tuple(dict.fromkeys([*ROWS, *COLUMNS, "moving", *" ".join(HEADINGS).split()]))
CAPTION_STYLES: tuple[str, ...] = ("objects", "layout")

# material -> modal partials (frequency Hz, relative amplitude, decay time s) + click noise
MATERIALS: dict[str, dict] = {
    "rubber": {"modes": [(180.0, 1.0, 0.05), (410.0, 0.4, 0.03)], "noise": 0.25, "noise_decay": 0.008},
    "metal": {"modes": [(1180.0, 0.8, 0.22), (2950.0, 0.5, 0.15), (4700.0, 0.3, 0.08)],
              "noise": 0.1, "noise_decay": 0.003},
    "wood": {"modes": [(520.0, 1.0, 0.04), (840.0, 0.6, 0.03), (1630.0, 0.3, 0.02)],
             "noise": 0.4, "noise_decay": 0.004},
    "glass": {"modes": [(2500.0, 0.8, 0.12), (6100.0, 0.4, 0.07)], "noise": 0.15, "noise_decay": 0.002},
}


# the first test scene of joint_bounce.yaml's splits (100000 training + 64 validation scenes): the
# scenes the demo scores and `seedkit test` of the bounce critics reads; no training draws them
TEST_START = 100_064


@dataclass(frozen=True)
class BounceConfig:
    """How bounce scenes are drawn. Units: the arena is the unit square, times in seconds."""

    spec: ClipSpec = BOUNCE_SPEC  # frame size, fps, clip length, sample rate
    min_objects: int = 1  # objects per scene, drawn uniformly in [min, max]
    max_objects: int = 2
    colors: tuple[str, ...] = tuple(COLORS)  # palette (= materials) to draw from
    shapes: tuple[str, ...] = SHAPES  # object kinds to draw from
    radius: float = 0.13  # object half-size as a fraction of the frame (0.13 * 32 px ~ 4 px)
    min_speed: float = 0.6  # initial speed range, arena widths per second
    max_speed: float = 1.3
    gravity: float = 1.5  # downward acceleration, arena heights per s^2 (0 = straight lines)
    restitution: float = 1.0  # speed kept by a bounce (1 = elastic, scenes never settle)
    impact_length_s: float = 0.35  # length of each synthesised impact sound
    loudness_ref_speed: float = 1.5  # impact speed (arena/s) that plays at full loudness
    background: tuple[float, float, float] = (0.08, 0.08, 0.1)  # RGB in [0, 1]
    seed: int = 0  # dataset seed; scenes are a pure function of (seed, index)
    captions: str = "objects"  # "objects": colour and kind of each object ("red ball"); "layout":
                               # also where it starts and heads ("red ball top left moving down right")


@dataclass
class Impact:
    time_s: float  # when the object touches the wall
    label: str  # "red ball"
    speed: float  # speed into the wall, arena units per second
    wall: str  # left | right | top | bottom


@dataclass
class BounceScene:
    frames: np.ndarray  # uint8 [T, H, W, 3]
    waveform: np.ndarray  # float32 [1, N]
    caption: str
    events: list[Impact] = field(default_factory=list)
    tracks: np.ndarray | None = None  # float32 [T, K, 2] object centres (x, y) in [0, 1]


class BounceGenerator:
    """Draws scenes; `scene(index)` is deterministic for a given `config.seed`."""

    def __init__(self, config: BounceConfig = BounceConfig()):
        for c in config.colors:
            if c not in COLORS:
                raise ValueError(f"unknown bounce colour {c!r}; choose from {sorted(COLORS)}")
        for s in config.shapes:
            if s not in SHAPES:
                raise ValueError(f"unknown bounce shape {s!r}; choose from {list(SHAPES)}")
        if config.captions not in CAPTION_STYLES:
            raise ValueError(f"unknown bounce captions {config.captions!r}; choose from {list(CAPTION_STYLES)}")
        if not 1 <= config.min_objects <= config.max_objects <= len(config.colors):
            raise ValueError("need 1 <= min_objects <= max_objects <= number of colours")
        self.config = config
        spec = config.spec
        px = (np.arange(spec.size) + 0.5) / spec.size
        self._gx, self._gy = np.meshgrid(px, px)  # pixel centres, [H, W]
        self._frame_t = np.arange(spec.num_frames) / spec.fps

    # -- vocabulary ---------------------------------------------------------------------------
    def vocabulary(self) -> list[str]:
        """Every word a caption can contain."""
        words = list(self.config.colors) + list(self.config.shapes)
        if self.config.captions == "layout":
            words += [w for w in LAYOUT_WORDS if w not in words]
        return words

    # -- one scene ----------------------------------------------------------------------------
    def scene(self, index: int) -> BounceScene:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, index])
        objects = self._draw_objects(rng)
        tracks = np.zeros((cfg.spec.num_frames, len(objects), 2), dtype=np.float32)
        events: list[Impact] = []
        for j, (color, shape, pos, vel, _) in enumerate(objects):
            tracks[:, j], impacts = self._simulate(pos, vel, f"{color} {shape}")
            events.extend(impacts)
        events.sort(key=lambda e: e.time_s)

        frames = self._render(tracks, objects)
        pitches = {f"{o[0]} {o[1]}": (COLORS[o[0]][1], o[4]) for o in objects}
        waveform = self._sonify(events, pitches, rng)
        return BounceScene(frames, waveform, self._caption(objects), events, tracks)

    def soundtrack(self, index: int, events: list[Impact]) -> np.ndarray:
        """The waveform float32 [1, N] `scene(index)` would have with `events` as its impacts: its
        objects' materials and pitches, the same noise draws (edited soundtracks for a sync critic's
        negatives; labels must be objects of the scene)."""
        rng = np.random.default_rng([self.config.seed, index])
        objects = self._draw_objects(rng)  # the draws scene() makes before its sounds
        pitches = {f"{o[0]} {o[1]}": (COLORS[o[0]][1], o[4]) for o in objects}
        for ev in events:
            if ev.label not in pitches:
                raise ValueError(f"scene {index} has no {ev.label!r} (objects: {sorted(pitches)})")
        return self._sonify(sorted(events, key=lambda e: e.time_s), pitches, rng)

    def caption(self, index: int) -> str:
        """The caption of `scene(index)` without drawing its frames or sound."""
        return self._caption(self._draw_objects(np.random.default_rng([self.config.seed, index])))

    def tracks(self, index: int) -> np.ndarray:
        """The object centres of `scene(index)` without drawing its frames or sound: float32
        [T, max_objects, 2] (x, y in [0, 1], y down), NaN for the objects the scene does not have."""
        cfg = self.config
        objects = self._draw_objects(np.random.default_rng([cfg.seed, index]))
        out = np.full((cfg.spec.num_frames, cfg.max_objects, 2), np.nan, dtype=np.float32)
        for j, (color, shape, pos, vel, _) in enumerate(objects):
            out[:, j] = self._simulate(pos, vel, f"{color} {shape}")[0]
        return out

    def _caption(self, objects: list[tuple]) -> str:
        return " ".join(self._describe(o) for o in objects)

    def _describe(self, obj: tuple) -> str:
        """One object's words: "red ball", or with layout captions "red ball top left moving down right"
        (the third of the arena its centre starts in, and its initial heading to the nearest 45 degrees)."""
        color, shape, pos, vel, _ = obj
        if self.config.captions == "objects":
            return f"{color} {shape}"
        col, row = (arena_third(p, self.config.radius) for p in pos)
        sector = round(math.atan2(-vel[1], vel[0]) / (math.pi / 4)) % 8  # y points down: -vy is up
        return f"{color} {shape} {ROWS[row]} {COLUMNS[col]} moving {HEADINGS[sector]}"

    def _draw_objects(self, rng: np.random.Generator) -> list[tuple]:
        """(colour, shape, position [2], velocity [2], pitch) per object: the scene's first draws."""
        cfg = self.config
        k = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
        colors = rng.choice(len(cfg.colors), size=k, replace=False)
        objects = []
        for c in colors:
            color = cfg.colors[int(c)]
            shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
            pos = rng.uniform(cfg.radius, 1 - cfg.radius, size=2)
            angle = rng.uniform(0, 2 * math.pi)
            speed = rng.uniform(cfg.min_speed, cfg.max_speed)
            vel = speed * np.array([math.cos(angle), math.sin(angle)])
            pitch = rng.uniform(0.95, 1.05)  # small per-object pitch spread within a material
            objects.append((color, shape, pos, vel, pitch))
        return objects

    def _simulate(self, pos, vel, label) -> tuple[np.ndarray, list[Impact]]:
        """Exact piecewise motion: returns centres at frame times [T, 2] and the wall impacts."""
        cfg = self.config
        lo, hi, g = cfg.radius, 1.0 - cfg.radius, cfg.gravity
        t, (x, y), (vx, vy) = 0.0, pos, vel
        end = cfg.spec.duration_s
        segments = []  # (t0, x0, y0, vx, vy)
        impacts: list[Impact] = []
        for _ in range(1000):  # a scene has a handful of bounces; the bound only guards the loop
            segments.append((t, x, y, vx, vy))
            tx = ((hi - x) / vx if vx > 0 else (lo - x) / vx) if vx != 0 else math.inf
            ty, wall_y = _time_to_wall(y, vy, g, lo, hi)
            dt = min(tx, ty)
            if t + dt >= end:
                break
            t += dt
            x, y = x + vx * dt, y + vy * dt + 0.5 * g * dt * dt
            vy = vy + g * dt
            if tx <= ty:
                impacts.append(Impact(t, label, abs(vx), "right" if vx > 0 else "left"))
                x, vx = (hi if vx > 0 else lo), -vx * cfg.restitution
            else:
                impacts.append(Impact(t, label, abs(vy), wall_y))
                y, vy = (hi if wall_y == "bottom" else lo), -vy * cfg.restitution
        seg = np.array(segments)
        idx = np.searchsorted(seg[:, 0], self._frame_t, side="right") - 1
        s = seg[idx]
        dt = self._frame_t - s[:, 0]
        xs = s[:, 1] + s[:, 3] * dt
        ys = s[:, 2] + s[:, 4] * dt + 0.5 * g * dt * dt
        return np.clip(np.stack([xs, ys], 1), lo, hi).astype(np.float32), impacts

    def _render(self, tracks, objects) -> np.ndarray:
        """Anti-aliased shapes over a flat background -> uint8 [T, H, W, 3]."""
        cfg, size = self.config, self.config.spec.size
        img = np.broadcast_to(np.array(cfg.background, np.float32),
                              (cfg.spec.num_frames, size, size, 3)).copy()
        half_px = cfg.radius * size
        for j, (color, shape, *_rest) in enumerate(objects):
            cx = tracks[:, j, 0, None, None]
            cy = tracks[:, j, 1, None, None]
            dx, dy = (self._gx - cx) * size, (self._gy - cy) * size  # pixels, [T, H, W]
            dist = np.hypot(dx, dy) if shape == "ball" else np.maximum(abs(dx), abs(dy))
            cover = np.clip(half_px - dist + 0.5, 0.0, 1.0)[..., None]  # 1-px soft edge
            img = img * (1 - cover) + cover * np.array(COLORS[color][0], np.float32)
        return (img * 255 + 0.5).astype(np.uint8)

    def _sonify(self, events, pitches, rng) -> np.ndarray:
        """One decaying modal sound per impact, starting on the impact's exact sample."""
        cfg, spec = self.config, self.config.spec
        n = spec.num_samples
        out = np.zeros(n, dtype=np.float64)
        length = int(cfg.impact_length_s * spec.sample_rate)
        tt = np.arange(length) / spec.sample_rate
        attack = 1.0 - np.exp(-tt / 0.0005)  # 0.5 ms attack: no click before the onset
        # raised-cosine fade over the last 40%: a hard cut would click (a second, false onset)
        fade_from = int(0.6 * length)
        attack[fade_from:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, length - fade_from)))
        modal: dict[str, np.ndarray] = {}  # label -> its ringing modes: the same at every impact
        for ev in events:
            material, pitch = pitches[ev.label]
            m = MATERIALS[material]
            if ev.label not in modal:
                modal[ev.label] = sum(a * np.exp(-tt / tau) * np.sin(2 * math.pi * f * pitch * tt)
                                      for f, a, tau in m["modes"])
            sound = modal[ev.label] + m["noise"] * np.exp(-tt / m["noise_decay"]) * rng.standard_normal(length)
            gain = 0.5 * min(1.0, ev.speed / cfg.loudness_ref_speed)
            start = round(ev.time_s * spec.sample_rate)
            stop = min(n, start + length)
            if start < n:
                out[start:stop] += gain * attack[: stop - start] * sound[: stop - start]
        peak = np.abs(out).max()
        if peak > 0.95:  # rare pile-ups: scale the clip, keep relative loudness
            out *= 0.95 / peak
        return out.astype(np.float32)[None]


def arena_third(p: float, radius: float) -> int:
    """Which third of the arena (0, 1, 2) a centre coordinate p lies in, across the range a centre of
    an object of half-size `radius` can take, [radius, 1 - radius]; outside it, the nearest third."""
    return int(np.clip(3 * (p - radius) / (1 - 2 * radius), 0, 2))


def read_layout(caption: str) -> list[tuple[str, str, str, str, str]]:
    """A layout caption back into its parts: "red ball top left moving down right ..." ->
    [(colour, kind, row, column, heading), ...], one per object, in the caption's order."""
    words, out = caption.split(), []
    while words:
        if len(words) < 6 or words[0] not in COLORS or words[4] != "moving":
            raise ValueError(f"not a layout caption: {caption!r} (expected 'red ball top left moving down right ...')")
        color, kind, row, col, _moving, *words = words
        n = next((k for k, w in enumerate(words) if w in COLORS), len(words))  # the heading: 1-2 words
        out.append((color, kind, row, col, " ".join(words[:n])))
        words = words[n:]
    return out


def _time_to_wall(y, vy, g, lo, hi) -> tuple[float, str]:
    """First t > 0 with y + vy t + g t^2 / 2 at the top (lo) or bottom (hi) wall."""
    best, wall = math.inf, "bottom"
    for target, name in ((hi, "bottom"), (lo, "top")):
        for t in _roots(0.5 * g, vy, y - target):
            if t > 1e-9 and t < best:
                best, wall = t, name
    return best, wall


def _roots(a, b, c) -> list[float]:
    if abs(a) < 1e-12:
        return [-c / b] if b != 0 else []
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    r = math.sqrt(disc)
    return [(-b - r) / (2 * a), (-b + r) / (2 * a)]


class BounceDataset(Dataset):
    """Scenes `start .. start + length - 1` of a generator, as sample dicts (see `clip.py`)."""

    def __init__(self, config: BounceConfig = BounceConfig(), start: int = 0, length: int = 1024):
        self.generator = BounceGenerator(config)
        self.start, self.length = start, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        index = self.start + i
        scene = self.generator.scene(index)
        return {
            "video": frames_to_video(scene.frames),
            "audio": torch.from_numpy(scene.waveform),
            "caption": scene.caption,
            "events": [(e.time_s, e.label) for e in scene.events],
            "id": self._id(index),
        }

    def _id(self, index: int) -> str:
        return f"bounce-{self.generator.config.seed}-{index}"

    def ids(self) -> list[str]:
        """The sample ids of this split, in order, without generating any scene."""
        return [self._id(self.start + i) for i in range(self.length)]

    def vocabulary(self) -> list[str]:
        return self.generator.vocabulary()
