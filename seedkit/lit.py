"""`JointAV`: the LightningModule that trains the dual-tower model on frozen tokenizers.

    batch video [B, T, 3, H, W], audio [B, 1, N], text_ids [B, L], text_mask [B, L]
      -> frozen tokenizers -> latents video [B, T', C, H', W'], audio [B, A', C_a]
      -> rectified-flow loss (seedkit.flow) on the dual-tower DiT (seedkit.model)

EMA of the weights is kept in `self.ema` (a frozen copy, saved in every checkpoint) and used for
sampling. Validation generates a few clips from the val captions, logs them (mp4s with sound and a
contact sheet of frames over spectrograms: to W&B, or as files in a CSV logger's folder) and logs a
sync score of the generated clips: on bounce the ground-truth event score, raw and over the chance of
the same videos with each other's audio; on GRID the weight-free lip estimator.
"""
from __future__ import annotations

import copy
from pathlib import Path

import lightning as L
import torch

from .data.clip import BOUNCE_SPEC, GRID_SPEC, ClipSpec, video_to_frames
from .flow import FlowConfig, RectifiedFlow
from .model import DualTowerConfig, DualTowerDiT
from .optim import MuonAdamW, muon_split
from .sampling import SamplerConfig, sample
from .tokenizers.audio import AudioAutoencoder
from .tokenizers.checkpoint import CheckpointError
from .tokenizers.video import VideoAutoencoder
from .typed import ConfigError, check_at_least, check_positive

CLIP_PRESETS: dict[str, ClipSpec] = {"bounce": BOUNCE_SPEC, "grid": GRID_SPEC}


def ema_decay_at(step: int, decay: float) -> float:
    """EMA decay after `step` optimizer steps, warmed up: min(decay, (1 + step) / (10 + step)).

    Early on, a plain average would be dominated by the random initialisation.
    """
    return min(decay, (1 + step) / (10 + step))


def lr_factor(step: int, warmup_steps: int, decay_steps: int = 0, max_steps: int = -1) -> float:
    """Learning rate over the peak after `step` optimizer steps: warm-up, constant, cool-down.

    Linear warm-up over `warmup_steps`; then constant; with `decay_steps` > 0, a linear decay to 0
    over the last `decay_steps` of `max_steps` (warm-up / stable / decay): a constant-rate run can
    be resumed from any checkpoint with a larger `max_steps` and a cool-down at its end.
    """
    f = min(1.0, (step + 1) / max(1, warmup_steps))
    if decay_steps > 0:
        f = min(f, max(0.0, (max_steps - step) / decay_steps))
    return f


# The Lightning precisions JointAV runs in: fp32 weights, with or without autocast ("bf16-mixed" is
# the kit's bf16). Any other ("bf16-true", "16-true", "64-true") would cast the whole module, the
# frozen fp32 tokenizers (their encoders and latent statistics, `JointAV.encode`) and the EMA too.
PRECISIONS = ("32-true", "bf16-mixed", "16-mixed")
PRECISION_ALIASES = {"32": "32-true", "bf16": "bf16-mixed", "16": "16-mixed"}  # Lightning's short names


def check_precision(precision) -> str:
    """A Lightning precision (or its short name) -> the one JointAV runs at; ConfigError naming the
    option where JointAV cannot run at it."""
    name = PRECISION_ALIASES.get(str(precision), str(precision))
    if name not in PRECISIONS:
        raise ConfigError(f"--trainer.precision {precision}: JointAV trains in {', '.join(PRECISIONS)} "
                          "(fp32 weights; bf16-mixed is autocast: bf16 matrix products); a -true precision "
                          "other than 32 would cast its frozen fp32 tokenizers and its EMA too")
    return name


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, in place: one multi-tensor lerp over all
    parameters (a GPU step of a small model is bound by kernel launches: one per tensor would be
    hundreds)."""
    torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()], 1 - decay)


class JointAV(L.LightningModule):
    def __init__(
        self,
        video_tokenizer: str,  # path of a trained VideoAutoencoder checkpoint (.pt)
        audio_tokenizer: str,  # path of a trained AudioAutoencoder checkpoint (.pt)
        vocabulary: list[str],  # caption words (the datamodule's vocabulary, saved for sampling)
        clip: str = "bounce",  # clip preset: "bounce" (32x32, 16 fps, 2 s) or "grid" (64x64, 25 fps)
        model: dict | None = None,  # overrides of DualTowerConfig fields (widths, depths, bridge, ...)
        flow: dict | None = None,  # overrides of FlowConfig fields (timesteps, p_clean, dropout)
        sampler: dict | None = None,  # overrides of SamplerConfig fields for validation samples
        lr: float = 3e-4,  # peak learning rate (Muon's updates are scaled to AdamW's RMS: the same lr)
        weight_decay: float = 0.01,  # decoupled weight decay of the matrices
        optimizer: str = "adamw",  # "adamw", or "muon": orthogonalised updates for the towers' and
                                   # bridges' hidden matrices, AdamW for the rest (seedkit/optim.py)
        warmup_steps: int = 200,  # linear learning-rate warm-up
        decay_steps: int = 0,  # linear decay to 0 over the last decay_steps of max_steps (0: none)
        ema_decay: float = 0.999,  # EMA of the weights used for sampling
        val_samples: int = 4,  # clips generated at each validation
        compile: bool = False,  # torch.compile the model: fused kernels, the first steps pay the build
        video_whitening: float = 0.0,  # alpha > 0: flow on spectrally whitened video latents
                                       # (seedkit.model.whitening; 1: every strong direction at the
                                       # noise's variance); 0: the tokenizer's latents as they are
        whitening_rank: int = 1024,  # principal directions the whitening rescales
        whitening_fit_clips: int = 4096,  # training clips the whitening is fitted on (once, at fit start)
    ):
        super().__init__()
        self.save_hyperparameters()
        if clip not in CLIP_PRESETS:
            raise ValueError(f"clip must be one of {sorted(CLIP_PRESETS)}, got {clip!r}")
        if optimizer not in ("adamw", "muon"):
            raise ValueError(f"JointAV(optimizer={optimizer!r}): expected 'adamw' or 'muon'")
        check_positive("JointAV", lr=lr)
        check_at_least("JointAV", 0, weight_decay=weight_decay, warmup_steps=warmup_steps, decay_steps=decay_steps,
                       val_samples=val_samples, video_whitening=video_whitening)
        check_at_least("JointAV", 1, whitening_rank=whitening_rank, whitening_fit_clips=whitening_fit_clips)
        if not 0.0 <= ema_decay < 1.0:  # 1 would never move; above 1 the EMA runs away from the weights
            raise ValueError(f"JointAV(ema_decay={ema_decay}): expected 0 <= ema_decay < 1")
        self.spec = CLIP_PRESETS[clip]
        self.video_tok = VideoAutoencoder.from_checkpoint(video_tokenizer).eval().requires_grad_(False)
        self.audio_tok = AudioAutoencoder.from_checkpoint(audio_tokenizer).eval().requires_grad_(False)
        from .data.text import WordVocab

        self.vocab = WordVocab(vocabulary)
        t_v, c_v, h_v, w_v = self.video_tok.latent_shape(self.spec)
        a_len = self.audio_tok.latent_length(self.spec)
        preset = DualTowerConfig.bounce if clip == "bounce" else DualTowerConfig.grid
        base = preset(video_channels=c_v, audio_channels=self.audio_tok.latent_channels)
        fields = {**vars(base), "video_frames": t_v, "video_height": h_v, "video_width": w_v,
                  "audio_length": a_len, "vocab_size": len(self.vocab),
                  # the bridge's shared clock comes from the tokenizers (a time/1 or pixel tokenizer
                  # has 16 latent frames per second on bounce, not the preset's 4)
                  "video_latent_fps": self.spec.fps / self.video_tok.time_down,
                  "audio_latent_rate": self.audio_tok.latents_per_s, **(model or {})}
        if fields.get("motion_head"):
            from .data.motion import motion_channels

            want = motion_channels(self.spec.num_frames, t_v)
            if fields["motion_head"] != want:
                raise ValueError(f"model.motion_head={fields['motion_head']}: this clip's motion targets have "
                                 f"{want} numbers per video token (3 per frame of a latent frame); use {want}")
        self.model_config = DualTowerConfig(**fields)
        self.model = DualTowerDiT(self.model_config)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.video_whitening = None
        if video_whitening:
            from .model.whitening import SpectralWhitening

            shape = (t_v, c_v, h_v, w_v)
            self.video_whitening = SpectralWhitening(shape, min(whitening_rank, t_v * c_v * h_v * w_v),
                                                     video_whitening)
        if compile:
            self.model.compile()  # in place: state_dict keys (and checkpoints) stay as they are
        self.flow = RectifiedFlow(FlowConfig(**(flow or {})))
        self.sampler_config = SamplerConfig(**(sampler or {}))
        self.data_settings: dict = {}  # the datamodule settings it was trained with (`load_joint` fills it)

    # -- tokenizers ---------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, video: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """video [B, T, 3, H, W], audio [B, 1, N] -> latents [B, T', C, H', W'], [B, A', C_a].

        The tokenizers run in fp32 even under bf16 autocast: their latent statistics are fp32.
        """
        with torch.autocast(self.device.type, enabled=False):
            return self.video_tok.encode(video.float()), self.audio_tok.encode(audio.float())

    def batch_latents(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """The latents the flow trains on: stored ones (`AVDataModule(cache_latents=True)`) or
        encoded now, the video's whitened where `video_whitening` is set."""
        if "video_latent" in batch and "audio_latent" in batch:
            zv, za = batch["video_latent"].float(), batch["audio_latent"].float()
        else:
            zv, za = self.encode(batch["video"], batch["audio"])
        return self.whiten(zv), za

    def whiten(self, video_latents: torch.Tensor | None) -> torch.Tensor | None:
        """Tokenizer video latents [B, T', C, H', W'] -> the flow's (the same unless `video_whitening`)."""
        if self.video_whitening is None or video_latents is None:
            return video_latents
        return self.video_whitening(video_latents)

    def unwhiten(self, video_latents: torch.Tensor) -> torch.Tensor:
        """The flow's video latents [B, T', C, H', W'] -> the tokenizer's (inverse of `whiten`)."""
        if self.video_whitening is None:
            return video_latents
        return self.video_whitening.inverse(video_latents)

    @torch.no_grad()
    def decode(self, video_latents: torch.Tensor, audio_latents: torch.Tensor):
        """latents -> video [B, T, 3, H, W] in [-1, 1], audio [B, 1, N] (Griffin-Lim)."""
        with torch.autocast(self.device.type, enabled=False):
            video = self.video_tok.decode(video_latents.float()).clamp(-1, 1)
            audio = self.audio_tok.mel_to_waveform(self.audio_tok.decode(audio_latents.float()))
        n = self.spec.num_samples
        audio = torch.nn.functional.pad(audio, (0, max(0, n - audio.shape[-1])))[..., :n]
        return video, audio

    def train(self, mode: bool = True):
        super().train(mode)
        self.video_tok.eval()  # frozen: never in training mode
        self.audio_tok.eval()
        return self

    def setup(self, stage: str) -> None:
        check_precision(self.trainer.precision)  # before Lightning casts the module

    # -- training -----------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        """Fit what is fitted on the first training clips, once: the video whitening
        (`video_whitening`) and the Gaussian skip (`DualTowerConfig.gaussian_skip`, on the whitened
        latents the flow sees). A resumed run has both from its checkpoint (Lightning restores the
        weights before this hook)."""
        rho = self.flow.config.video_noise_corr
        white = self.video_whitening is not None and not bool(self.video_whitening.fitted)
        skip = self.model.video_gaussian is not None and not bool(self.model.video_gaussian.fitted)
        if not (white or skip):
            return
        # the training clips both fits read, fetched (or encoded) once
        n = max(self.hparams.whitening_fit_clips if white else 0, self.model_config.gaussian_fit_clips if skip else 0)
        zv_all, za_all = self.fit_latents(n, "video_whitening" if white else "model.gaussian_skip")
        if white:
            zv = zv_all[:self.hparams.whitening_fit_clips]
            self.video_whitening.fit(zv, rho)
            print(f"video whitening: alpha {self.hparams.video_whitening}, rank {len(self.video_whitening.gain)}, "
                  f"fitted on {len(zv)} training clips; top variance {float(self.video_whitening.eig[0]):.1f} "
                  f"-> {float(self.video_whitening.eig[0] * self.video_whitening.gain[0] ** 2):.1f}")
        if not skip:
            return
        k = self.model_config.gaussian_fit_clips
        zv, za = self.whiten(zv_all[:k]), za_all[:k]
        for m in (self.model, self.ema):
            m.video_gaussian.fit(zv, rho)
            m.audio_gaussian.fit(za)
        print(f"gaussian skip: fitted rank {self.model.video_gaussian.basis.shape[1]} on {len(zv)} training clips")

    def fit_latents(self, n: int, option: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenizer latents video [n, T', C, H', W'], audio [n, A', C_a] of the training split's
        first n clips (stored latents where the datamodule caches them, else encoded here), for
        fitting what `option` names."""
        from .data.latents import LatentClips, encode_split

        dm = self.trainer.datamodule
        if dm is None or not hasattr(dm, "dataset"):
            raise ValueError(f"{option} is fitted on the training split of seedkit's AVDataModule: "
                             "train with --data (seedkit fit), not with bare dataloaders")
        dataset = dm.dataset("train")
        n = min(n, len(dataset))
        if n < 2:
            raise ValueError(f"{option} needs at least 2 training clips to fit, the split has {len(dataset)}")
        if isinstance(dataset, LatentClips):
            return dataset.video[:n].float(), dataset.audio[:n].float()
        clips = encode_split(torch.utils.data.Subset(dataset, range(n)), self.video_tok, self.audio_tok,
                             device=self.device, desc=f"{option}: encoding")
        return clips.video, clips.audio

    def motion_target(self, batch: dict) -> torch.Tensor | None:
        """The motion head's targets [B, N_video_tokens, motion_head] from the batch's `tracks`
        (`AVDataModule(motion=True)`); None for a model without a motion head."""
        c = self.model_config
        if not c.motion_head:
            return None
        if "tracks" not in batch:
            raise ValueError("the model has a motion head (model.motion_head) but the batch has no object "
                             "tracks: train it on bounce with --data.motion true")
        from .data.motion import motion_targets

        grid = (c.video_height // c.video_patch, c.video_width // c.video_patch)
        return motion_targets(batch["tracks"].float(), c.video_frames, grid, self.spec.fps)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        zv, za = self.batch_latents(batch)
        out = self.flow.loss(self.model, zv, za, batch["text_ids"], batch["text_mask"],
                             motion_target=self.motion_target(batch))
        if not torch.isfinite(out.total):
            ckpt = getattr(self.trainer.checkpoint_callback, "last_model_path", "") or "none yet"
            raise FloatingPointError(
                f"loss is {out.total.item()} at step {self.global_step}; last good checkpoint: {ckpt}")
        logs = {"train/loss": out.total, "train/loss_video": out.video, "train/loss_audio": out.audio}
        if out.motion is not None:
            logs["train/loss_motion"] = out.motion
        self.log_dict(logs, prog_bar=True, batch_size=zv.shape[0])
        return out.total

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        # The EMA follows each optimiser step at once (not in on_train_batch_end, which runs after the
        # checkpoint callbacks): a checkpoint then holds the EMA of exactly its weights, resumes are exact.
        step = self.global_step + 1  # Lightning counts this step once optimizer_step returns
        ema_update(self.ema, self.model, ema_decay_at(step, self.hparams.ema_decay))

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # A resumed run restores the optimiser's state, which only fits the optimiser that wrote it.
        saved = (checkpoint.get("hyper_parameters") or {}).get("optimizer", "adamw")
        if checkpoint.get("optimizer_states") and saved != self.hparams.optimizer:
            raise ValueError(f"the checkpoint was trained with optimizer={saved!r} and its optimiser state "
                             f"only resumes with it: add --model.optimizer {saved} (this run has "
                             f"{self.hparams.optimizer!r})")

    def configure_optimizers(self):
        if self.hparams.optimizer == "muon":
            opt = MuonAdamW(muon_split(self.model), lr=self.hparams.lr,
                            weight_decay=self.hparams.weight_decay, betas=(0.9, 0.99))
        else:
            decay, no_decay = [], []
            for n, p in self.model.named_parameters():
                (decay if p.ndim >= 2 else no_decay).append(p)
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": self.hparams.weight_decay},
                                     {"params": no_decay, "weight_decay": 0.0}], lr=self.hparams.lr,
                                    betas=(0.9, 0.99))
        warm, decay = self.hparams.warmup_steps, self.hparams.decay_steps
        max_steps = self.trainer.max_steps if self._trainer is not None else -1
        if decay > 0 and max_steps <= 0:
            raise ValueError(f"JointAV(decay_steps={decay}) decays towards trainer.max_steps; "
                             f"set --trainer.max_steps (got {max_steps})")
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: lr_factor(s, warm, decay, max_steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- validation and test -------------------------------------------------------------------
    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._held_out_step(batch, batch_idx, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        """`seedkit test --ckpt_path C`: the validation's loss, samples and sync metrics on the test
        split (clips neither the tokenizers nor the joint model trained or validated on), as test/*."""
        self._held_out_step(batch, batch_idx, "test")

    def _held_out_step(self, batch: dict, batch_idx: int, stage: str) -> None:
        zv, za = self.batch_latents(batch)
        g = torch.Generator(device="cpu").manual_seed(1234 + batch_idx)  # same noise every epoch
        out = self.flow.loss(self.ema, zv, za, batch["text_ids"], batch["text_mask"], generator=g,
                             motion_target=self.motion_target(batch))
        flow_loss = out.total  # {stage}/loss: the flow loss alone, comparable with and without a motion head
        if out.motion is not None:
            flow_loss = flow_loss - self.flow.config.motion_weight * out.motion
            self.log(f"{stage}/loss_motion", out.motion, batch_size=zv.shape[0])
        self.log(f"{stage}/loss", flow_loss, prog_bar=True, batch_size=zv.shape[0])
        if batch_idx == 0 and self.hparams.val_samples > 0:
            self._log_samples(batch, stage)

    @torch.no_grad()
    def generate(self, mode: str = "joint", text_ids=None, text_mask=None, video=None, audio=None,
                 n: int | None = None, config: SamplerConfig | None = None, init_video=None, init_audio=None):
        """Generate clips with the EMA model. Returns (video [B, T, 3, H, W], audio [B, 1, N]).

        mode: joint (text -> both) | a2v (given audio [B, 1, N]) | v2a (given video) | unconditional.
        init_video [B, T, 3, H, W] / init_audio [B, 1, N]: the clips a partial run starts from
        (`config.start_t` < 1, SDEdit), one for each generated stream.
        """
        cfg = config or self.sampler_config
        given_v, given_a = self._latents(video, audio)
        init_v, init_a = self._latents(init_video, init_audio)
        given_v, init_v = self.whiten(given_v), self.whiten(init_v)
        clips = [x for x in (video, audio, init_video, init_audio) if x is not None]
        b = n or (text_ids.shape[0] if text_ids is not None else clips[0].shape[0])
        if text_ids is None:
            text_ids = torch.zeros(b, 1, dtype=torch.long, device=self.device)
            text_mask = torch.zeros(b, 1, dtype=torch.bool, device=self.device)
        c = self.model_config
        shapes = {"video": (b, c.video_frames, c.video_channels, c.video_height, c.video_width),
                  "audio": (b, c.audio_length, c.audio_channels)}
        res = sample(self.ema, mode, text_ids, text_mask, shapes, given_video=given_v,
                     given_audio=given_a, config=cfg, video_noise_corr=self.flow.config.video_noise_corr,
                     init_video=init_v, init_audio=init_a)
        return self.decode(self.unwhiten(res.video), res.audio)

    @torch.no_grad()
    def _latents(self, video, audio) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The latents of whichever of video [B, T, 3, H, W] / audio [B, 1, N] is given (None: none),
        in fp32 as `encode` makes them."""
        with torch.autocast(self.device.type, enabled=False):
            return (None if video is None else self.video_tok.encode(video.float()),
                    None if audio is None else self.audio_tok.encode(audio.float()))

    def _log_samples(self, batch: dict, stage: str = "val") -> None:
        k = min(self.hparams.val_samples, batch["text_ids"].shape[0])
        video, audio = self.generate("joint", batch["text_ids"][:k], batch["text_mask"][:k])
        frames = [video_to_frames(v).numpy() for v in video]
        waves = [a.cpu().numpy() for a in audio]
        events: list[list] = [[] for _ in frames]  # what the contact sheet dashes under each spectrogram
        if self.hparams.clip == "bounce":
            impacts = self._log_event_sync(frames, waves, k, stage)
            events = [[(t, "") for t in clip_impacts] for clip_impacts in impacts]
        else:
            self._log_lip_sync(frames, waves, k, stage)
        self._log_media(frames, audio, batch["caption"][:k], events, stage)

    def _log_event_sync(self, frames: list, waves: list, k: int, stage: str = "val") -> list[list[float]]:
        """bounce: audio onsets against the visual impacts of each generated clip (ground-truth world);
        with two clips or more also over chance: minus the F1 of each video with the next clip's audio
        (jittery videos and busy soundtracks match by chance far more often than real clips do)."""
        from .metrics.events import detect_video_impacts, event_sync_score, f1_with_next_clips_audio

        fps, sr = self.spec.fps, self.spec.sample_rate
        impacts = [detect_video_impacts(f, fps) for f in frames]
        scores = [event_sync_score(f, a, fps, sr, impacts_s=t) for f, a, t in zip(frames, waves, impacts)]
        f1 = sum(s.f1 for s in scores) / len(scores)
        matched = sum(s.n_matched for s in scores)
        self.log(f"{stage}/sample_event_f1", f1, batch_size=k)
        if len(frames) > 1:
            chance = f1_with_next_clips_audio(frames, waves, fps, sr, impacts)
            self.log(f"{stage}/sample_event_f1_over_chance", f1 - sum(chance) / len(chance), batch_size=k)
        if matched:  # offsets are averaged over matched events
            off = sum(s.mean_abs_offset_s * s.n_matched for s in scores) / matched
            self.log(f"{stage}/sample_event_offset_ms", 1000 * off, batch_size=k)
        return impacts

    def _log_lip_sync(self, frames: list, waves: list, k: int, stage: str = "val") -> None:
        """Talking faces (grid): the weight-free lip estimator (`metrics/mouth.py`): |offset| of lip
        motion against speech energy and its sync@0 (`seedkit evaluate` on 32 GRID s1 clips: real
        77 ms and 0.18, shuffled pairs 175 ms and 0.09)."""
        from .metrics.mouth import estimate_mouth_offset

        est = [estimate_mouth_offset(f, a, self.spec.fps, self.spec.sample_rate) for f, a in zip(frames, waves)]
        self.log(f"{stage}/sample_lip_abs_offset_ms", sum(abs(e.offset_ms) for e in est) / len(est), batch_size=k)
        self.log(f"{stage}/sample_lip_sync_at_zero", sum(e.sync_at_zero for e in est) / len(est), batch_size=k)

    def _log_media(self, frames: list, audio, captions: list, events: list, stage: str = "val") -> None:
        """The generated clips, for every logger: a contact sheet (frames over spectrograms, the impacts
        seen in each video dashed on bounce) and the clips as mp4s with sound. W&B gets them as
        {stage}/samples (videos) and {stage}/samples_sheet (image); a logger with a folder (CSV,
        TensorBoard) as files in <log_dir>/samples/{stage}_step<N>/."""
        if not self.loggers or not self.trainer.is_global_zero:
            return
        import matplotlib.pyplot as plt
        from lightning.pytorch.loggers import WandbLogger

        from . import media
        from .viz import contact_sheet

        fps, sr, step = self.spec.fps, self.spec.sample_rate, self.global_step
        clips = [{"frames": f, "waveform": a.cpu().numpy(), "caption": c, "events": e}
                 for f, a, c, e in zip(frames, audio, captions, events)]
        fig = contact_sheet(clips, fps, sr, title=f"{stage} samples at step {step}"
                            + (" (dashed: impacts seen in the video)" if self.hparams.clip == "bounce" else ""))
        try:
            for logger in self.loggers:
                if isinstance(logger, WandbLogger):
                    import tempfile

                    import wandb

                    with tempfile.TemporaryDirectory() as tmp:
                        vids = [wandb.Video(str(media.write(f"{tmp}/sample_{i}.mp4", c["frames"], c["waveform"], fps, sr)),
                                            caption=c["caption"], format="mp4") for i, c in enumerate(clips)]
                        logger.experiment.log({f"{stage}/samples": vids, f"{stage}/samples_sheet": wandb.Image(fig),
                                               "trainer/global_step": step})
                elif getattr(logger, "log_dir", None):
                    folder = Path(logger.log_dir) / "samples" / f"{stage}_step{step:06d}"
                    folder.mkdir(parents=True, exist_ok=True)
                    for i, c in enumerate(clips):
                        media.write(folder / f"sample_{i}.mp4", c["frames"], c["waveform"], fps, sr)
                    fig.savefig(folder / "contact_sheet.png", dpi=110)
        finally:
            plt.close(fig)


def export_ema(ckpt: str | Path, out: str | Path) -> None:
    """Write a JointAV checkpoint's EMA weights alone, with its hyperparameters, data settings and
    step: the sampling file `load_joint` reads (a fifth of a checkpoint's size; no resuming from it).
    A model with `video_whitening` keeps its fitted whitening too (`video_whitening_state_dict`)."""
    c = torch.load(ckpt, map_location="cpu", weights_only=True)
    ema = {k.removeprefix("ema."): v for k, v in c["state_dict"].items() if k.startswith("ema.")}
    keep = {k: c[k] for k in ("hyper_parameters", "datamodule_hyper_parameters", "global_step") if k in c}
    white = {k.removeprefix("video_whitening."): v for k, v in c["state_dict"].items()
             if k.startswith("video_whitening.")}
    if white:
        keep["video_whitening_state_dict"] = white
    torch.save({"ema_state_dict": ema, **keep}, out)


def tokenizer_path(named: str, ckpt: str | Path) -> str:
    """Where the tokenizer a JointAV checkpoint names is. `seedkit fit` saves the path it was given,
    relative to the folder it ran in; that folder usually holds the checkpoint too
    (`outputs/demo/joint/checkpoints/last.ckpt` names `outputs/demo/checkpoints/tokenizer_video_bounce.pt`).
    So: `named` where it is (absolute, or from the working folder), else the first folder above the
    checkpoint that holds it, else `named` unchanged (the caller says it is missing)."""
    p = Path(named)
    if p.is_absolute() or p.is_file():
        return named
    for folder in (*Path(ckpt).absolute().parents, *Path(ckpt).resolve().parents):  # as given, then through links
        if (folder / p).is_file():
            return str(folder / p)
    return named


def load_joint(path: str, map_location: str = "cpu", video_decoder: str | None = None) -> JointAV:
    """Load a JointAV Lightning checkpoint with `weights_only=True` (no pickled code runs).

    Also reads a sampling file: the EMA weights alone (`ema_state_dict`, with the checkpoint's
    `hyper_parameters`; `export_ema` writes them). Sampling uses only the EMA, so both the model
    and its EMA get those weights; the frozen tokenizers come from the paths in the
    hyperparameters, as for a checkpoint. `video_decoder`: a video tokenizer with the same encoder whose
    decoder was trained on (`TokenizerModule(decoder_of=...)`) decodes the samples instead.
    Raises FileNotFoundError for a missing path, ValueError for a checkpoint of another kind and
    CheckpointError (a ValueError) for a tokenizer it names that is not there.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist (expected a JointAV .ckpt file)")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our checkpoint"
        raise ValueError(f"{path}: not a loadable checkpoint ({e.__class__.__name__})") from e
    hp = ckpt.get("hyper_parameters", {}) if isinstance(ckpt, dict) else {}
    if "video_tokenizer" not in hp or not ("state_dict" in ckpt or "ema_state_dict" in ckpt):
        kind = ckpt.get("kind", "unknown") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{path}: is a {kind} checkpoint, expected a JointAV training checkpoint "
                         "(written by `seedkit fit --config seedkit/configs/joint_*.yaml`)")
    hp = {**hp, **{kind: tokenizer_path(hp[kind], path) for kind in ("video_tokenizer", "audio_tokenizer")}}
    for kind in ("video_tokenizer", "audio_tokenizer"):  # paths relative to where the model was trained
        if not Path(hp[kind]).is_file():
            where = "" if Path(hp[kind]).is_absolute() else f" (looked in {Path.cwd()} and the folders above {path})"
            raise CheckpointError(
                f"{path}: its {kind.replace('_', ' ')} {hp[kind]} is not there{where}: "
                "a checkpoint names its tokenizers as `seedkit fit` was given them, relative to the folder "
                "it ran in (the kit's folder); run from that folder (a notebook: seedkit.paths.enter_kit_folder())")
    import inspect

    accepted = inspect.signature(JointAV.__init__).parameters
    # LightningCLI adds _class_path. `compile` is a training option: sampling runs the model
    # uncompiled (a compiled one would rebuild its kernels for every new batch shape).
    model = JointAV(**{k: v for k, v in hp.items() if k in accepted and k != "compile"})
    if "state_dict" in ckpt:
        model.load_state_dict(ckpt["state_dict"])
    else:  # a sampling file: the EMA weights, for the trained model too
        model.ema.load_state_dict(ckpt["ema_state_dict"])
        model.model.load_state_dict(ckpt["ema_state_dict"])
        if model.video_whitening is not None:
            if "video_whitening_state_dict" not in ckpt:
                raise ValueError(f"{path}: the model flows on whitened video latents (video_whitening="
                                 f"{hp['video_whitening']}) but the file holds no fitted whitening; "
                                 "export it again with seedkit.lit.export_ema")
            model.video_whitening.load_state_dict(ckpt["video_whitening_state_dict"])
    # the datamodule's settings it was trained with (LightningCLI saves them): what world to test in;
    # without LightningCLI's bookkeeping (`_class_path`, `_instantiator`), so they build an AVDataModule
    model.data_settings = {k: v for k, v in (ckpt.get("datamodule_hyper_parameters") or {}).items()
                           if not k.startswith("_")}
    if video_decoder:
        from .tokenizers.video import with_decoder_of

        model.video_tok = with_decoder_of(model.video_tok, video_decoder, map_location)
    return model.eval()
