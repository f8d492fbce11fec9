"""Fixtures of the reliability tests: tiny tokenizer checkpoints and a tiny JointAV checkpoint."""
import pytest
from runs import fit_in_process, tiny_joint_args


@pytest.fixture(scope="session")
def tiny_tokenizers(tmp_path_factory):
    """Untrained, small video and audio autoencoders saved as plain checkpoints (seconds to build)."""
    import torch

    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    out = tmp_path_factory.mktemp("tokenizers")
    torch.manual_seed(0)
    VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8)).save_checkpoint(out / "video.pt")
    AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16)).save_checkpoint(out / "audio.pt")
    return out / "video.pt", out / "audio.pt"


@pytest.fixture(scope="session")
def tiny_joint_checkpoint(tiny_tokenizers, tmp_path_factory):
    """A JointAV Lightning checkpoint after 2 training steps of the tiny model (a few seconds)."""
    root = tmp_path_factory.mktemp("joint")
    fit_in_process(tiny_joint_args(tiny_tokenizers, root, max_steps=2, every=2))
    return root / "checkpoints" / "last.ckpt"
