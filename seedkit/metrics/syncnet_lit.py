"""Training SyncNet-lite on GRID (`seedkit fit --config seedkit/configs/syncnet_grid.yaml`), and on
bounce as the critic that keeps the best of N generated clips (`seedkit/rerank.py`;
`seedkit fit --config seedkit/configs/syncnet_bounce.yaml`).

    GridSyncData   LightningDataModule over the prepared GRID cache (data/cache/grid): s1 train
                   clips for training (random windows), s1 val clips for validation (the centred
                   72-frame window, the joint model's clip); frames become grey 32x32 float, audio
                   a log-mel, once, in memory (0.36 MB a clip: about 340 MB for s1's train and val).
    BounceSyncData bounce scenes drawn in memory, whole 2 s clips; optionally the soundtracks and
                   pictures as the tokenizers draw them, and edited soundtracks as negatives.
    SyncNetModule  LightningModule; the loss is InfoNCE over time shifts, both directions:

        logits[t, k] = s <v_t, a_{t+k}>,  k = -K..K   -> cross-entropy with target k = 0
        (and the same with audio anchors and video candidates), anchors t in [K, T - K)

So every training example is a ranking of 2K + 1 = 25 offsets of the same clip: the network
learns exactly what the metric asks (which offset lines up), not speaker identity. Validation logs
the loss and the offset accuracy (argmin_k d(k) == 0 on real val clips, scored over each clip's
validation window). With `edit_weight` > 0 (bounce) each clip's own soundtrack is also ranked above
its edited ones and its picture mirrored in time (`SyncNetModule.edit_loss`).
At the end of fit the weights are exported as a plain checkpoint (`export_path`).
"""
from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from ..data.resumable import shuffled_loader
from ..tokenizers.checkpoint import config_mismatch, export_weights
from ..typed import check_at_least, check_export_path, check_positive
from .syncnet import (SyncNetConfig, SyncNetLite, load_syncnet, pair_similarity, prepare_audio, prepare_video,
                      save_syncnet, score_embeddings)

__all__ = ["SyncNetModule", "GridSyncData", "BounceSyncData", "SyncClips", "info_nce_over_shifts",
           "load_sync_clips", "bounce_sync_clips", "tokenizer_round_trip", "audio_round_trip",
           "edit_impacts", "mirror_frames"]


def info_nce_over_shifts(v: torch.Tensor, a: torch.Tensor, max_shift: int, scale: torch.Tensor) -> torch.Tensor:
    """Mean InfoNCE of v, a [B, T, D] (unit) over shifts -K..K, video->audio and audio->video."""
    B, T, _ = v.shape
    K = max_shift
    t = torch.arange(K, T - K, device=v.device)
    shifts = torch.arange(-K, K + 1, device=v.device)
    idx = t[:, None] + shifts[None, :]  # [A, 2K + 1]
    va = (v[:, t, None, :] * a[:, idx, :]).sum(-1) * scale  # [B, A, 2K+1]: video anchor vs shifted audio
    av = (a[:, t, None, :] * v[:, idx, :]).sum(-1) * scale  # audio anchor vs shifted video
    target = torch.full((B * len(t),), K, device=v.device, dtype=torch.long)
    return 0.5 * (F.cross_entropy(va.reshape(-1, 2 * K + 1), target) +
                  F.cross_entropy(av.reshape(-1, 2 * K + 1), target))


def load_sync_clips(cache_dir: str | Path, split: str, config: SyncNetConfig, limit: int | None = None):
    """Prepared GRID clips of one split -> (video [T, S, S] list, mel [M, 4T] list, keys).

    split: "train" | "val" | "test" (s1, by `grid.split_of`) or "unseen" (other speakers).
    """
    from ..data.grid import read_manifest, split_of

    cache = Path(cache_dir)
    records = [r for r in read_manifest(cache).values() if r["status"] == "ok"]
    if not records:
        raise FileNotFoundError(f"no prepared GRID clips in {cache}; run "
                                f"`seedkit data prepare grid --source PATH --cache {cache}` first")
    seen = {r["speaker"] for r in records if r.get("aligned")}
    pick = [r for r in sorted(records, key=lambda r: r["key"])
            if (split_of(r["key"]) if r["speaker"] in seen else "unseen") == split]
    pick = pick[:limit] if limit is not None else pick
    videos, mels, keys = [], [], []
    for r in pick:
        with np.load(cache / r["shard"]) as z:
            frames, audio = z["frames"], z["audio"].astype(np.float32) / 32767.0
        v = prepare_video(frames, config.size)
        videos.append(v)
        mels.append(prepare_audio(audio, r["sample_rate"], v.shape[0], config))
        keys.append(r["key"])
    return videos, mels, keys


class SyncClips(Dataset):
    """Windows of `window` frames (random start when `random`, else centred) of preloaded clips."""

    def __init__(self, videos, mels, window: int, random: bool, mels_per_frame: int):
        self.videos, self.mels, self.window, self.random, self.mpf = videos, mels, window, random, mels_per_frame

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int) -> dict:
        v, m = self.videos[i], self.mels[i]
        T = v.shape[0]
        w = min(self.window, T)
        s = int(torch.randint(0, T - w + 1, ()).item()) if self.random else (T - w) // 2
        return {"video": v[s: s + w], "mel": m[:, s * self.mpf: (s + w) * self.mpf]}


# the splits each Lightning stage reads (`seedkit fit`, `validate`, `test`); a data module loads no other
STAGE_SPLITS = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",)}


class SyncSplits(L.LightningDataModule):
    """The loaders of a SyncNet-lite data module whose `setup` fills `train_set`, `val_set`, `test_set`."""

    def splits_to_load(self, stage: str | None) -> list[str]:
        """The splits `stage` reads (`STAGE_SPLITS`; None: fit's) that `setup` has not loaded yet."""
        return [s for s in STAGE_SPLITS.get(stage, STAGE_SPLITS["fit"]) if getattr(self, f"{s}_set") is None]

    def train_dataloader(self) -> DataLoader:
        return shuffled_loader(self.train_set, self.hparams.batch_size, drop_last=True)  # resumable mid-epoch

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test_set, batch_size=self.hparams.batch_size, shuffle=False)


class GridSyncData(SyncSplits):
    """GRID s1 clips for SyncNet-lite (needs the prepared cache)."""

    def __init__(
        self,
        cache_dir: str = "data/cache/grid",  # prepared GRID cache (`seedkit data prepare grid`)
        batch_size: int = 16,  # clips per batch
        window: int = 48,  # training window in frames (>= 2 max_shift + 1; anchors = window - 2K)
        val_window: int = 72,  # validation window (the joint model's 72-frame clip)
        limit_train: int | None = None,  # use at most this many train clips (None: all)
        limit_val: int | None = None,  # use at most this many val clips (None: all)
        limit_test: int | None = None,  # use at most this many test clips (None: all; `seedkit test`)
    ):
        super().__init__()
        self.save_hyperparameters()
        check_at_least("GridSyncData", 1, batch_size=batch_size)
        limits = {k: v for k, v in (("limit_train", limit_train), ("limit_val", limit_val), ("limit_test", limit_test))
                  if v is not None}
        check_at_least("GridSyncData", 1, **limits)  # None: every clip; 0 would have meant that too
        self.config = SyncNetConfig()
        self.train_set: SyncClips | None = None
        self.val_set: SyncClips | None = None
        self.test_set: SyncClips | None = None

    def setup(self, stage: str | None = None) -> None:
        """Load the clips the stage reads (`STAGE_SPLITS`): fit train and val, validate val, test test."""
        hp, c = self.hparams, self.config
        todo = self.splits_to_load(stage)
        t0 = time.time()
        for split in todo:
            videos, mels, _ = load_sync_clips(hp.cache_dir, split, c, getattr(hp, f"limit_{split}"))
            window = hp.window if split == "train" else hp.val_window  # held-out clips: the joint model's 72 frames
            setattr(self, f"{split}_set", SyncClips(videos, mels, window, split == "train", c.mels_per_frame))
        if todo:
            print("SyncNet-lite data: " + " / ".join(f"{len(getattr(self, f'{s}_set'))} {s}" for s in todo)
                  + f" clips loaded in {time.time() - t0:.0f} s")


EDITS = ("drop", "add", "move")  # the ways `edit_impacts` breaks a soundtrack


def edit_impacts(events: list, labels: list[str], rng: np.random.Generator, duration_s: float, fps: float) -> list:
    """One edit of a scene's impacts, for a soundtrack that no longer matches its picture: drop one
    impact, add one where the picture has none (any object of `labels`), or move one by 2-6 frames.
    The picture of every other impact keeps its sound, so only that one moment disagrees."""
    from ..data.bounce import Impact

    kinds = EDITS if events else ("add",)
    kind = kinds[int(rng.integers(len(kinds)))]
    out = list(events)
    if kind == "drop":
        out.pop(int(rng.integers(len(out))))
    elif kind == "add":
        speed = float(np.median([e.speed for e in events])) if events else 1.0
        out.append(Impact(float(rng.uniform(0.1, duration_s - 0.1)), labels[int(rng.integers(len(labels)))],
                          speed, "none"))
    else:
        j = int(rng.integers(len(out)))
        step = float(rng.integers(2, 7)) * (1 if rng.random() < 0.5 else -1) / fps
        e = out[j]
        out[j] = Impact(float(np.clip(e.time_s + step, 0.0, duration_s - 0.05)), e.label, e.speed, e.wall)
    return out


def mirror_frames(video: torch.Tensor, at: torch.Tensor) -> torch.Tensor:
    """video [B, T, ...] played forward up to frame `at` [B] (>= T / 2) and backwards from there: every
    object turns at that frame wherever it is, a turn in mid-air that makes no sound."""
    T = video.shape[1]
    j = torch.arange(T, device=video.device)[None]
    a = at.to(video.device)[:, None]
    idx = torch.where(j < a, j, 2 * a - 1 - j)  # [B, T]
    return torch.gather(video, 1, idx.reshape(*idx.shape, *([1] * (video.ndim - 2))).expand_as(video))


def tokenizer_round_trip(encoder_path: str, decoder_path: str | None = None, batch: int = 64):
    """frames uint8 [B, T, H, W, 3] -> the same clips as a video tokenizer draws them: encoded by the
    tokenizer at `encoder_path`, decoded by `decoder_path`'s (default: its own), uint8 again. About
    6 ms a 32-frame bounce clip on 2 CPU cores."""
    from ..data.clip import frames_to_video, video_to_frames
    from ..tokenizers import VideoAutoencoder

    enc = VideoAutoencoder.from_checkpoint(encoder_path).eval()
    dec = VideoAutoencoder.from_checkpoint(decoder_path).eval() if decoder_path else enc

    @torch.no_grad()
    def run(frames: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(frames), batch):
            x = torch.stack([frames_to_video(f) for f in frames[i: i + batch]])
            out += [video_to_frames(v).numpy() for v in dec.decode(enc.encode(x)).clamp(-1, 1)]
        return np.stack(out)

    return run


def audio_round_trip(tokenizer_path: str, batch: int = 64):
    """waveforms float32 [B, N] -> the same clips as the audio tokenizer at `tokenizer_path` draws
    them: encoded, decoded to a log-mel and turned back into sound by Griffin-Lim, as a generated
    soundtrack is. 85 ms a 2 s clip measured on one thread beside other work."""
    from ..tokenizers import AudioAutoencoder

    tok = AudioAutoencoder.from_checkpoint(tokenizer_path).eval()

    @torch.no_grad()
    def run(waves: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(waves), batch):
            x = torch.as_tensor(np.asarray(waves[i: i + batch], dtype=np.float32))[:, None]
            y = tok.mel_to_waveform(tok.decode(tok.encode(x)))[:, 0]
            out.append(F.pad(y, (0, max(0, x.shape[-1] - y.shape[-1])))[:, : x.shape[-1]].numpy())
        return np.concatenate(out)

    return run


def bounce_sync_clips(start: int, count: int, config: SyncNetConfig, seed: int = 0, max_objects: int = 2,
                      negatives: int = 0, round_trip=None, audio_trip=None):
    """bounce scenes `start .. start + count - 1` of the world `seed` -> (video [T, S, S] list,
    mel [M, 4T] list, edited mels [negatives, M, 4T] list), drawn now (`edit_impacts`, seeded by the
    scene; 8000 scenes took 61 s on 2 cores, 98 s with 3 edited soundtracks each). `round_trip`: frames uint8
    [B, T, H, W, 3] -> the same shape, applied to the pictures (`tokenizer_round_trip`);
    `audio_trip`: waveforms [B, N] -> the same, applied to every soundtrack (`audio_round_trip`)."""
    from ..data.bounce import BounceConfig, BounceGenerator
    from ..data.clip import BOUNCE_SPEC

    if abs(config.fps - BOUNCE_SPEC.fps) > 0.01 or config.sample_rate != BOUNCE_SPEC.sample_rate:
        raise ValueError(f"SyncNet-lite config is {config.fps:g} fps / {config.sample_rate} Hz; bounce clips are "
                         f"{BOUNCE_SPEC.fps:g} fps / {BOUNCE_SPEC.sample_rate} Hz (set the module's fps and hop)")
    gen = BounceGenerator(BounceConfig(seed=seed, max_objects=max_objects))
    videos, mels, edited = [], [], []
    for first in range(start, start + count, 64):  # in chunks: the round trip runs on batches
        index = range(first, min(first + 64, start + count))
        scenes = [gen.scene(i) for i in index]
        frames = np.stack([sc.frames for sc in scenes])
        frames = frames if round_trip is None else round_trip(frames)
        waves = np.stack([sc.waveform[0] for sc in scenes])
        waves = waves if audio_trip is None else audio_trip(waves)
        for i, scene, f, w in zip(index, scenes, frames, waves):
            v = prepare_video(f, config.size)
            videos.append(v)
            mels.append(prepare_audio(w, BOUNCE_SPEC.sample_rate, v.shape[0], config))
            if negatives:
                rng = np.random.default_rng([seed, i, 1])
                words = scene.caption.split()
                labels = sorted({f"{c} {k}" for c, k in zip(words[::2], words[1::2])})
                bad = np.stack([gen.soundtrack(i, edit_impacts(scene.events, labels, rng, BOUNCE_SPEC.duration_s,
                                                               BOUNCE_SPEC.fps))[0] for _ in range(negatives)])
                bad = bad if audio_trip is None else audio_trip(bad)
                edited.append(prepare_audio(bad[:, None], BOUNCE_SPEC.sample_rate, v.shape[0], config).half())
    return videos, mels, edited


class BounceSyncClips(Dataset):
    """Whole bounce clips with their edited soundtracks and, for each, a frame to mirror the video at
    (drawn anew every time, in [T / 2, T - 3])."""

    def __init__(self, videos, mels, edited):
        self.videos, self.mels, self.edited = videos, mels, edited

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int) -> dict:
        T = self.videos[i].shape[0]
        item = {"video": self.videos[i], "mel": self.mels[i]}
        if self.edited:
            item["mel_edited"] = self.edited[i].float()
            item["mirror_at"] = int(torch.randint(T // 2, T - 2, ()).item())
        return item


class BounceSyncData(SyncSplits):
    """bounce scenes for SyncNet-lite as a critic of generated bounce clips: the joint model's
    training scenes (0 .. num_train - 1) and the next num_val for validation, whole 2 s clips.
    The test scenes the demo scores (from 100064 on) are never drawn."""

    def __init__(
        self,
        num_train: int = 8000,  # training scenes (the joint recipe trains on scenes 0 .. 19999)
        num_val: int = 64,  # validation scenes, after the training ones
        num_test: int = 64,  # `seedkit test`: the scenes the demo scores (data.bounce.TEST_START on)
        seed: int = 0,  # the bounce world's seed (the joint model's `data.seed`)
        max_objects: int = 2,  # objects per scene, as the joint model's data
        batch_size: int = 32,  # clips per batch
        negatives: int = 0,  # edited soundtracks per scene (`edit_impacts`) for SyncNetModule.edit_weight
        video_tokenizer: str | None = None,  # pictures drawn as this video tokenizer draws them, encoded and
        #   decoded (`tokenizer_round_trip`), like generated clips; None: the raw renders
        video_decoder: str | None = None,  # ... decoded by this tokenizer's decoder instead (its encoder's twin)
        audio_tokenizer: str | None = None,  # soundtracks as this audio tokenizer and Griffin-Lim make them
        #   (`audio_round_trip`), like generated ones; None: the raw sound
        fps: float = 16.0,  # the bounce clip's frame rate (SyncNetModule.fps)
        hop: int = 250,  # mel hop in samples: 4 mel frames per 16 fps frame (SyncNetModule.hop)
    ):
        super().__init__()
        self.save_hyperparameters()
        check_at_least("BounceSyncData", 1, batch_size=batch_size, num_train=num_train)
        check_at_least("BounceSyncData", 0, num_val=num_val, num_test=num_test, negatives=negatives)
        self.config = SyncNetConfig(fps=fps, hop=hop)
        self.train_set: BounceSyncClips | None = None
        self.val_set: BounceSyncClips | None = None
        self.test_set: BounceSyncClips | None = None

    def setup(self, stage: str | None = None) -> None:
        """Draw the scenes the stage reads (`STAGE_SPLITS`): training scenes from 0, validation ones
        after them, test ones from `data.bounce.TEST_START` (the scenes the demo scores)."""
        from ..data.bounce import TEST_START

        hp, c = self.hparams, self.config
        if hp.video_decoder and not hp.video_tokenizer:
            raise ValueError("BounceSyncData.video_decoder decodes what video_tokenizer encodes: set video_tokenizer too")
        todo = self.splits_to_load(stage)
        if not todo:
            return
        t0 = time.time()
        trips = (tokenizer_round_trip(hp.video_tokenizer, hp.video_decoder) if hp.video_tokenizer else None,
                 audio_round_trip(hp.audio_tokenizer) if hp.audio_tokenizer else None)
        start = {"train": 0, "val": hp.num_train, "test": TEST_START}
        for split in todo:
            count = getattr(hp, f"num_{split}")
            setattr(self, f"{split}_set", BounceSyncClips(*bounce_sync_clips(start[split], count, c, hp.seed,
                                                                             hp.max_objects, hp.negatives, *trips)))
        print("SyncNet-lite bounce data: " + " / ".join(f"{getattr(hp, f'num_{s}')} {s}" for s in todo)
              + f" scenes ({hp.negatives} edited soundtracks each) drawn in {time.time() - t0:.0f} s")


class SyncNetModule(L.LightningModule):
    def __init__(
        self,
        width: int = 96,  # channels of the inner layers (SyncNetConfig.width)
        dim: int = 128,  # embedding size
        max_shift: int = 12,  # K: offsets contrasted (+-12 frames = +-0.48 s at 25 fps)
        fps: float = 25.0,  # video frame rate of the clips (GRID 25; bounce 16)
        hop: int = 160,  # mel hop in samples, 4 mel frames per video frame (GRID 160; bounce 250)
        lr: float = 2e-3,  # AdamW peak learning rate (cosine decay to 5% over max_steps)
        weight_decay: float = 1e-4,  # AdamW weight decay
        warmup_steps: int = 50,  # linear learning-rate warm-up
        edit_weight: float = 0.0,  # weight of the edit loss (needs BounceSyncData.negatives > 0; 0: off)
        export_path: str | None = "checkpoints/syncnet_grid.pt",  # plain checkpoint written at the end of fit
        # an exported SyncNet-lite checkpoint (export_path of a finished fit) to start from: `seedkit
        # test/validate` scores it on the test/val clips, `seedkit fit` trains it on
        init_from: str | None = None,
    ):
        super().__init__()
        self.save_hyperparameters()
        check_positive("SyncNetModule", lr=lr)
        check_export_path("SyncNetModule", export_path)
        check_at_least("SyncNetModule", 0, weight_decay=weight_decay, warmup_steps=warmup_steps, edit_weight=edit_weight)
        self.net = SyncNetLite(SyncNetConfig(width=width, dim=dim, max_shift=max_shift, fps=fps, hop=hop))
        if init_from:
            trained = load_syncnet(init_from)
            differ = config_mismatch(self.net.config, trained.config)
            if differ:
                raise ValueError(f"SyncNetModule.init_from={init_from}: the checkpoint was trained with other "
                                 f"options {differ}")
            self.net.load_state_dict({k: v.float() for k, v in trained.state_dict().items()})
        # logit scale of the whole-clip similarities of the edit loss (training only, not exported)
        self.clip_log_scale = torch.nn.Parameter(torch.tensor(np.log(30.0), dtype=torch.float32))
        self._t0 = time.process_time()

    def edit_loss(self, batch: dict, v: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy of each clip's own soundtrack against its edited ones (`edit_impacts`) and
        against its picture mirrored in time (`mirror_frames`), ranked by `pair_similarity`.
        v, a [B, T, D]; batch["mel_edited"] [B, E, M, 4T], batch["mirror_at"] [B].
        Returns the loss and the share of clips whose own pairing ranks first."""
        B, E = batch["mel_edited"].shape[:2]
        a_edit = self.net.embed_audio(batch["mel_edited"].flatten(0, 1)).reshape(B, E, *a.shape[1:])
        v_mirror = self.net.embed_video(mirror_frames(batch["video"], batch["mirror_at"]))
        sims = torch.cat([pair_similarity(v, a)[:, None], pair_similarity(v[:, None], a_edit),
                          pair_similarity(v_mirror, a)[:, None]], 1)  # [B, E + 2]; the own pair first
        logits = sims * self.clip_log_scale.clamp(max=np.log(1000.0)).exp()
        target = torch.zeros(B, dtype=torch.long, device=v.device)
        return F.cross_entropy(logits, target), (logits.argmax(1) == 0).float().mean()

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        v, a = self.net(batch["video"], batch["mel"])
        scale = self.net.log_scale.clamp(max=np.log(100.0)).exp()
        loss = info_nce_over_shifts(v, a, self.hparams.max_shift, scale)
        logs = {"train/loss": loss, "train/scale": scale}
        if self.hparams.edit_weight > 0:
            edit, acc = self.edit_loss(batch, v, a)
            loss = loss + self.hparams.edit_weight * edit
            logs.update({"train/loss": loss, "train/edit_loss": edit, "train/edit_acc": acc})
        self.log_dict(logs, prog_bar=True, batch_size=v.shape[0])
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._held_out_step(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        """`seedkit test --ckpt_path C`: the validation's metrics on the test clips, as test/*."""
        self._held_out_step(batch, "test")

    def _held_out_step(self, batch: dict, stage: str) -> None:
        v, a = self.net(batch["video"], batch["mel"])
        scale = self.net.log_scale.clamp(max=np.log(100.0)).exp()
        loss = info_nce_over_shifts(v, a, self.hparams.max_shift, scale)
        scores = [score_embeddings(v[i].cpu(), a[i].cpu(), self.hparams.max_shift, self.net.config.fps)
                  for i in range(v.shape[0])]
        acc = float(np.mean([s.offset_frames == 0 for s in scores]))
        logs = {f"{stage}/loss": loss, f"{stage}/offset_acc": acc,
                f"{stage}/lse_c": float(np.mean([s.lse_c for s in scores]))}
        if "mel_edited" in batch:  # the own soundtrack ranked above every edited one and the mirror
            logs[f"{stage}/edit_loss"], logs[f"{stage}/edit_acc"] = self.edit_loss(batch, v, a)
        self.log_dict(logs, prog_bar=True, batch_size=v.shape[0])

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        total = max(1, self.trainer.max_steps if self.trainer and self.trainer.max_steps > 0 else 1000)
        warm = max(1, self.hparams.warmup_steps)

        def lr_at(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            p = min(1.0, (step - warm) / max(1, total - warm))
            return 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * p))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_fit_end(self) -> None:
        export_weights(self, save_syncnet, "SyncNet-lite")
