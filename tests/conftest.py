import os

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def grid_source():
    """Path to the GRID corpus (SEEDKIT_GRID_SOURCE); tests that need it skip with a reason if unset."""
    from pathlib import Path

    src = os.environ.get("SEEDKIT_GRID_SOURCE")
    if not src or not Path(src).is_dir():
        pytest.skip("SEEDKIT_GRID_SOURCE is not set to the GRID corpus folder")
    return Path(src)
