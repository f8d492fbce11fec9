import os

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("MPLBACKEND", "Agg")

# Lightning's loggers get a StreamHandler on the sys.stderr of the moment they are imported. Imported
# first inside a test that captures output (capsys), they would keep that test's stream, closed once it
# ends, and every later log line of the worker ("Seed set to 0") would print a "--- Logging error ---"
# traceback into another test's output. Imported here, they write to pytest's session-wide stream.
import lightning  # noqa: E402, F401


@pytest.fixture(autouse=True)
def grad_mode_is_left_on():
    """Fail the test that leaves autograd switched off: a pytest-xdist worker runs many tests in one
    process, and a later one that trains (or forks training ranks, tests/test_ddp.py) would fail
    far from the cause, only when the scheduler puts it behind this one."""
    import torch

    yield
    if not torch.is_grad_enabled():
        torch.set_grad_enabled(True)
        pytest.fail("the test left autograd switched off (torch.set_grad_enabled(False) outside a with-block)")


@pytest.fixture
def grid_source():
    """Path to the GRID corpus (SEEDKIT_GRID_SOURCE); tests that need it skip with a reason if unset."""
    from pathlib import Path

    src = os.environ.get("SEEDKIT_GRID_SOURCE")
    if not src or not Path(src).is_dir():
        pytest.skip("SEEDKIT_GRID_SOURCE is not set to the GRID corpus folder")
    return Path(src)


@pytest.fixture(scope="session")
def tiny_tokenizer_paths(tmp_path_factory):
    """Untrained small video and audio autoencoders (2 Griffin-Lim iterations) saved as plain
    checkpoints: (video.pt, audio.pt) as strings, built in a second, for JointAV tests."""
    import torch

    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("tiny_tokenizers")
    VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8)).save_checkpoint(d / "v.pt")
    AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16,
                                            griffin_lim_iters=2)).save_checkpoint(d / "a.pt")
    return str(d / "v.pt"), str(d / "a.pt")
