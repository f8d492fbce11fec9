"""Log-mel front end (torchaudio): waveform -> log-mel frames, the audio tokenizer's input.

    waveform [B, 1, N] or [N] at `sample_rate`  ->  mel [B, M, F]  (M bins, F = N / hop + 1 frames)

Values are natural-log power, floored at `log_floor` so silence is finite.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torchaudio


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = 16000  # Hz
    n_fft: int = 512  # FFT window, 32 ms at 16 kHz (1024 smears impact onsets through Griffin-Lim)
    hop_length: int = 160  # 10 ms -> 100 mel frames per second
    n_mels: int = 64  # mel bins
    f_min: float = 0.0  # Hz
    f_max: float | None = None  # Hz; None = Nyquist
    log_floor: float = 1e-5  # power floor before the log (-11.5 nats)

    @property
    def frames_per_s(self) -> float:
        return self.sample_rate / self.hop_length


class LogMel(torch.nn.Module):
    """waveform [..., N] -> log-mel [..., M, F]; a channel axis of size 1 is dropped."""

    def __init__(self, config: MelConfig = MelConfig()):
        super().__init__()
        self.config = config
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length,
            n_mels=config.n_mels, f_min=config.f_min, f_max=config.f_max, power=2.0,
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.ndim == 3 and waveform.shape[1] == 1:
            waveform = waveform[:, 0]
        with torch.autocast(waveform.device.type, enabled=False):  # the FFT wants fp32
            return self.mel(waveform.float()).clamp_min(self.config.log_floor).log()


def log_mel(waveform, sample_rate: int = 16000, **kwargs) -> torch.Tensor:
    """Convenience: log-mel of a numpy/tensor waveform [C, N] or [N] (channels averaged) -> [M, F]."""
    w = torch.as_tensor(waveform, dtype=torch.float32)
    if w.ndim == 2:
        w = w.mean(0)
    return LogMel(MelConfig(sample_rate=sample_rate, **kwargs))(w)
