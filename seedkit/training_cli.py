"""`seedkit fit|validate|test --config FILE`: Lightning's own CLI over the kit's modules.

Configs name their classes (`model.class_path`, `data.class_path`), so one entry point trains the
tokenizers, the joint model and SyncNet-lite. W&B runs offline unless an account is configured.

Every run gets the kit's fault handling (seedkit.callbacks): checkpoints written atomically and loaded
with `weights_only=True`, random states saved and restored on `--ckpt_path last`, a stop at the
first NaN/inf loss, and `last.ckpt` at the final step. `validate` and `test` with `--ckpt_path
FILE` score the model the file holds: its saved settings (tokenizers, widths) over the config
file's. A config mistake (unknown key, wrong type, a checkpoint of another model) is one line
naming the key and what is accepted (`ConfigError`, exit code 2 in `seedkit`).
"""
from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
from pathlib import Path

from .typed import ConfigError  # noqa: F401 (raised here; the CLI catches it by this name)

CKPT_KEYWORDS = ("last", "best", "hpc")  # --ckpt_path values Lightning resolves itself
OPTIMIZER_STATE_KEYS = ("lr", "weight_decay")  # module settings a resumed optimiser/scheduler state overrides
_NOISE = ("Does not validate against any", "Subtypes:", "Errors:", "Given value type:", "Given value:",
          "Expected a <class 'NoneType'>", "tip:", "Parser key", "Problem with given class_path", "[--",
          "usage:")  # jsonargparse lines that name no problem


def configure_wandb_mode() -> str:
    """Offline unless WANDB_MODE is set or an API key / netrc login exists. Returns the mode."""
    if "WANDB_MODE" not in os.environ:
        netrc = Path.home() / ".netrc"
        logged_in = bool(os.environ.get("WANDB_API_KEY")) or (
            netrc.exists() and "api.wandb.ai" in netrc.read_text(errors="ignore"))
        os.environ["WANDB_MODE"] = "online" if logged_in else "offline"
    return os.environ["WANDB_MODE"]


def _accepted_options(class_path: str) -> list[str]:
    """The __init__ arguments of an importable class, or [] when it cannot be imported."""
    import importlib

    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return []
    return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]


def config_files(argv: list[str]) -> list[str]:
    """The files `--config FILE` / `--config=FILE` name on a command line."""
    files = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
    files += [b for a, b in zip(argv, argv[1:]) if a == "--config"]
    return files


def config_error_message(text: str, subcommand: str = "fit", problem: str = "config error in") -> str:
    """jsonargparse's multi-line parse error -> one line: the key, the problem, what is accepted."""
    keys = re.findall(r'Parser key "([^"]+)"', text)
    class_path = next(iter(re.findall(r"class_path[ =]'([\w.]+)'", text)), None)
    details = []
    for line in text.splitlines():
        line = line.strip().lstrip("- ").strip()
        if not line or line.startswith(_NOISE):
            continue
        line = re.sub(r"<class '([\w.]+)'>", r"\1", line)
        line = re.sub(r"^Expected a (.+?)\. Got value: (.*)$", r"expected \1, got \2", line)
        details.append(line)
    if text.startswith("Parser key") and ":" in text.splitlines()[0][len("Parser key"):]:
        first = text.splitlines()[0].split(":", 1)[1].strip()  # one-line form: 'Parser key "x": msg'
        if first:
            details.insert(0, first)
    unknown = re.search(r"unrecognized arguments: (.*)", text)
    if unknown:
        opts = [a for a in unknown.group(1).split() if a.startswith("--")] or [unknown.group(1)]
        return (f"unknown option {' '.join(opts)} (for `seedkit {subcommand}`; "
                f"run `seedkit {subcommand} --help` for the accepted options)")
    where = ".".join(k for k in keys if k not in ("init_args",))
    if class_path:
        where = f"{where} ({class_path})" if where else class_path
    detail = "; ".join(dict.fromkeys(details)) or text.strip().splitlines()[-1]
    bad = re.search(r"Option '([^']+)' is not accepted", detail)
    if bad and class_path:
        accepted = _accepted_options(class_path)
        close = difflib.get_close_matches(bad.group(1), accepted, n=1)
        detail = (f"unknown option {bad.group(1)!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                  + (f"; accepted: {', '.join(accepted)}" if accepted else ""))
    return f"{problem} {where or 'the config'}: {detail}"


def command_line_model_keys(argv: list[str]) -> set[str] | None:
    """The model options an argument list sets itself (`--model.sampler ...`, `--model.init_args.lr=...`):
    their top-level keys; None when it sets the whole model (`--model FILE`, `--model=...`)."""
    keys = set()
    for arg in argv:
        if arg == "--model" or arg.startswith("--model="):
            return None
        if arg.startswith("--model."):
            parts = arg[len("--model."):].split("=", 1)[0].split(".")
            if parts[0] == "init_args" and len(parts) > 1:
                parts = parts[1:]
            keys.add(parts[0])
    return keys


def check_checkpoint(ckpt_path: str | None, expected: str) -> dict | None:
    """Refuse, before any work, a --ckpt_path that is missing, unsafe to unpickle, or holds another
    kind of model than `expected` (the config's model class path). Returns the file's saved
    hyperparameters (None for no path or one Lightning resolves itself, such as 'last')."""
    if not ckpt_path or str(ckpt_path) in CKPT_KEYWORDS or "://" in str(ckpt_path):
        return None
    import torch

    path = Path(ckpt_path)
    if not path.is_file():
        raise ConfigError(f"--ckpt_path {path}: no such checkpoint file (expected a {expected} "
                          "training checkpoint such as .../checkpoints/last.ckpt, or 'last')")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # any unpickling failure: not a checkpoint we can load safely
        raise ConfigError(f"--ckpt_path {path}: not a loadable checkpoint with weights_only=True "
                          f"({type(e).__name__}); expected a {expected} training checkpoint") from e
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "pytorch-lightning_version" not in ckpt:
        kind = ckpt.get("kind", "non-Lightning") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ConfigError(f"--ckpt_path {path}: is a {kind} checkpoint, expected a {expected} training "
                          "checkpoint written by `seedkit fit` (e.g. .../checkpoints/last.ckpt)")
    hparams = dict(ckpt.get("hyper_parameters") or {})
    saved = hparams.get("_class_path")
    if saved and "." in expected and saved != expected:
        raise ConfigError(f"--ckpt_path {path}: holds a {saved} checkpoint, but the config trains "
                          f"{expected}")
    return hparams


def _make_cli_class():
    from lightning.pytorch.cli import LightningCLI
    from lightning.pytorch.plugins.io import CheckpointIO

    from .callbacks import AtomicCheckpointIO, FinalCheckpoint, FiniteLossGuard, ResumableRandomState

    class SeedkitCLI(LightningCLI):
        """LightningCLI with the kit's callbacks and checkpoint IO, and one-line config errors."""

        def parse_arguments(self, parser, args) -> None:
            import argparse

            from .yamlfile import read_yaml

            for path in config_files(args or []):  # a binary or broken file, named (a missing one: below)
                if Path(path).is_file():
                    try:
                        read_yaml(path, "training config")
                    except ValueError as e:
                        raise ConfigError(str(e)) from None
            try:
                super().parse_arguments(parser, args)
            except argparse.ArgumentError as e:
                sub = next((a for a in (args or []) if a in ("fit", "validate", "test")), "fit")
                raise ConfigError(config_error_message(str(e), sub)) from None
            self._argv = list(args) if args is not None else sys.argv[1:]
            # Checked here, before LightningCLI reads the checkpoint's hyperparameters into the config.
            self._ckpt_hparams = None
            cfg = self.config.get(self.config.get("subcommand") or "", None)
            if cfg is not None:
                if cfg.get("weights_only") is False:
                    raise ConfigError("--weights_only false is refused: seedkit loads checkpoints with "
                                      "weights_only=True only (no pickled code runs)")
                model = cfg.get("model")
                self._ckpt_hparams = check_checkpoint(cfg.get("ckpt_path"),
                                                      getattr(model, "class_path", None) or "a LightningModule")

        def _parse_ckpt_path(self) -> None:
            """Lightning 2.6 reads the hyperparameters saved in an explicit `--ckpt_path FILE` into the
            config over the config file and the command line (those of `--ckpt_path last` it leaves
            alone), so a run resumed from a file would drop a changed option without a word. seedkit
            resumes with the settings the config and the command line give, whichever form the path
            takes (weights, optimiser, EMA and step come from the checkpoint as always; weights that do
            not fit the configured model fail loudly), and says which settings differ from the file's.
            `validate` and `test` score the model the file holds: its saved settings (its tokenizers,
            its widths) replace the config file's, and only options set on the command line win."""
            sub = self.config.get("subcommand")
            cfg = self.config.get(sub) if sub else None
            model = cfg.get("model") if cfg is not None else None
            saved = getattr(self, "_ckpt_hparams", None)  # read once, by check_checkpoint
            if not saved or getattr(model, "init_args", None) is None:
                return
            path = cfg.get("ckpt_path")
            if sub in ("validate", "test"):
                self._model_from_checkpoint(model.init_args, saved, path, sub)
                return
            given = model.init_args.as_dict() if hasattr(model.init_args, "as_dict") else dict(model.init_args)
            differ = sorted(k for k, v in saved.items() if not k.startswith("_") and k in given and given[k] != v)
            kept = [k for k in differ if k in OPTIMIZER_STATE_KEYS]  # restored with the optimiser's state
            differ = [k for k in differ if k not in kept]
            if differ:
                print(f"note: {path} was trained with " + ", ".join(f"{k}={saved[k]!r}" for k in differ)
                      + "; this run goes on with " + ", ".join(f"{k}={given[k]!r}" for k in differ)
                      + " (from the config and the command line)")
            if kept:
                print(f"note: {', '.join(kept)} of {path} come back with its optimiser state: "
                      + ", ".join(f"{k}={saved[k]!r}" for k in kept) + " stay(s), whatever the config says")

        def _model_from_checkpoint(self, init_args, saved: dict, path: str, sub: str) -> None:
            """The checkpoint's saved model settings into `init_args`, but for those the command line
            sets; says which replaced the config file's."""
            from .lit import tokenizer_path

            given = command_line_model_keys(getattr(self, "_argv", []))
            if given is None:  # the whole model given on the command line
                return
            saved = {k: tokenizer_path(v, path) if k in ("video_tokenizer", "audio_tokenizer") and isinstance(v, str)
                     else v for k, v in saved.items()}  # relative to the folder the model was trained in
            taken = []
            for key, value in saved.items():
                if key.startswith("_") or key not in init_args or key in given or init_args[key] == value:
                    continue
                init_args[key] = value
                taken.append(key)
            if taken:
                print(f"note: seedkit {sub} scores the model {path} holds, with its "
                      + ", ".join(f"{k}={saved[k]!r}" for k in taken) + " (not the config file's)")

        def instantiate_classes(self) -> None:
            try:
                super().instantiate_classes()
            except TypeError as e:  # a signature mismatch, e.g. an unknown key in a dict override
                if not re.search(r"unexpected keyword|missing \d+ required|multiple values", str(e)):
                    raise
                raise ConfigError(f"cannot build the model or data from the config: {e}") from None
            except (ValueError, FileNotFoundError) as e:  # the classes validate their own arguments
                raise ConfigError(config_error_message(str(e), problem="cannot build")) from None

        def before_test(self) -> None:
            from lightning.pytorch.utilities.model_helpers import is_overridden

            if not is_overridden("test_step", self.model):  # the critics: fit and validate only
                raise ConfigError(f"seedkit test: {type(self.model).__name__} has no test split to score; "
                                  "`seedkit validate` scores its validation split")

        def instantiate_trainer(self, **kwargs):
            config = self._get(self.config_init, "trainer", default={})
            plugins = config.get("plugins") or []
            plugins = list(plugins) if isinstance(plugins, list) else [plugins]
            if not any(isinstance(p, CheckpointIO) for p in plugins):
                plugins.append(AtomicCheckpointIO())
            callbacks = config.get("callbacks") or []
            callbacks = list(callbacks) if isinstance(callbacks, list) else [callbacks]
            for cls in (FiniteLossGuard, ResumableRandomState, FinalCheckpoint):
                if not any(isinstance(c, cls) for c in callbacks):
                    callbacks.append(cls())
            return super().instantiate_trainer(**{"plugins": plugins, "callbacks": callbacks, **kwargs})

    return SeedkitCLI


def run(argv: list[str]) -> int:
    import warnings

    import lightning as L

    configure_wandb_mode()
    # `seedkit fit ...` hands its own argv on as `args`: Lightning's "both args and sys.argv" is moot.
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    _make_cli_class()(
        L.LightningModule, L.LightningDataModule,
        subclass_mode_model=True, subclass_mode_data=True,
        args=argv, save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "seedkit", "exit_on_error": False},
    )
    return 0
