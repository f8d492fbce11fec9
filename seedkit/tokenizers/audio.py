"""Audio tokenizer: log-mel frames -> 1D-conv autoencoder -> 25 latents per second.

    audio [B, 1, N] at 16 kHz --LogMel--> mel [B, M, F]       (M = 64 bins, 100 frames/s)
    mel   --encode--> latents [B, F/4, C]                     (25 latents/s, normalised)
    latents --decode--> mel [B, M, F]  --mel_to_waveform--> audio [B, 1, F * hop]

The mel is normalised with fixed constants (`mel_shift`, `mel_scale`) before the network; the
latents with a shift/scale measured on the training set (stored in the checkpoint). Waveforms
come back from mel with torchaudio's InverseMelScale (least squares) + GriffinLim (phase).
The `identity` option uses the normalised mel frames themselves as tokens (C = M, 100 per s).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

from ..data.clip import ClipSpec
from .checkpoint import config_from_dict, load_plain_checkpoint, load_tokenizer_state, save_plain_checkpoint
from .mel import LogMel, MelConfig
from .metrics import StreamRate, tokens_table

KIND = "audio_autoencoder"


@dataclass
class AudioAutoencoderConfig:
    sample_rate: int = 16000  # Hz
    n_fft: int = 512  # FFT window of the mel front end (32 ms; 64 ms smears onsets after Griffin-Lim)
    hop_length: int = 160  # 10 ms -> 100 mel frames per second
    n_mels: int = 64  # mel bins M
    latent_channels: int = 16  # C: numbers per latent
    hidden_channels: int = 128  # width of the 1D convolutions
    time_down: int = 4  # mel frames per latent (100 / 4 = 25 latents per s)
    mel_shift: float = -8.0  # fixed mel normalisation: (log-mel - shift) / scale (bounce: mean -9, std 4.6)
    mel_scale: float = 5.0  # (see mel_shift)
    identity: bool = False  # tokens = normalised mel frames (C = n_mels, time /1), for ablations
    griffin_lim_iters: int = 32  # Griffin-Lim iterations in `mel_to_waveform`

    def __post_init__(self) -> None:
        if self.identity:
            self.latent_channels, self.time_down = self.n_mels, 1
        elif self.time_down != 4:
            raise ValueError(f"AudioAutoencoderConfig.time_down must be 4, got {self.time_down}")

    @property
    def mel(self) -> MelConfig:
        return MelConfig(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
                         n_mels=self.n_mels)


class ResBlock1d(nn.Module):
    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels)
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm2 = nn.GroupNorm(8, channels)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


def _encoder(c: AudioAutoencoderConfig) -> nn.Module:
    """normalised mel [B, M, F] -> latents [B, C, F/4]: two stride-2 convolutions."""
    h = c.hidden_channels
    return nn.Sequential(
        nn.Conv1d(c.n_mels, h, 3, padding=1), ResBlock1d(h),
        nn.Conv1d(h, h, 4, stride=2, padding=1), ResBlock1d(h),
        nn.Conv1d(h, h, 4, stride=2, padding=1), ResBlock1d(h), ResBlock1d(h, 2),
        nn.GroupNorm(8, h), nn.SiLU(), nn.Conv1d(h, c.latent_channels, 1),
    )


def _decoder(c: AudioAutoencoderConfig) -> nn.Module:
    """latents [B, C, F/4] -> normalised mel [B, M, F]: two nearest-upsample + conv stages."""
    h = c.hidden_channels
    return nn.Sequential(
        nn.Conv1d(c.latent_channels, h, 3, padding=1), ResBlock1d(h), ResBlock1d(h, 2),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(h, h, 3, padding=1), ResBlock1d(h),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(h, h, 3, padding=1), ResBlock1d(h),
        nn.GroupNorm(8, h), nn.SiLU(), nn.Conv1d(h, c.n_mels, 3, padding=1),
    )


@dataclass
class AudioReconstruction:
    mel: torch.Tensor  # [B, M, F] decoded log-mel (natural-log power)
    target: torch.Tensor  # [B, M, F] log-mel of the input, trimmed to a multiple of 4 frames
    latents: torch.Tensor  # [B, F/4, C] raw (unnormalised) latents


class AudioAutoencoder(nn.Module):
    """Audio tokenizer over log-mel frames. See the module docstring for layouts."""

    def __init__(self, config: AudioAutoencoderConfig | None = None, **overrides):
        super().__init__()
        config = config or AudioAutoencoderConfig(**overrides)
        self.config = config
        self.latent_channels = config.latent_channels
        self.time_down = config.time_down
        self.latents_per_s = config.mel.frames_per_s / config.time_down
        self.log_mel = LogMel(config.mel)
        if not config.identity:
            self.encoder = _encoder(config)
            self.decoder = _decoder(config)
        self.register_buffer("latent_shift", torch.zeros(()))
        self.register_buffer("latent_scale", torch.ones(()))
        # InverseMelScale + GriffinLim, built on first use. Kept in a plain dict, outside the module
        # tree: it always runs on the CPU and has nothing to save in a state_dict.
        self._inverse_cache: dict[str, nn.Module] = {}

    # -- shapes and rates ------------------------------------------------------------------------
    def num_frames(self, num_samples: int) -> int:
        """Mel frames kept for `num_samples` of audio: N / hop, rounded down to a multiple of 4."""
        f = num_samples // self.config.hop_length
        return f - f % self.time_down

    def latent_length(self, spec: ClipSpec) -> int:
        """A': latents for a clip described by `spec` (25 per second at hop 160, 16 kHz)."""
        if spec.sample_rate != self.config.sample_rate:
            raise ValueError(f"ClipSpec.sample_rate={spec.sample_rate} but the audio tokenizer "
                             f"expects {self.config.sample_rate} Hz")
        return self.num_frames(spec.num_samples) // self.time_down

    def stream_rate(self, spec: ClipSpec) -> StreamRate:
        name = "audio (mel frames)" if self.config.identity else "audio latents"
        return StreamRate(name, spec.sample_rate, self.latent_length(spec) / spec.duration_s,
                          self.latent_channels)

    def describe(self, spec: ClipSpec, print_it: bool = True) -> str:
        return tokens_table(self.stream_rate(spec), print_it=print_it)

    # -- mel front end ---------------------------------------------------------------------------
    def mel(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] -> log-mel [B, M, F], F = N / hop rounded down to a multiple of 4."""
        if audio.ndim != 3 or audio.shape[1] != 1:
            raise ValueError(f"expected audio [B, 1, N], got {tuple(audio.shape)}")
        return self.log_mel(audio)[..., : self.num_frames(audio.shape[-1])]

    def normalise_mel(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.config.mel_shift) / self.config.mel_scale

    def denormalise_mel(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.config.mel_scale + self.config.mel_shift

    # -- encode / decode ------------------------------------------------------------------------
    def encode_mel_raw(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, M, F] -> raw latents [B, C, F/4]."""
        x = self.normalise_mel(mel)
        return x if self.config.identity else self.encoder(x)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """raw latents [B, C, F/4] -> log-mel [B, M, F]."""
        return self.denormalise_mel(z if self.config.identity else self.decoder(z))

    def forward(self, audio: torch.Tensor) -> AudioReconstruction:
        target = self.mel(audio)
        z = self.encode_mel_raw(target)
        return AudioReconstruction(self.decode_raw(z), target, z.transpose(1, 2))

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] in [-1, 1] -> normalised latents [B, A', C]."""
        z = self.encode_mel_raw(self.mel(audio))
        return ((z - self.latent_shift) / self.latent_scale).transpose(1, 2)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """normalised latents [B, A', C] -> log-mel [B, M, A' * time_down]."""
        if latents.ndim != 3 or latents.shape[-1] != self.latent_channels:
            raise ValueError(f"expected latents [B, A', {self.latent_channels}], got {tuple(latents.shape)}")
        return self.decode_raw(latents.transpose(1, 2) * self.latent_scale + self.latent_shift)

    # -- waveform --------------------------------------------------------------------------------
    def mel_to_waveform(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, M, F] -> audio [B, 1, F * hop]: InverseMelScale (least squares) + GriffinLim.

        The phase is estimated, not stored, so expect a metallic tint; timing and timbre survive.
        Griffin-Lim starts from a random phase: it is drawn from a fixed seed (in a forked RNG, so
        the caller's random state is untouched), so the same mel gives the same waveform every time.
        """
        c = self.config
        if "inverse" not in self._inverse_cache:
            self._inverse_cache["inverse"] = nn.Sequential(
                torchaudio.transforms.InverseMelScale(n_stft=c.n_fft // 2 + 1, n_mels=c.n_mels,
                                                      sample_rate=c.sample_rate),
                torchaudio.transforms.GriffinLim(n_fft=c.n_fft, hop_length=c.hop_length, power=2.0,
                                                 n_iter=c.griffin_lim_iters),
            )
        with torch.no_grad(), torch.autocast(mel.device.type, enabled=False):
            power = mel.detach().float().cpu().exp()
            n = mel.shape[-1] * c.hop_length
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)  # GriffinLim's random initial phase (torch.rand, global RNG)
                wav = self._inverse_cache["inverse"](power)[..., :n]
            wav = F.pad(wav, (0, n - wav.shape[-1]))
        return wav.clamp(-1, 1).unsqueeze(1).to(mel.device)

    @torch.no_grad()
    def set_latent_stats(self, shift: float, scale: float) -> None:
        self.latent_shift.fill_(float(shift))
        self.latent_scale.fill_(max(float(scale), 1e-6))

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike):
        skip = ("latent_shift", "latent_scale")
        state = {k: v for k, v in self.state_dict().items() if k not in skip and not k.startswith("log_mel.")}
        return save_plain_checkpoint(path, KIND, self.config, state,
                                     self.latent_shift.item(), self.latent_scale.item())

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu"):
        payload = load_plain_checkpoint(path, KIND)
        model = cls(config_from_dict(AudioAutoencoderConfig, payload["config"]))
        load_tokenizer_state(model, payload["state_dict"], path, KIND,
                             optional=("log_mel.", "latent_shift", "latent_scale"))
        model.set_latent_stats(payload["latent_shift"], payload["latent_scale"])
        return model.to(map_location).eval()
