"""`seedkit fit|validate|test --config FILE`: Lightning's own CLI over the kit's modules.

Configs name their classes (`model.class_path`, `data.class_path`), so one entry point trains the
tokenizers, the joint model and SyncNet-lite. W&B runs offline unless an account is configured.
"""
from __future__ import annotations

import os
from pathlib import Path


def configure_wandb_mode() -> str:
    """Offline unless WANDB_MODE is set or an API key / netrc login exists. Returns the mode."""
    if "WANDB_MODE" not in os.environ:
        netrc = Path.home() / ".netrc"
        logged_in = bool(os.environ.get("WANDB_API_KEY")) or (
            netrc.exists() and "api.wandb.ai" in netrc.read_text(errors="ignore"))
        os.environ["WANDB_MODE"] = "online" if logged_in else "offline"
    return os.environ["WANDB_MODE"]


def run(argv: list[str]) -> int:
    import lightning as L
    from lightning.pytorch.cli import LightningCLI

    configure_wandb_mode()
    LightningCLI(
        L.LightningModule, L.LightningDataModule,
        subclass_mode_model=True, subclass_mode_data=True,
        args=argv, save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "seedkit"},
    )
    return 0
