"""`AVDataModule`: one LightningDataModule over either dataset, same batch format for both.

Batch (after `collate`):
    video     float32 [B, T, 3, H, W] in [-1, 1]
    audio     float32 [B, 1, N] in [-1, 1]
    text_ids  long [B, L]   word ids, 0 = padding
    text_mask bool [B, L]   True on real tokens
    caption   list[str]; events list[list[(time_s, label)]]; id list[str]
"""
from __future__ import annotations

import os
from typing import Literal

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from .bounce import BounceConfig, BounceDataset
from .clip import ClipSpec
from .text import WordVocab


def fast_mode() -> bool:
    """True when `SEEDKIT_FAST=1`: notebooks and tests shrink every run."""
    return os.environ.get("SEEDKIT_FAST", "0") not in ("", "0", "false", "False")


def collate(samples: list[dict], vocab: WordVocab) -> dict:
    ids, mask = vocab.batch([s["caption"] for s in samples])
    return {
        "video": torch.stack([s["video"] for s in samples]),
        "audio": torch.stack([s["audio"] for s in samples]),
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
        cache_dir: str | None = None,  # grid: prepared cache folder (default data/cache/grid)
    ):
        super().__init__()
        self.save_hyperparameters()
        self.spec = ClipSpec(fps=fps, num_frames=num_frames, size=size, sample_rate=sample_rate)
        if dataset == "bounce":
            self.bounce_config = BounceConfig(spec=self.spec, seed=seed, max_objects=max_objects,
                                              min_objects=min(1, max_objects))
            self.vocab = WordVocab(BounceDataset(self.bounce_config, 0, 1).vocabulary())
        elif dataset == "grid":
            from .grid import grid_vocabulary

            self.vocab = WordVocab(grid_vocabulary())
        else:
            raise ValueError(f"dataset must be 'bounce' or 'grid', got {dataset!r}")
        self.splits: dict[str, Dataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        hp = self.hparams
        if hp.dataset == "bounce":
            sizes = {"train": hp.num_train, "val": hp.num_val, "test": hp.num_test}
            start = 0
            for name, n in sizes.items():
                self.splits[name] = BounceDataset(self.bounce_config, start, n)
                start += n
        else:
            from .grid import grid_splits

            self.splits.update(grid_splits(self.spec, hp.cache_dir))

    def dataset(self, split: str) -> Dataset:
        self.setup()
        if split not in self.splits:
            raise KeyError(f"no split {split!r}; have {sorted(self.splits)}")
        return self.splits[split]

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        hp = self.hparams
        return DataLoader(
            self.dataset(split), batch_size=hp.batch_size, shuffle=shuffle,
            num_workers=hp.num_workers, collate_fn=Collate(self.vocab),
            persistent_workers=hp.num_workers > 0, pin_memory=torch.cuda.is_available(),
            drop_last=shuffle and len(self.dataset(split)) >= hp.batch_size,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def state_dict(self) -> dict:
        return {"vocab": self.vocab.state_dict()}
