"""Training SyncNet-lite on GRID: `seedkit fit --config seedkit/configs/syncnet_grid.yaml`.

    GridSyncData   LightningDataModule over the prepared GRID cache (data/cache/grid): s1 train
                   clips for training (random windows), s1 val clips for validation (whole clips);
                   frames become grey 32x32, audio a log-mel, once, in memory (~70 MB for s1).
    SyncNetModule  LightningModule; the loss is InfoNCE over time shifts, both directions:

        logits[t, k] = s <v_t, a_{t+k}>,  k = -K..K   -> cross-entropy with target k = 0
        (and the same with audio anchors and video candidates), anchors t in [K, T - K)

So every training example is a ranking of 2K + 1 = 25 offsets of the same clip: the network
learns exactly what the metric asks (which offset lines up), not speaker identity. Validation logs
the loss and the offset accuracy (argmin_k d(k) == 0 on real val clips, whole-clip scores).
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

from .syncnet import SyncNetConfig, SyncNetLite, prepare_audio, prepare_video, save_syncnet, score_embeddings

__all__ = ["SyncNetModule", "GridSyncData", "SyncClips", "info_nce_over_shifts", "load_sync_clips"]


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
    pick = pick[:limit] if limit else pick
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


class GridSyncData(L.LightningDataModule):
    """GRID s1 clips for SyncNet-lite (needs the prepared cache)."""

    def __init__(
        self,
        cache_dir: str = "data/cache/grid",  # prepared GRID cache (`seedkit data prepare grid`)
        batch_size: int = 16,  # clips per batch
        window: int = 48,  # training window in frames (>= 2 max_shift + 1; anchors = window - 2K)
        val_window: int = 72,  # validation window (the joint model's 72-frame clip)
        limit_train: int | None = None,  # use at most this many train clips (None: all)
        limit_val: int | None = None,  # use at most this many val clips (None: all)
    ):
        super().__init__()
        self.save_hyperparameters()
        self.config = SyncNetConfig()
        self.train_set: SyncClips | None = None
        self.val_set: SyncClips | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        hp, c = self.hparams, self.config
        t0 = time.time()
        tv, tm, _ = load_sync_clips(hp.cache_dir, "train", c, hp.limit_train)
        vv, vm, _ = load_sync_clips(hp.cache_dir, "val", c, hp.limit_val)
        self.train_set = SyncClips(tv, tm, hp.window, True, c.mels_per_frame)
        self.val_set = SyncClips(vv, vm, hp.val_window, False, c.mels_per_frame)
        print(f"SyncNet-lite data: {len(tv)} train / {len(vv)} val clips loaded in {time.time() - t0:.0f} s")

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, shuffle=False)


class SyncNetModule(L.LightningModule):
    def __init__(
        self,
        width: int = 96,  # channels of the inner layers (SyncNetConfig.width)
        dim: int = 128,  # embedding size
        max_shift: int = 12,  # K: offsets contrasted (+-12 frames = +-0.48 s at 25 fps)
        lr: float = 2e-3,  # AdamW peak learning rate (cosine decay to 5% over max_steps)
        weight_decay: float = 1e-4,  # AdamW weight decay
        warmup_steps: int = 50,  # linear learning-rate warm-up
        export_path: str | None = "checkpoints/syncnet_grid.pt",  # plain checkpoint written at the end of fit
    ):
        super().__init__()
        self.save_hyperparameters()
        self.net = SyncNetLite(SyncNetConfig(width=width, dim=dim, max_shift=max_shift))
        self._t0 = time.process_time()

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        v, a = self.net(batch["video"], batch["mel"])
        scale = self.net.log_scale.clamp(max=np.log(100.0)).exp()
        loss = info_nce_over_shifts(v, a, self.hparams.max_shift, scale)
        self.log_dict({"train/loss": loss, "train/scale": scale}, prog_bar=True, batch_size=v.shape[0])
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        v, a = self.net(batch["video"], batch["mel"])
        scale = self.net.log_scale.clamp(max=np.log(100.0)).exp()
        loss = info_nce_over_shifts(v, a, self.hparams.max_shift, scale)
        scores = [score_embeddings(v[i].cpu(), a[i].cpu(), self.hparams.max_shift, self.net.config.fps)
                  for i in range(v.shape[0])]
        acc = float(np.mean([s.offset_frames == 0 for s in scores]))
        self.log_dict({"val/loss": loss, "val/offset_acc": acc,
                       "val/lse_c": float(np.mean([s.lse_c for s in scores]))},
                      prog_bar=True, batch_size=v.shape[0])

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
        if self.hparams.export_path:
            meta = {"steps": int(self.global_step), "cpu_s": round(time.process_time() - self._t0, 1)}
            path = save_syncnet(self.net, self.hparams.export_path, meta=meta)
            print(f"SyncNet-lite checkpoint written to {path} ({path.stat().st_size / 2**20:.2f} MiB)")
