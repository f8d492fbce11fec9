"""Plain-dict tokenizer checkpoints, loadable with `torch.load(weights_only=True)`.

    {"kind": "video_autoencoder" | "audio_autoencoder",
     "config": dataclass as dict, "state_dict": {...},
     "latent_shift": float, "latent_scale": float}

Only tensors, numbers, strings, lists and dicts are stored, so no pickled class is ever executed.
The kit's small judges (SyncNet-lite, the realism critic) are stored the same way, as
{"kind", "config", "state_dict" (fp16), "meta"} (`save_weights`, `load_weights`; their Lightning
modules write them at the end of fit with `export_weights`).
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import torch

from ..paths import write_atomic


class CheckpointError(ValueError):
    """A tokenizer checkpoint is missing, unreadable, or of another kind."""


def save_plain(payload: dict, path: str | os.PathLike) -> Path:
    """torch.save a plain dict next to its final name, then rename: a crash never leaves half a file
    (tokenizer and SyncNet-lite checkpoints, stored latents)."""
    return write_atomic(path, lambda f: torch.save(payload, f))


def save_weights(model: torch.nn.Module, kind: str, path: str | os.PathLike, meta: dict | None = None,
                 half: bool = True) -> Path:
    """Write a model with a dataclass `config` as {"kind", "config", "state_dict", "meta"}, atomically;
    floating-point weights in fp16 (half the size) by default."""
    sd = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
          for k, v in model.state_dict().items()}
    return save_plain({"kind": kind, "config": dataclasses.asdict(model.config), "state_dict": sd,
                       "meta": meta or {}}, path)


def export_weights(module, save, name: str) -> Path | None:
    """A judge's `on_fit_end`: write `module.net` with `save(net, path, meta=...)` to the module's
    `hparams.export_path` (nothing when it is empty), meta = its steps and the process CPU seconds
    since `module._t0`; prints where. Returns the path written or None."""
    if not module.hparams.export_path:
        return None
    meta = {"steps": int(module.global_step), "cpu_s": round(time.process_time() - module._t0, 1)}
    path = save(module.net, module.hparams.export_path, meta=meta)
    print(f"{name} checkpoint written to {path} ({path.stat().st_size / 2**20:.2f} MiB)")
    return path


def load_weights(path: str | os.PathLike, kind: str, name: str, hint: str, build, map_location: str = "cpu"):
    """Read a `save_weights` file of `kind` and return `build(config_dict)` with its weights (fp32, eval
    mode, `.meta` set). name: what the model is called in errors; hint: how to train one.
    FileNotFoundError / ValueError name the file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{name} checkpoint {p} does not exist; train one with {hint}")
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our checkpoint"
        raise ValueError(f"{p}: not a readable {name} checkpoint ({e.__class__.__name__})") from e
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        found = payload.get("kind", "unknown") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{p}: is a {found} checkpoint, expected a {kind} checkpoint")
    try:
        model = build(payload["config"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()})
    except (KeyError, TypeError, ValueError, RuntimeError) as e:  # options or weights of another version
        detail = str(e).strip().splitlines()[-1].strip() if str(e).strip() else type(e).__name__
        raise ValueError(f"{p}: its {name} weights do not fit this seedkit ({detail}); "
                         f"a checkpoint from an older version? Train one again with {hint}") from e
    model.meta = payload.get("meta", {})
    return model.eval()


def save_plain_checkpoint(path: str | os.PathLike, kind: str, config, state_dict: dict,
                          latent_shift: float, latent_scale: float) -> Path:
    """Write the checkpoint next to its final name, then rename (a crash never leaves half a file)."""
    payload = {
        "kind": kind,
        "config": dataclasses.asdict(config),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "latent_shift": float(latent_shift),
        "latent_scale": float(latent_scale),
    }
    return save_plain(payload, path)


def load_plain_checkpoint(path: str | os.PathLike, kind: str) -> dict:
    """Read a checkpoint written by `save_plain_checkpoint` and check it holds a `kind` model."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint file (expected a {kind} checkpoint, "
                              f"e.g. written by `seedkit fit --config seedkit/configs/tokenizer_*.yaml`)")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for corrupt / foreign files
        raise CheckpointError(f"{p}: not a readable tokenizer checkpoint (expected {kind}): {e}") from e
    if not isinstance(payload, dict) or "kind" not in payload:
        raise CheckpointError(f"{p}: not a seedkit tokenizer checkpoint (no 'kind' entry; "
                              f"expected kind {kind!r})")
    if payload["kind"] != kind:
        raise CheckpointError(f"{p}: holds a {payload['kind']!r} checkpoint, expected {kind!r}")
    missing = {"config", "state_dict", "latent_shift", "latent_scale"} - set(payload)
    if missing:
        raise CheckpointError(f"{p}: {kind} checkpoint lacks entries {sorted(missing)}")
    return payload


def load_tokenizer_state(model, state_dict: dict, path, kind: str, optional: tuple[str, ...] = ()) -> None:
    """Load a tokenizer checkpoint's `state_dict` into `model`. Weights that do not fit (missing, unexpected
    or of another shape) raise CheckpointError naming the file: a checkpoint from an older version of the
    kit, which `seedkit demo` sets aside and retrains. `optional`: prefixes of buffers a file may lack."""
    retrain = (f"a checkpoint from an older version? Retrain it with `seedkit fit --config "
               f"seedkit/configs/tokenizer_{kind.split('_')[0]}_*.yaml`")
    try:
        missing, unexpected = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as e:  # a weight of another shape
        first = str(e).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{path}: weights do not fit the {kind} architecture of this seedkit ({first}); "
                              f"{retrain}") from e
    missing = [k for k in missing if not k.startswith(optional)]
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not fit the {kind} architecture of this seedkit "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]}); {retrain}")


def config_from_dict(cls, data: dict):
    """Rebuild a flat config dataclass from `dataclasses.asdict` output (unknown keys are an error)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise CheckpointError(f"{cls.__name__}: checkpoint config has unknown options {sorted(unknown)}")
    return cls(**data)


def config_mismatch(ours, theirs, ignore: tuple[str, ...] = ()) -> str | None:
    """The fields in which two config dataclasses differ, as "k=theirs (here ours), ..." (None: none
    but `ignore`): the message that refuses a checkpoint built with other options."""
    a, b = dataclasses.asdict(ours), dataclasses.asdict(theirs)
    differ = [f"{k}={b[k]!r} (here {a[k]!r})" for k in a if a[k] != b.get(k) and k not in ignore]
    return ", ".join(differ) or None
