"""`TokenizerModule`: one LightningModule that trains the video or the audio tokenizer.

    seedkit fit --config seedkit/configs/tokenizer_video_bounce.yaml

Training minimises reconstruction error (video: MSE, optionally + L1, on pixels; audio: L1 on log-mel) plus an
optional KL term. Validation logs PSNR/SSIM (video) or mel L1 / spectral convergence (audio, also
after the full mel -> Griffin-Lim -> mel round trip) and, with a W&B logger, reconstructions as
images, audio and side-by-side mp4s. At the end of `fit` the latent shift/scale is measured on
training batches and a plain checkpoint is exported to `export_path`.

`decoder_of=K` trains on the decoder of the video tokenizer checkpoint K alone: its encoder and
latent normalisation stay frozen, so the latents mean what they meant and every joint model trained
on K decodes with the new checkpoint (as Stable Diffusion's fine-tuned VAE decoders did):

    seedkit fit --config seedkit/configs/tokenizer_video_bounce.yaml --model.kl_weight 0.01 \
        --model.decoder_of K --model.export_path K2
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from ..data.clip import ClipSpec, video_to_frames
from ..typed import check_at_least, check_export_path, check_positive
from .audio import AudioAutoencoder, AudioAutoencoderConfig
from .checkpoint import config_mismatch
from .metrics import mel_l1, psnr, spectral_convergence, ssim
from .video import VideoAutoencoder, VideoAutoencoderConfig


class TokenizerModule(L.LightningModule):
    def __init__(
        self,
        modality: Literal["video", "audio"] = "video",  # which tokenizer to train
        latent_channels: int = 8,  # C of the latents (video 4-8, audio 8-16)
        base_channels: int = 32,  # video: width of the per-frame stage (the latent-grid stage is 2x)
        space_down: int = 4,  # video: 4 (32 px bounce) or 8 (64 px GRID)
        time_down: int = 4,  # video: frames per latent frame (4, 2 or 1)
        patch_size: int = 4,  # video: pixels per side folded into one position of the per-frame stage
        frame_blocks: int = 1,  # video: residual 3x3 blocks per frame (encoder and decoder each)
        latent_blocks: int = 2,  # video: residual (2+1)D blocks on the latent grid (each side)
        hidden_channels: int = 128,  # audio: width of the 1D convs
        video_loss: Literal["mse", "l1+mse"] = "mse",  # video: pixel loss (MSE is what PSNR measures)
        kl_weight: float = 0.0,  # KL term weight; 0 = plain autoencoder
        identity: bool = False,  # ablation: pixels (video) or raw mel frames (audio) as tokens
        sample_rate: int = 16000,  # audio: Hz (must match the data)
        lr: float = 2e-3,  # AdamW learning rate (cosine decay to 10% over max_steps)
        weight_decay: float = 0.0,  # AdamW weight decay
        export_path: str | None = "checkpoints/tokenizer_video_bounce.pt",  # plain checkpoint written at the end of fit
        stats_batches: int = 8,  # training batches used to measure the latent shift/scale
        media_clips: int = 2,  # clips logged as media per validation (W&B, or files in a CSV logger's folder)
        griffin_lim_clips: int = 4,  # clips put through the Griffin-Lim round trip per validation
        decoder_of: str | None = None,  # video: a tokenizer checkpoint whose decoder alone is trained on
        # an exported tokenizer checkpoint (export_path of a finished fit) to start from: `seedkit
        # test/validate` scores it on the test/val split, `seedkit fit` trains it on
        init_from: str | None = None,
    ):
        super().__init__()
        self.save_hyperparameters()
        check_positive("TokenizerModule", lr=lr)
        check_export_path("TokenizerModule", export_path)
        check_at_least("TokenizerModule", 0, weight_decay=weight_decay, kl_weight=kl_weight, media_clips=media_clips,
                       griffin_lim_clips=griffin_lim_clips)
        check_at_least("TokenizerModule", 1, stats_batches=stats_batches)
        if modality == "video":
            self.tokenizer = VideoAutoencoder(VideoAutoencoderConfig(
                latent_channels=latent_channels, base_channels=base_channels, space_down=space_down, time_down=time_down,
                patch_size=patch_size, frame_blocks=frame_blocks, latent_blocks=latent_blocks,
                kl_weight=kl_weight, pixels=identity))
        elif modality == "audio":
            self.tokenizer = AudioAutoencoder(AudioAutoencoderConfig(
                sample_rate=sample_rate, latent_channels=latent_channels, hidden_channels=hidden_channels,
                identity=identity))
        else:
            raise ValueError(f"TokenizerModule.modality must be 'video' or 'audio', got {modality!r}")
        if init_from and decoder_of:
            raise ValueError("TokenizerModule: give init_from or decoder_of, not both (decoder_of starts from "
                             "its checkpoint too)")
        if init_from:
            self.tokenizer = self._load_same_architecture(init_from, "init_from").train()
        if decoder_of:
            self._load_frozen_encoder(decoder_of)
        if video_loss not in ("mse", "l1+mse"):
            raise ValueError(f"TokenizerModule.video_loss must be 'mse' or 'l1+mse', got {video_loss!r}")
        self._described = False

    def _load_same_architecture(self, path: str, option: str):
        """The tokenizer of checkpoint `path`, refused (naming `option`) unless it was built with this
        module's architecture options."""
        cls = VideoAutoencoder if self.hparams.modality == "video" else AudioAutoencoder
        trained = cls.from_checkpoint(path)
        # Griffin-Lim's iterations are the decoder's own choice, not its architecture
        differ = config_mismatch(self.tokenizer.config, trained.config, ignore=("griffin_lim_iters",))
        if differ:
            raise ValueError(f"TokenizerModule.{option}={path}: the checkpoint was trained with other options "
                             f"{differ}; pass the checkpoint's own (e.g. --model.kl_weight)")
        return trained

    def _load_frozen_encoder(self, path: str) -> None:
        """Start from checkpoint `path` (same architecture options) and freeze all but the decoder."""
        if self.hparams.modality != "video" or self.hparams.identity:
            raise ValueError("TokenizerModule.decoder_of is for the (non-identity) video tokenizer, "
                             f"got modality={self.hparams.modality!r}, identity={self.hparams.identity}")
        self.tokenizer = self._load_same_architecture(path, "decoder_of").train()
        for name, p in self.tokenizer.named_parameters():
            p.requires_grad_(name.startswith("decoder."))

    def train(self, mode: bool = True):
        """As nn.Module.train, but a frozen encoder stays in eval mode."""
        super().train(mode)
        if self.hparams.get("decoder_of"):
            self.tokenizer.encoder.eval()
        return self

    # -- training ---------------------------------------------------------------------------------
    def _losses(self, batch: dict) -> tuple[dict, object]:
        if self.hparams.modality == "video":
            rec = self.tokenizer(batch["video"])
            err = rec.video - batch["video"]
            losses = {"l1": err.abs().mean(), "mse": err.pow(2).mean(), "kl": rec.kl}
            # MSE learns bounce objects faster: L1 spends a full-size gradient on every background
            # pixel however small its error (measured: +1.5 dB PSNR after 400 steps)
            pixel = losses["mse"] + (losses["l1"] if self.hparams.video_loss == "l1+mse" else 0)
            losses["loss"] = pixel + self.hparams.kl_weight * rec.kl
        else:
            rec = self.tokenizer(batch["audio"])
            losses = {"mel_l1": F.l1_loss(rec.mel, rec.target)}
            losses["loss"] = losses["mel_l1"]
        return losses, rec

    def setup(self, stage: str) -> None:
        """Print the tokens/s and compression table once the clip spec is known (fit, validate, test)."""
        spec = self._spec()
        if spec is not None and not self._described:
            self.tokenizer.describe(spec)
            self._described = True

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        losses, _ = self._losses(batch)
        self.log_dict({f"train/{k}": v for k, v in losses.items()}, prog_bar=True,
                      batch_size=batch["audio"].shape[0])
        return losses["loss"]

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return None  # identity tokenizers have nothing to train
        opt = torch.optim.AdamW(params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        total = self.trainer.max_steps if self.trainer and self.trainer.max_steps > 0 else 1000
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(s / total, 1.0))))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- validation and test ---------------------------------------------------------------------
    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._held_out_step(batch, batch_idx, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        """`seedkit test --ckpt_path C`: the validation's reconstruction metrics on the test split, as test/*."""
        self._held_out_step(batch, batch_idx, "test")

    @torch.no_grad()
    def _held_out_step(self, batch: dict, batch_idx: int, stage: str) -> None:
        losses, rec = self._losses(batch)
        b = batch["audio"].shape[0]
        metrics = {f"{stage}/{k}": v for k, v in losses.items()}
        if self.hparams.modality == "video":
            metrics[f"{stage}/psnr"] = psnr(rec.video.clamp(-1, 1), batch["video"]).mean()
            metrics[f"{stage}/ssim"] = ssim(rec.video.clamp(-1, 1), batch["video"]).mean()
        else:
            metrics[f"{stage}/spectral_convergence"] = spectral_convergence(rec.mel, rec.target).mean()
            if batch_idx == 0 and self.hparams.griffin_lim_clips > 0:
                metrics.update(self._griffin_lim_metrics(rec, stage))
        self.log_dict(metrics, prog_bar=True, batch_size=b)
        if batch_idx == 0:
            self._log_media(batch, rec, stage)

    def _griffin_lim_metrics(self, rec, stage: str = "val") -> dict:
        """What inverting the mel costs: mel -> waveform -> mel, for the input and the reconstruction."""
        n = self.hparams.griffin_lim_clips
        tok = self.tokenizer
        target = rec.target[:n]
        out = {}
        for name, mel in (("gl_input", target), ("gl_recon", rec.mel[:n])):
            again = tok.mel(tok.mel_to_waveform(mel))
            out[f"{stage}/{name}_mel_l1"] = mel_l1(again, target).mean()
            out[f"{stage}/{name}_spectral_convergence"] = spectral_convergence(again, target).mean()
        return out

    def _log_media(self, batch: dict, rec, stage: str = "val") -> None:
        """The first `media_clips` reconstructions, for every logger. Video: original | reconstruction
        side by side as an mp4 with the clip's sound and as a strip of every 4th frame; audio: the log-mel
        (top: reconstruction, bottom: original) and the decoded and original sounds. W&B gets them as
        {stage}/clip_i, frames_i, mel_i, audio_i, audio_orig_i; a logger with a folder (CSV) as files in
        <log_dir>/samples/{stage}_step<N>/."""
        if not self.loggers or self.hparams.media_clips <= 0 or not self.trainer.is_global_zero:
            return
        from lightning.pytorch.loggers import WandbLogger

        spec, sr = self._spec() or ClipSpec(), self.hparams.sample_rate
        n = min(self.hparams.media_clips, batch["audio"].shape[0])
        items = []  # (name, kind, value, caption): kind video (frames, sound), image (uint8 array), audio (waveform)
        for i in range(n):
            if self.hparams.modality == "video":
                orig = video_to_frames(batch["video"][i])
                recon = video_to_frames(rec.video[i].clamp(-1, 1))
                side = torch.cat([orig, recon], dim=2).numpy()  # [T, H, 2W, 3]: original | reconstruction
                items += [(f"clip_{i}", "video", (side, batch["audio"][i].float().cpu().numpy()), "original | reconstruction"),
                          (f"frames_{i}", "image", np.concatenate(list(side[::4]), axis=0), "original | reconstruction")]
            else:
                mel = torch.cat([rec.target[i], rec.mel[i]], dim=0).float().cpu().numpy()
                items += [(f"mel_{i}", "image", _to_image(mel[::-1]), "top: reconstruction, bottom: original"),
                          (f"audio_{i}", "audio", self.tokenizer.mel_to_waveform(rec.mel[i : i + 1])[0, 0].numpy(),
                           "decoded mel -> Griffin-Lim"),
                          (f"audio_orig_{i}", "audio", batch["audio"][i, 0].float().cpu().numpy(), "original")]
        for lg in self.loggers:
            if isinstance(lg, WandbLogger):
                lg.experiment.log({f"{stage}/{name}": _wandb_media(kind, value, caption, spec, sr)
                                   for name, kind, value, caption in items}, step=self.global_step)
            elif getattr(lg, "log_dir", None):
                _write_media(Path(lg.log_dir) / "samples" / f"{stage}_step{self.global_step:06d}", items, spec, sr)

    def _spec(self) -> ClipSpec | None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        return getattr(dm, "spec", None)

    # -- export -----------------------------------------------------------------------------------
    @torch.no_grad()
    def measure_latent_stats(self, batches) -> tuple[float, float]:
        """Mean and std of the raw latents over `batches`; stored in the tokenizer."""
        tok = self.tokenizer
        tok.set_latent_stats(0.0, 1.0)
        total, total_sq, count = 0.0, 0.0, 0
        for batch in batches:
            if self.hparams.modality == "video":
                z = tok.encode(batch["video"].to(self.device))
            else:
                z = tok.encode(batch["audio"].to(self.device))
            total += z.double().sum().item()
            total_sq += z.double().pow(2).sum().item()
            count += z.numel()
        mean = total / count
        std = max(total_sq / count - mean**2, 0.0) ** 0.5
        tok.set_latent_stats(mean, std)
        return mean, std

    def on_fit_end(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if dm is None:
            return
        was_training = self.training
        self.eval()
        if self.hparams.get("decoder_of"):  # the encoder did not change: keep the latents' meaning
            tok = self.tokenizer
            print(f"latent stats kept from {self.hparams.decoder_of}: shift={tok.latent_shift.item():.4f} "
                  f"scale={tok.latent_scale.item():.4f}")
        else:
            loader = dm.train_dataloader()
            batches = (b for _, b in zip(range(self.hparams.stats_batches), loader))
            mean, std = self.measure_latent_stats(batches)
            print(f"latent stats over {self.hparams.stats_batches} training batches: shift={mean:.4f} scale={std:.4f}")
        if self.hparams.export_path and self.trainer.is_global_zero:
            path = self.tokenizer.save_checkpoint(self.hparams.export_path)
            print(f"exported {self.hparams.modality} tokenizer -> {path}")
        self.train(was_training)


def _wandb_media(kind: str, value, caption: str, spec: ClipSpec, sample_rate: int):
    """One `_log_media` item as a W&B media object."""
    import wandb

    if kind == "video":
        from ..media import encode_mp4

        frames, sound = value
        return wandb.Video(_bytes_file(encode_mp4(frames, sound, spec.fps, spec.sample_rate)), caption=caption,
                           format="mp4")
    if kind == "image":
        return wandb.Image(value, caption=caption)
    return wandb.Audio(value, sample_rate=sample_rate, caption=caption)


def _write_media(folder: Path, items: list, spec: ClipSpec, sample_rate: int) -> None:
    """`_log_media` items as files: videos and sounds as mp4s (an audio-only mp4 for a sound), images as PNGs."""
    import matplotlib.image

    from .. import media

    folder.mkdir(parents=True, exist_ok=True)
    for name, kind, value, _caption in items:
        if kind == "video":
            media.write(folder / f"{name}.mp4", value[0], value[1], spec.fps, spec.sample_rate)
        elif kind == "image":
            matplotlib.image.imsave(folder / f"{name}.png", value, cmap="gray" if value.ndim == 2 else None)
        else:
            media.write(folder / f"{name}.mp4", None, value[None], None, sample_rate)


def _bytes_file(data: bytes):
    import io

    return io.BytesIO(data)


def _to_image(mel: np.ndarray) -> np.ndarray:
    """Log-mel [M, F] -> uint8 greyscale image scaled to its own range."""
    lo, hi = float(mel.min()), float(mel.max())
    return ((mel - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
