"""SyncNet-lite: a small audio-visual embedding that says whether lips and speech line up, and by
how much they are off. Trained in the kit on GRID s1 (`syncnet_lit.py`); no downloaded weights.

    video: mouth crop uint8 [T, H, W, 3] -> grey 32x32 -> minus the clip's mean frame
           -> Conv3d (5 frames) + 2-D convs -> v [T, D]          (one embedding per video frame)
    audio: waveform 16 kHz -> log-mel [40, 4T] (10 ms hop, 4 mel frames per 25 fps frame)
           -> minus the clip's mean per bin -> strided Conv1d -> a [T, D]
    both L2-normalised. Receptive fields: video ~7 frames (0.28 s), audio ~22 mel frames (0.22 s).

Scoring a clip (as SyncNet / LSE do, Chung & Zisserman 2016; Prajwal et al. 2020):

    d(k)   = mean over anchors t of ||v_t - a_{t+k}||,  k in [-K, K] video frames (K = 12)
             (anchors t in [K, T - K): the same frames for every k, so d(k) are comparable)
    LSE-D  = min_k d(k)                       (lower: a better match somewhere)
    LSE-C  = median_k d(k) - min_k d(k)       (higher: one offset stands out)
    offset = argmin_k d(k) (parabolic refinement) x 1000 / fps ms; positive: the audio is late
    sync@0 = median_k d(k) - d(0)             (the confidence *at the clip's own alignment*)

LSE-D/LSE-C take the best offset, so they barely change when the audio is shifted by 0.2 s
(the network finds the shift); `sync@0` and `|offset|` are what separate shifted pairs from real
ones. Our numbers are on this small network, never comparable with published LSE figures.

Measured with the shipped checkpoint (`benchmarks/metrics_sync_grid.py`, 72-frame windows): on the
58 s1 val clips sync@0 tells real pairs from audio shifted by +-0.2 s and from shuffled audio with
AUC 1.00 / 1.00 / 1.00, known shifts of -200..+200 ms are recovered with a mean absolute error of
12 ms and the exact frame in 78% of clips; on the 10 other-speaker clips AUC 0.98 / 0.99 / 0.93,
32 ms, 69%. LSE-C alone: AUC ~0.5 against shifted audio, 1.00 against shuffled.

Bad inputs: a constant video or silent audio gives zero inputs after the mean removal, hence
constant embeddings, d(k) all equal: offset 0, LSE-C 0, sync@0 0 (no evidence), never NaN.
A clip shorter than 2K + 1 frames raises ValueError.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SyncNetConfig", "SyncNetLite", "SyncScore", "prepare_video", "prepare_audio",
           "pair_similarity", "shift_distances", "score_embeddings", "save_syncnet", "load_syncnet",
           "default_syncnet_path"]

KIND = "syncnet_lite"  # the "kind" entry of a plain SyncNet-lite checkpoint


@dataclass
class SyncNetConfig:
    """Shapes of SyncNet-lite. The defaults are the shipped GRID checkpoint."""

    fps: float = 25.0  # video frame rate the network was trained at
    sample_rate: int = 16000  # audio rate (other rates are resampled)
    size: int = 32  # grey frames are resized to size x size
    n_mels: int = 40  # log-mel bins
    hop: int = 160  # mel hop in samples (10 ms at 16 kHz: 4 mel frames per 25 fps frame)
    n_fft: int = 512  # FFT size of the mel front end (400-sample window)
    width: int = 96  # channels of the inner layers
    dim: int = 128  # embedding size D
    max_shift: int = 12  # K: offsets searched (and contrasted in training) in video frames

    @property
    def mels_per_frame(self) -> int:
        return round(self.sample_rate / self.hop / self.fps)


def prepare_video(frames, size: int = 32) -> torch.Tensor:
    """uint8 frames [T, H, W, 3] (or a batch [B, T, H, W, 3]) -> grey float [.., T, size, size] in [0, 1]."""
    x = torch.as_tensor(np.asarray(frames))
    if x.ndim not in (4, 5) or x.shape[-1] != 3:
        raise ValueError(f"expected frames [T, H, W, 3] or [B, T, H, W, 3], got shape {tuple(x.shape)}")
    if x.shape[-4] == 0:
        raise ValueError("empty clip: no video frames")
    g = (x.float() * torch.tensor([0.299, 0.587, 0.114])).sum(-1) / 255.0
    lead = g.shape[:-2]
    g = F.interpolate(g.reshape(-1, 1, *g.shape[-2:]), size=(size, size), mode="area")
    return g.reshape(*lead, size, size)


_MEL_CACHE: dict = {}


def prepare_audio(waveform, sample_rate: int, num_frames: int, config: SyncNetConfig = SyncNetConfig()) -> torch.Tensor:
    """waveform [C, N] / [N] (or [B, 1, N]) -> log-mel [.., n_mels, 4 num_frames] aligned with the video.

    Mel frame j is centred at j * hop; video frame i covers mel frames 4i .. 4i + 3. Shorter audio
    is zero-padded (silence), longer audio cut, so audio and video always cover the same time.
    """
    import torchaudio

    w = torch.as_tensor(np.asarray(waveform, dtype=np.float32))
    if w.ndim == 3:
        w = w.mean(1)  # [B, N]
    elif w.ndim == 2:
        w = w.mean(0)  # [N]
    elif w.ndim != 1:
        raise ValueError(f"expected waveform [C, N], [N] or [B, 1, N], got shape {tuple(w.shape)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    w = torch.nan_to_num(w)
    if sample_rate != config.sample_rate:
        w = torchaudio.functional.resample(w, sample_rate, config.sample_rate)
    n_mel = num_frames * config.mels_per_frame
    need = n_mel * config.hop
    w = F.pad(w, (0, max(0, need - w.shape[-1])))[..., :need]
    key = (config.sample_rate, config.n_fft, config.hop, config.n_mels)
    if key not in _MEL_CACHE:
        _MEL_CACHE[key] = torchaudio.transforms.MelSpectrogram(
            sample_rate=config.sample_rate, n_fft=config.n_fft, win_length=400, hop_length=config.hop,
            n_mels=config.n_mels, power=2.0)
    mel = _MEL_CACHE[key](w)[..., :n_mel]
    return torch.log(mel + 1e-6)


class SyncNetLite(nn.Module):
    """Two towers, one embedding per video frame each: video [B, T, S, S], mel [B, M, 4T] -> [B, T, D]."""

    def __init__(self, config: SyncNetConfig | None = None):
        super().__init__()
        c = self.config = config or SyncNetConfig()
        w = c.width

        def block3(cin, cout, k, s, p):
            return [nn.Conv3d(cin, cout, k, s, p, bias=False), nn.BatchNorm3d(cout), nn.ReLU()]

        self.video = nn.Sequential(  # [B, 1, T, 32, 32] -> [B, D, T, 1, 1]
            *block3(1, w // 4, (5, 3, 3), (1, 2, 2), (2, 1, 1)),  # 5 frames at once: lip motion
            *block3(w // 4, w // 2, (1, 3, 3), (1, 2, 2), (0, 1, 1)),
            *block3(w // 2, w, (1, 3, 3), (1, 2, 2), (0, 1, 1)),
            *block3(w, 2 * w, (1, c.size // 8, c.size // 8), 1, 0),
        )
        self.video_head = nn.Sequential(nn.Conv1d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
                                        nn.Conv1d(2 * w, c.dim, 1))

        def block1(cin, cout, k, s, p):
            return [nn.Conv1d(cin, cout, k, s, p, bias=False), nn.BatchNorm1d(cout), nn.ReLU()]

        self.audio = nn.Sequential(  # [B, M, 4T] -> [B, D, T]
            *block1(c.n_mels, w, 5, 1, 2),
            *block1(w, 2 * w, 4, 2, 1),
            *block1(2 * w, 2 * w, 4, 2, 1),
            *block1(2 * w, 2 * w, 3, 1, 1),
            nn.Conv1d(2 * w, c.dim, 1),
        )
        self.log_scale = nn.Parameter(torch.tensor(np.log(10.0), dtype=torch.float32))  # InfoNCE logit scale

    @staticmethod
    def _centre_video(video: torch.Tensor) -> torch.Tensor:
        """Remove the clip's mean frame (identity, lighting) and scale by its spread; constant -> 0."""
        x = video - video.mean(1, keepdim=True)
        sd = x.flatten(1).std(1).clamp_min(1e-3)[:, None, None, None]
        return x / sd

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, T, S, S] grey in [0, 1] -> unit embeddings [B, T, D]."""
        x = self._centre_video(video)[:, None]
        h = self.video(x).flatten(2)  # [B, 2w, T]
        return F.normalize(self.video_head(h).transpose(1, 2), dim=-1)

    def embed_audio(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, M, 4T] -> unit embeddings [B, T, D] (mean per bin removed: loudness-free)."""
        x = mel - mel.mean(-1, keepdim=True)
        return F.normalize(self.audio(x).transpose(1, 2), dim=-1)

    def forward(self, video: torch.Tensor, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.embed_video(video), self.embed_audio(mel)

    @torch.no_grad()
    def score(self, frames, waveform, fps: float, sample_rate: int) -> SyncScore:
        """Score one clip: frames uint8 [T, H, W, 3] (mouth crop) and waveform [C, N] / [N]."""
        c = self.config
        if abs(fps - c.fps) > 0.01:
            raise ValueError(f"SyncNet-lite was trained at {c.fps:g} fps; got a {fps:g} fps clip")
        video = prepare_video(frames, c.size)
        T = video.shape[0]
        if T < 2 * c.max_shift + 1:
            raise ValueError(f"clip of {T} frames is too short: SyncNet-lite needs at least "
                             f"{2 * c.max_shift + 1} frames (offsets of +-{c.max_shift} frames)")
        mel = prepare_audio(waveform, sample_rate, T, c)
        dev = next(self.parameters()).device
        v, a = self(video[None].to(dev), mel[None].to(dev))
        return score_embeddings(v[0].cpu(), a[0].cpu(), c.max_shift, c.fps)


def pair_similarity(v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """How well a soundtrack fits a picture as they are, unshifted: the mean over frames of the cosine
    of the unit embeddings, v, a [..., T, D] -> [...] in [-1, 1] (higher: better). The critic's
    score for keeping the best of several generated clips (`seedkit.rerank`)."""
    return (v * a).sum(-1).mean(-1)


def shift_distances(v: torch.Tensor, a: torch.Tensor, max_shift: int) -> torch.Tensor:
    """d(k) = mean_t ||v_t - a_{t+k}|| for k = -K..K over anchors t in [K, T - K). v, a [T, D] -> [2K + 1]."""
    T = v.shape[0]
    K = max_shift
    if T < 2 * K + 1:
        raise ValueError(f"need at least {2 * K + 1} frames for offsets of +-{K}, got {T}")
    t = torch.arange(K, T - K)
    return torch.stack([(v[t] - a[t + k]).norm(dim=-1).mean() for k in range(-K, K + 1)])


@dataclass
class SyncScore:
    """SyncNet-lite verdict on one clip (see the module docstring)."""

    offset_ms: float  # best offset, parabolic refinement; positive: the audio is late
    offset_frames: int  # argmin_k d(k), whole video frames
    lse_d: float  # min_k d(k)
    lse_c: float  # median_k d(k) - min_k d(k)
    dist_at_zero: float  # d(0)
    sync_at_zero: float  # median_k d(k) - d(0): confidence at the clip's own alignment
    dists: np.ndarray  # d(k) for k = -K..K [2K + 1]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["dists"] = [round(float(x), 5) for x in self.dists]
        return d


def score_embeddings(v: torch.Tensor, a: torch.Tensor, max_shift: int, fps: float) -> SyncScore:
    """`SyncScore` from unit embeddings v, a [T, D] of one clip."""
    d = shift_distances(v.float(), a.float(), max_shift).numpy().astype(np.float64)
    K = max_shift
    med = float(np.median(d))
    k = int(np.argmin(d))
    if np.ptp(d) < 1e-6:  # flat: no evidence of any offset (constant video, silent audio)
        return SyncScore(0.0, 0, float(d[K]), 0.0, float(d[K]), 0.0, d)
    frac = 0.0
    if 0 < k < len(d) - 1:
        den = d[k - 1] - 2 * d[k] + d[k + 1]
        if den > 0:
            frac = float(np.clip(0.5 * (d[k - 1] - d[k + 1]) / den, -0.5, 0.5))
    return SyncScore(offset_ms=float((k - K + frac) * 1000.0 / fps), offset_frames=k - K,
                     lse_d=float(d[k]), lse_c=med - float(d[k]), dist_at_zero=float(d[K]),
                     sync_at_zero=med - float(d[K]), dists=d)


# ----------------------------------------------------------------------------------------------
# checkpoints: plain dicts, loadable with weights_only=True


def default_syncnet_path() -> Path:
    """Where `seedkit evaluate` looks: env SEEDKIT_SYNCNET, else checkpoints/syncnet_grid.pt (repo)."""
    env = os.environ.get("SEEDKIT_SYNCNET")
    if env:
        return Path(env)
    here = Path("checkpoints/syncnet_grid.pt")
    if here.exists():
        return here
    return Path(__file__).resolve().parents[2] / "checkpoints" / "syncnet_grid.pt"


def save_syncnet(model: SyncNetLite, path: str | os.PathLike, half: bool = True, meta: dict | None = None) -> Path:
    """Write {"kind", "config", "state_dict", "meta"}; weights in fp16 (half the size) by default."""
    from ..tokenizers.checkpoint import save_weights

    return save_weights(model, KIND, path, meta=meta, half=half)


def load_syncnet(path: str | os.PathLike, map_location: str = "cpu") -> SyncNetLite:
    """Load a SyncNet-lite checkpoint (eval mode). FileNotFoundError / ValueError name the file."""
    from ..tokenizers.checkpoint import load_weights

    return load_weights(path, KIND, "SyncNet-lite", "`seedkit fit --config seedkit/configs/syncnet_grid.yaml`",
                        lambda c: SyncNetLite(SyncNetConfig(**c)), map_location)
