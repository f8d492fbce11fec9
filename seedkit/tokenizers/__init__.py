"""Tokenizers: clips -> latent token streams, and back.

    VideoAutoencoder   video [B, T, 3, H, W] -> latents [B, T/4, C, H/s, W/s]   (s = 4 or 8)
    AudioAutoencoder   audio [B, 1, N] -> log-mel -> latents [B, A', C]          (25 per s)
    TokenizerModule    trains either one (`seedkit fit --config .../tokenizer_*.yaml`), in `.lit`
"""
from .audio import AudioAutoencoder, AudioAutoencoderConfig
from .checkpoint import CheckpointError
from .mel import LogMel, MelConfig, log_mel
from .metrics import StreamRate, mel_l1, psnr, spectral_convergence, ssim, tokens_table
from .video import VideoAutoencoder, VideoAutoencoderConfig

__all__ = [
    "AudioAutoencoder", "AudioAutoencoderConfig", "CheckpointError", "LogMel", "MelConfig",
    "StreamRate", "VideoAutoencoder", "VideoAutoencoderConfig", "log_mel", "mel_l1", "psnr",
    "spectral_convergence", "ssim", "tokens_table",
]
