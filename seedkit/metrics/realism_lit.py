"""Training the realism critic (`seedkit fit --config seedkit/configs/realism_bounce.yaml --data.joint C`).

    GeneratedClipsData  LightningDataModule: `num_clips` training scenes from `first_scene` on; each
                        scene twice, its real clip through the joint model's video tokenizer and
                        decoder (label 1) and the joint model's sample of its caption (label 0).
                        Sampled once into shards of `shard` clips under `cache_dir` (one file per
                        shard, written atomically: an interrupted preparation resumes at the first
                        missing shard); the first shards are the validation clips.
    RealismModule       LightningModule: binary cross-entropy on the logit of `RealismCritic`, random
                        left-right flips; logs train/val loss and val accuracy; at the end of fit the
                        weights are exported as a plain checkpoint (`export_path`).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset

from ..data.clip import frames_to_video
from ..data.resumable import shuffled_loader
from ..tokenizers.checkpoint import export_weights
from ..typed import ConfigError, check_at_least, check_export_path, check_positive
from .realism import RealismConfig, RealismCritic, save_realism

__all__ = ["GeneratedClipsData", "RealismModule", "realism_shard"]


def realism_shard(jm, batch: dict, config) -> dict[str, np.ndarray]:
    """One shard: a batch of scenes (`AVDataModule` collation) -> {"real": real clips through the
    tokenizer and decoder, "generated": joint samples of their captions}, uint8 [B, T, H, W, 3] each.
    jm: a `JointAV`; config: its `SamplerConfig` (seeded)."""
    from ..data.clip import video_to_frames

    video, _ = jm.generate("joint", batch["text_ids"], batch["text_mask"], config=config)
    with torch.no_grad(), torch.autocast(jm.device.type, enabled=False):  # the tokenizer in fp32, as `jm.decode`
        tok = jm.video_tok  # with the decoder that draws the samples
        real = tok.decode(tok.encode(batch["video"].float())).clamp(-1, 1)

    def frames(v: torch.Tensor) -> np.ndarray:
        return np.stack([video_to_frames(x).numpy() for x in v])

    return {"real": frames(real), "generated": frames(video)}


class GeneratedClipsData(L.LightningDataModule):
    """Real (tokenizer round trip) and generated clips of bounce training scenes, for the realism critic."""

    def __init__(
        self,
        joint: str | None = None,  # the joint model's checkpoint whose samples the critic learns to spot (required)
        video_decoder: str | None = None,  # decoder for samples and real clips alike (`seedkit sample --video-decoder`)
        num_clips: int = 2048,  # scenes sampled (and as many real clips): 64 shards of 32
        num_val: int = 128,  # of those, the first ones held out for validation
        first_scene: int = 4000,  # scenes first_scene .. first_scene + num_clips - 1 (training scenes)
        shard: int = 32,  # clips sampled per call and per cache file
        seed: int = 1000,  # shard k is sampled with seed + k
        sampler: dict | None = None,  # SamplerConfig overrides (default: the checkpoint's, with the demo's steps)
        cache_dir: str = "data/cache/realism",  # shards land in a folder keyed by all of the above
        batch_size: int = 32,  # clips per training batch (half real, half generated on average)
    ):
        super().__init__()
        self.save_hyperparameters()
        check_at_least("GeneratedClipsData", 1, batch_size=batch_size, shard=shard)
        self._folder: Path | None = None  # cache_folder(), hashed once
        if num_val % shard or num_clips % shard or not 0 < num_val < num_clips:
            raise ValueError(f"GeneratedClipsData: num_clips ({num_clips}) and num_val ({num_val}) must be "
                             f"multiples of shard ({shard}), with 0 < num_val < num_clips")
        self.train_set = self.val_set = None

    @property
    def num_shards(self) -> int:
        return self.hparams.num_clips // self.hparams.shard

    def cache_folder(self) -> Path:
        """The folder of this setting's shards: keyed by the checkpoint and decoder files' bytes and
        every option that changes a clip."""
        if self._folder is not None:
            return self._folder
        hp = self.hparams
        if not hp.joint:
            raise ValueError("GeneratedClipsData needs --data.joint: the joint model checkpoint whose samples "
                             "the realism critic learns to tell from real clips")
        from ..data.grid import sha256_file

        parts = []
        for path in (hp.joint, hp.video_decoder):
            if path and not Path(path).is_file():
                raise FileNotFoundError(f"GeneratedClipsData: {path} does not exist")
            parts.append(sha256_file(path) if path else None)  # read in chunks: checkpoints are large
        parts += [hp.first_scene, hp.shard, hp.seed, hp.sampler or {}]
        self._folder = Path(hp.cache_dir) / hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
        return self._folder

    def prepare_data(self) -> None:
        folder = self.cache_folder()
        missing = [k for k in range(self.num_shards) if not (folder / f"shard{k:04d}.npz").exists()]
        if not missing:
            return
        from ..data import AVDataModule, BounceDataset
        from ..data.datamodule import Collate
        from ..demo import DemoConfig, held_out_data_settings
        from ..lit import load_joint
        from ..sampling import SamplerConfig

        hp = self.hparams
        jm = load_joint(hp.joint, video_decoder=hp.video_decoder)
        world = held_out_data_settings(jm.data_settings)
        first_test = world["num_train"] + world["num_val"]
        if hp.first_scene + hp.num_clips > first_test:
            raise ValueError(f"GeneratedClipsData: scenes {hp.first_scene}..{hp.first_scene + hp.num_clips - 1} "
                             f"reach the test scenes (from {first_test}); lower first_scene or num_clips")
        dm = AVDataModule(**world)  # the joint model's world and vocabulary
        scenes = BounceDataset(dm.bounce_config, hp.first_scene, hp.num_clips)
        base = SamplerConfig(**{**vars(jm.sampler_config), "steps": DemoConfig().sample_steps, **(hp.sampler or {})})
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "settings.json").write_text(json.dumps({**dict(hp), "sampler_config": vars(base)}, indent=1))
        collate = Collate(dm.vocab)
        t0 = time.time()
        for i, k in enumerate(missing):
            idx = range(k * hp.shard, (k + 1) * hp.shard)
            batch = next(iter(DataLoader(Subset(scenes, idx), batch_size=hp.shard, collate_fn=collate)))
            shard = realism_shard(jm, batch, replace(base, seed=hp.seed + k))
            tmp = folder / f".shard{k:04d}.part.npz"
            np.savez(tmp, **shard)
            os.replace(tmp, folder / f"shard{k:04d}.npz")
            print(f"realism data: shard {k + 1}/{self.num_shards} ({i + 1} of {len(missing)} missing; "
                  f"{time.time() - t0:.0f} s)", flush=True)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        folder, hp = self.cache_folder(), self.hparams
        real, gen = [], []
        for k in range(self.num_shards):
            path = folder / f"shard{k:04d}.npz"
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run `seedkit fit` (prepare_data samples it)")
            with np.load(path) as z:
                real.append(z["real"])
                gen.append(z["generated"])
        nv = hp.num_val

        def pairs(r: list, g: list) -> TensorDataset:
            x = torch.from_numpy(np.concatenate(r + g))  # uint8 [2N, T, H, W, 3]
            y = torch.cat([torch.ones(sum(map(len, r))), torch.zeros(sum(map(len, g)))])
            return TensorDataset(x, y)

        real, gen = np.concatenate(real), np.concatenate(gen)
        self.val_set = pairs([real[:nv]], [gen[:nv]])
        self.train_set = pairs([real[nv:]], [gen[nv:]])

    def train_dataloader(self) -> DataLoader:
        return shuffled_loader(self.train_set, self.hparams.batch_size, drop_last=True)  # resumable mid-epoch

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size * 2, shuffle=False)


class RealismModule(L.LightningModule):
    """The realism critic's training: logit [B] of uint8 clips [B, T, H, W, 3] against labels [B]
    (1 real, 0 generated), binary cross-entropy; exports the weights at the end of fit."""

    def __init__(
        self,
        width: int = 32,  # RealismConfig.width: channels of the first block
        fps: float = 16.0,  # frame rate of the clips (bounce 16)
        num_frames: int = 32,  # frames per clip
        size: int = 32,  # frame height and width
        lr: float = 3e-4,  # AdamW learning rate (constant after warm-up)
        weight_decay: float = 0.05,  # AdamW weight decay: 2000 clips a class overfit without it
        warmup_steps: int = 50,  # linear learning-rate warm-up
        export_path: str | None = "checkpoints/realism_bounce.pt",  # plain checkpoint written at the end of fit
    ):
        super().__init__()
        self.save_hyperparameters()
        check_positive("RealismModule", lr=lr)
        check_export_path("RealismModule", export_path)
        check_at_least("RealismModule", 0, weight_decay=weight_decay, warmup_steps=warmup_steps)
        self.net = RealismCritic(RealismConfig(width=width, fps=fps, num_frames=num_frames, size=size))
        self._t0 = time.process_time()

    def setup(self, stage: str) -> None:
        """The clips must be the format the exported critic will claim (`rerank` checks clips against
        it): the net is convolutional and would train on any size, so a mismatch is refused here."""
        data = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        tensors = getattr(getattr(data, "train_set", None), "tensors", None)  # GeneratedClipsData's pairs
        if stage != "fit" or tensors is None:
            return
        t, h, w = tensors[0].shape[1:4]
        hp = self.hparams
        if (t, h, w) != (hp.num_frames, hp.size, hp.size):
            raise ConfigError(f"RealismModule(num_frames={hp.num_frames}, size={hp.size}): the clips are {t} frames of "
                              f"{h}x{w}; set --model.num_frames {t} --model.size {h} (and the clips' --model.fps)")

    def _loss(self, batch, flip: bool) -> tuple[torch.Tensor, torch.Tensor]:
        frames, label = batch
        video = frames_to_video(frames.flatten(0, 1)).unflatten(0, frames.shape[:2])  # [B, T, 3, H, W]
        if flip:  # left-right mirror: the world has no handedness
            mirror = torch.rand(video.shape[0], device=video.device) < 0.5
            video = torch.where(mirror[:, None, None, None, None], video.flip(-1), video)
        logit = self.net(video)
        return F.binary_cross_entropy_with_logits(logit, label), ((logit > 0).float() == label).float().mean()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss, acc = self._loss(batch, flip=True)
        self.log_dict({"train/loss": loss, "train/acc": acc}, prog_bar=True, batch_size=batch[0].shape[0])
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        loss, acc = self._loss(batch, flip=False)
        self.log_dict({"val/loss": loss, "val/acc": acc}, prog_bar=True, batch_size=batch[0].shape[0])

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        warm = max(1, self.hparams.warmup_steps)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / warm))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_fit_end(self) -> None:
        export_weights(self, save_realism, "realism critic")
