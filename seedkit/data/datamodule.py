"""`AVDataModule`: one LightningDataModule over either dataset, same batch format for both.

Batch (after `collate`):
    video     float32 [B, T, 3, H, W] in [-1, 1]
    audio     float32 [B, 1, N] in [-1, 1]
      or, with cache_latents (train and val splits, encoded once by the model's frozen tokenizers):
    video_latent float32 [B, T', C, H', W'], audio_latent float32 [B, A', C_a]
    text_ids  long [B, L]   word ids, 0 = padding
    text_mask bool [B, L]   True on real tokens
    caption   list[str]; events list[list[(time_s, label)]]; id list[str]
      with motion (bounce):
    tracks    float32 [B, T, K, 2]  object centres (x, y in [0, 1]; NaN: no such object)
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Literal

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from ..typed import check_at_least
from .bounce import BounceConfig, BounceDataset, BounceGenerator
from .clip import ClipSpec
from .latents import LatentClips, cached_latents, latent_key
from .resumable import shuffled_loader
from .text import WordVocab

LATENT_SPLITS = ("train", "val")  # splits that cache_latents encodes (test and unseen stay media)
DEFAULT_LATENT_DIR = Path("data/cache/latents")
MAX_CACHED_BOUNCE = 20_000  # bounce scenes per cached split (35 kB of latents each, held in memory)


def fast_mode() -> bool:
    """True when `SEEDKIT_FAST=1`: notebooks and tests shrink every run."""
    return os.environ.get("SEEDKIT_FAST", "0") not in ("", "0", "false", "False")


TENSOR_KEYS = ("video", "audio", "video_latent", "audio_latent", "tracks")  # stacked into batch tensors


def collate(samples: list[dict], vocab: WordVocab) -> dict:
    ids, mask = vocab.batch([s["caption"] for s in samples])
    return {
        **{k: torch.stack([s[k] for s in samples]) for k in TENSOR_KEYS if k in samples[0]},
        "text_ids": ids,
        "text_mask": mask,
        "caption": [s["caption"] for s in samples],
        "events": [s["events"] for s in samples],
        "id": [s["id"] for s in samples],
    }


class Collate:
    """Picklable collate function (DataLoader workers need one)."""

    def __init__(self, vocab: WordVocab):
        self.vocab = vocab

    def __call__(self, samples: list[dict]) -> dict:
        return collate(samples, self.vocab)


class AVDataModule(L.LightningDataModule):
    """Train/val/test splits of `bounce` (built in) or `grid` (prepared cache).

    bounce splits are disjoint ranges of scene indices, so they never overlap and never change.
    """

    def __init__(
        self,
        dataset: Literal["bounce", "grid"] = "bounce",  # which dataset
        batch_size: int = 16,  # clips per batch
        num_workers: int = 0,  # DataLoader worker processes (0 = main process)
        num_train: int = 4096,  # bounce: scenes in the train split
        num_val: int = 64,  # bounce: scenes in the val split
        num_test: int = 64,  # bounce: scenes in the test split
        seed: int = 0,  # bounce: dataset seed
        fps: float = 16.0,  # clip frame rate
        num_frames: int = 32,  # frames per clip
        size: int = 32,  # frame size in pixels (square)
        sample_rate: int = 16000,  # audio rate
        max_objects: int = 2,  # bounce: objects per scene at most
        captions: Literal["objects", "layout"] = "objects",  # bounce: "red ball", or "layout" adds where each
                                                             # object starts and heads (BounceConfig.captions)
        cache_dir: str | None = None,  # grid: prepared cache folder (default data/cache/grid)
        cache_latents: bool = False,  # encode train/val clips once with the model's frozen tokenizers
        latent_dir: str | None = None,  # where cache_latents stores them (default: grid <cache_dir>/latents,
                                        # bounce data/cache/latents)
        motion: bool = False,  # bounce: batches also carry the objects' tracks (the video tower's
                               # motion targets, `DualTowerConfig.motion_head`)
    ):
        super().__init__()
        self.save_hyperparameters()
        check_at_least("AVDataModule", 1, batch_size=batch_size, max_objects=max_objects)
        check_at_least("AVDataModule", 0, num_workers=num_workers, num_train=num_train, num_val=num_val,
                       num_test=num_test, seed=seed)
        self.spec = ClipSpec(fps=fps, num_frames=num_frames, size=size, sample_rate=sample_rate)
        if dataset == "bounce":
            self.bounce_config = BounceConfig(spec=self.spec, seed=seed, max_objects=max_objects,
                                              min_objects=min(1, max_objects), captions=captions)
            self.vocab = WordVocab(BounceDataset(self.bounce_config, 0, 1).vocabulary())
        elif dataset == "grid":
            from .grid import grid_vocabulary

            self.vocab = WordVocab(grid_vocabulary())
        else:
            raise ValueError(f"dataset must be 'bounce' or 'grid', got {dataset!r}")
        if motion and dataset != "bounce":
            raise ValueError("data.motion needs object tracks, which only the bounce dataset has")
        self.splits: dict[str, Dataset] = {}
        self._starts: dict[str, int] = {}  # bounce: first scene index of each split
        self._latent_splits: set[str] = set()  # splits that encode_latents has replaced

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:
            self._build_splits()
        model = self.trainer.lightning_module if self.trainer is not None else None
        words = getattr(getattr(model, "vocab", None), "words", None)
        if words is not None and words != self.vocab.words:
            # the batches carry this datamodule's word ids: another vocabulary reads other words
            raise ValueError(f"the model's vocabulary ({' '.join(words[2:])}) is not the data's "
                             f"({' '.join(self.vocab.words[2:])}); pass --model.vocabulary "
                             f"[{', '.join(self.vocab.words[2:])}]")
        wanted = {"fit": LATENT_SPLITS, "validate": ("val",), None: LATENT_SPLITS}.get(stage, ())
        if self.hparams.cache_latents and any(s not in self._latent_splits for s in wanted):
            if model is None or not hasattr(model, "video_tok") or not hasattr(model, "audio_tok"):
                raise RuntimeError(
                    "data.cache_latents needs the joint model's frozen tokenizers: train under a Trainer "
                    "with seedkit.lit.JointAV (seedkit fit), or call encode_latents(video_tok, audio_tok)")
            self.encode_latents(model.video_tok, model.audio_tok, device=self.trainer.strategy.root_device,
                                splits=wanted)

    def encode_latents(self, video_tok: torch.nn.Module, audio_tok: torch.nn.Module,
                       device: str | torch.device = "cpu", splits: tuple[str, ...] = LATENT_SPLITS) -> Path:
        """Replace `splits` (train and val; `seedkit validate` needs only val) by their latents
        (`seedkit.data.latents`), encoding each clip once; later runs with the same tokenizers and
        data settings load them. Returns the folder.

        bounce scenes are drawn on the fly, so a cached bounce split repeats its scenes every epoch:
        keep num_train in the thousands (MAX_CACHED_BOUNCE) instead of the configs' 100000.
        """
        hp = self.hparams
        if not self.splits:
            self._build_splits()
        if hp.dataset == "bounce" and max((len(self.splits[s]) for s in splits), default=0) > MAX_CACHED_BOUNCE:
            raise ValueError(f"data.cache_latents on bounce encodes every scene of a split once: "
                             f"num_train={hp.num_train}, num_val={hp.num_val}; use at most "
                             f"{MAX_CACHED_BOUNCE} (e.g. --data.num_train 8192)")
        # what the clips are, not how they are loaded; nor LightningCLI's `_class_path` / `_instantiator`,
        # so that `seedkit fit` and a datamodule built in Python (a notebook, a probe) share the cache
        settings = {k: v for k, v in hp.items() if not k.startswith("_") and k not in (
            "batch_size", "num_workers", "cache_latents", "latent_dir", "motion")}
        if hp.latent_dir:
            root = Path(hp.latent_dir)
        elif hp.dataset == "grid":
            from .grid import DEFAULT_CACHE

            root = Path(hp.cache_dir or DEFAULT_CACHE) / "latents"  # next to the clips they encode
        else:
            root = DEFAULT_LATENT_DIR
        folder = root / f"{hp.dataset}-{latent_key([video_tok, audio_tok], settings)}"
        device = torch.device(device)
        vt = copy.deepcopy(video_tok).to(device).eval()  # copies: the model's own stay where they are
        at = copy.deepcopy(audio_tok).to(device).eval()
        for name in splits:
            ds = self.splits[name]
            if len(ds) == 0 or isinstance(ds, LatentClips):
                continue  # nothing to encode (a tiny GRID cache can leave val empty), or done already
            self.splits[name] = cached_latents(
                ds, vt, at, folder / f"{name}.pt", batch_size=hp.batch_size, num_workers=hp.num_workers,
                device=device, desc=f"{hp.dataset} {name}: encoding once")
        self._latent_splits.update(splits)
        return folder

    def _build_splits(self) -> None:
        hp = self.hparams
        if hp.dataset == "bounce":
            sizes = {"train": hp.num_train, "val": hp.num_val, "test": hp.num_test}
            start = 0
            for name, n in sizes.items():
                self.splits[name] = BounceDataset(self.bounce_config, start, n)
                self._starts[name] = start
                start += n
        else:
            from .grid import grid_splits

            self.splits.update(grid_splits(self.spec, hp.cache_dir))

    def dataset(self, split: str) -> Dataset:
        if not self.splits:
            self._build_splits()
        if split not in self.splits:
            raise KeyError(f"no split {split!r}; have {sorted(self.splits)}")
        return self.splits[split]

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        hp = self.hparams
        data = self.dataset(split)
        if hp.motion:
            from .motion import WithTracks

            data = WithTracks(data, BounceGenerator(self.bounce_config), self._starts[split])
        # training batches come from a loader Lightning can resume mid-epoch (seedkit.data.resumable)
        return (shuffled_loader if shuffle else DataLoader)(
            data, batch_size=hp.batch_size,
            num_workers=hp.num_workers, collate_fn=Collate(self.vocab),
            persistent_workers=hp.num_workers > 0, pin_memory=torch.cuda.is_available(),
            drop_last=shuffle and len(data) >= hp.batch_size,
        )

    def train_dataloader(self) -> DataLoader:
        if len(self.dataset("train")) == 0:  # else a DataLoader stops: "num_samples should be a positive integer"
            from ..typed import ConfigError
            from .grid import DEFAULT_CACHE

            why = ("--data.num_train 0" if self.hparams.dataset == "bounce"
                   else f"no prepared GRID clips in it ({self.hparams.cache_dir or DEFAULT_CACHE})")
            raise ConfigError(f"the train split is empty ({why}): training needs clips")
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def state_dict(self) -> dict:
        return {"vocab": self.vocab.state_dict()}
