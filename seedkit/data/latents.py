"""Latent caching: encode every clip of a split once with the frozen tokenizers, then train on the
stored latents.

Why: the joint model learns on the latents of frozen tokenizers, and encoding each batch again
costs time every step: on 2 CPU cores 0.25-0.27 s of a ~1.3 s bf16 GRID step (batch 16). The GRID
windows are fixed (one centred window per clip, no augmentation), so a clip's latents never change
and encoding them once gives the same training batches.

    sample: video_latent float32 [T', C, H', W'], audio_latent float32 [A', C_a],
            caption str, events [(time_s, label)], id str

`cached_latents(dataset, video_tok, audio_tok, path)` stores one file per split. It is written
atomically, so an interrupted encoding leaves no half file. The file lists the clip ids it holds
(and for GRID a hash of the manifest records they were made from); a split whose clips changed is
encoded again. `latent_key` names the folder: a hash of the tokenizers' weights and the dataset
settings, so other tokenizers never read stale latents.

Measured on the kit's 2-core CPU (GRID, bf16, batch 16; `benchmarks/bench_latent_cache.py`):
encoding 889 + 58 clips once takes 30 s, and a `seedkit fit` step goes from 1.40 to 1.09 s.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from ..tokenizers.checkpoint import save_plain

__all__ = ["LatentClips", "cached_latents", "encode_split", "latent_key"]


def latent_key(modules: list[torch.nn.Module], settings: dict) -> str:
    """16 hex digits: sha256 of the modules' state dicts (names, shapes, bytes) and `settings`."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for m in modules:
        for name, t in m.state_dict().items():
            t = t.detach().cpu().contiguous().reshape(-1)
            h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


class LatentClips(Dataset):
    """Encoded clips held in memory: video [N, T', C, H', W'], audio [N, A', C_a] + metadata."""

    def __init__(self, video: torch.Tensor, audio: torch.Tensor, captions: list[str],
                 events: list[list], ids: list[str]):
        n = len(ids)
        if not (video.shape[0] == audio.shape[0] == len(captions) == len(events) == n):
            raise ValueError(f"latent cache is inconsistent: {video.shape[0]} video, {audio.shape[0]} "
                             f"audio latents, {len(captions)} captions, {n} ids")
        self.video, self.audio = video, audio
        self.captions, self.events, self.ids = captions, events, ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"video_latent": self.video[i], "audio_latent": self.audio[i], "caption": self.captions[i],
                "events": self.events[i], "id": self.ids[i]}

    def state(self) -> dict:
        """Plain dict (tensors, strings, lists): loadable with `torch.load(weights_only=True)`."""
        return {"video": self.video, "audio": self.audio, "captions": self.captions,
                "events": [[[float(t), str(w)] for t, w in ev] for ev in self.events], "ids": self.ids}

    @classmethod
    def from_state(cls, state: dict) -> LatentClips:
        return cls(state["video"], state["audio"], list(state["captions"]),
                   [[(t, w) for t, w in ev] for ev in state["events"]], list(state["ids"]))


def _stack(samples: list[dict]) -> dict:
    return {"video": torch.stack([s["video"] for s in samples]),
            "audio": torch.stack([s["audio"] for s in samples]),
            "meta": [(s["caption"], s["events"], s["id"]) for s in samples]}


@torch.no_grad()
def encode_split(dataset: Dataset, video_tok: torch.nn.Module, audio_tok: torch.nn.Module, *,
                 batch_size: int = 32, num_workers: int = 0, device: str | torch.device = "cpu",
                 desc: str = "encoding") -> LatentClips:
    """Encode every clip of `dataset` (samples with video [T, 3, H, W], audio [1, N]) in fp32.

    The tokenizers are used as given (eval mode, on `device`); latents come back on the CPU. The
    global random state is left as it was.
    """
    from tqdm.auto import tqdm

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=_stack)
    videos, audios, meta = [], [], []
    device = torch.device(device)
    # a DataLoader draws its worker seed from the global generator: fork it, so that a run which
    # encodes its cache and one that loads it go on with the same random stream (same batches, noise)
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), torch.autocast(device.type, enabled=False):
        for b in tqdm(loader, desc=desc, unit="batch"):
            videos.append(video_tok.encode(b["video"].to(device).float()).cpu())
            audios.append(audio_tok.encode(b["audio"].to(device).float()).cpu())
            meta.extend(b["meta"])
    if not meta:
        raise ValueError(f"{desc}: the split is empty, nothing to encode")
    captions, events, ids = (list(x) for x in zip(*meta))
    return LatentClips(torch.cat(videos), torch.cat(audios), captions, events, ids)


def _split_ids(dataset: Dataset) -> list[str] | None:
    """The ids of a split without loading its media, where the dataset can tell (`ids()`: GRID, bounce)."""
    ids = getattr(dataset, "ids", None)
    return list(ids()) if callable(ids) else None


def _split_source(dataset: Dataset) -> str | None:
    """sha256 of what the clips were made from, where the dataset records it: a GRID cache's
    manifest records (source file hash, crop box, shapes), so a re-prepared clip is encoded again."""
    records = getattr(dataset, "records", None)
    if records is None:
        return None
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


def cached_latents(dataset: Dataset, video_tok: torch.nn.Module, audio_tok: torch.nn.Module,
                   path: str | os.PathLike, *, batch_size: int = 32, num_workers: int = 0,
                   device: str | torch.device = "cpu", desc: str = "encoding") -> LatentClips:
    """The split's latents from `path` if it holds this split's clips, else encoded and saved there."""
    path = Path(path)
    want, source = _split_ids(dataset), _split_source(dataset)
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            clips = LatentClips.from_state(state)
        except Exception as e:  # unreadable or foreign file: encode again
            print(f"latent cache {path} unreadable ({e}); encoding again")
        else:
            if (want is None or clips.ids == want) and state.get("source") == source:
                return clips
            print(f"latent cache {path} holds other clips ({len(clips.ids)}, made from other data); "
                  f"encoding again")
    clips = encode_split(dataset, video_tok, audio_tok, batch_size=batch_size, num_workers=num_workers,
                         device=device, desc=desc)
    save_plain({**clips.state(), "source": source}, path)
    return clips
