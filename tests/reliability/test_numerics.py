"""Numerics: a NaN/inf loss stops training with a message naming the step and the last good checkpoint;
the frozen tokenizers stay fp32 under mixed precision."""
import dataclasses
import math

import lightning as L
import pytest
import torch
from runs import tiny_joint_args

from seedkit.callbacks import AtomicCheckpointIO, FiniteLossGuard, NonFiniteLossError
from seedkit.cli import main


class Regression(L.LightningModule):
    """y = 2x by one linear layer; the loss is replaced by `bad` from step `bad_at` on."""

    def __init__(self, bad_at: int, bad: float):
        super().__init__()
        self.layer, self.bad_at, self.bad = torch.nn.Linear(4, 1), bad_at, bad

    def training_step(self, batch, batch_idx):
        x = batch[0]
        loss = (self.layer(x) - 2 * x.sum(1, keepdim=True)).pow(2).mean()
        return loss * self.bad if self.global_step >= self.bad_at else loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(64, 4))
        return torch.utils.data.DataLoader(data, batch_size=4)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_loss_stops_before_the_update_naming_step_and_checkpoint(tmp_path, bad):
    from lightning.pytorch.callbacks import ModelCheckpoint

    model = Regression(bad_at=5, bad=bad)
    ckpt = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=2, save_last=True)
    trainer = L.Trainer(max_steps=20, callbacks=[FiniteLossGuard(), ckpt], plugins=[AtomicCheckpointIO()],
                        logger=False, enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(NonFiniteLossError) as err:
        trainer.fit(model)
    message = str(err.value)
    assert f"loss is {bad} at step 5" in message
    assert f"last good checkpoint: {tmp_path / 'last.ckpt'}" in message
    saved = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 4  # the last save before the bad step
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values())
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the bad step never updated them


def test_nonfinite_loss_before_any_checkpoint_says_so(tmp_path):
    trainer = L.Trainer(max_steps=5, callbacks=[FiniteLossGuard()], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(NonFiniteLossError, match="at step 0 .*no checkpoint was written yet"):
        trainer.fit(Regression(bad_at=0, bad=math.nan))


@pytest.mark.slow
def test_seedkit_fit_with_a_nan_loss_exits_1_with_one_message(tiny_tokenizers, tmp_path, capsys, monkeypatch):
    from seedkit.flow import RectifiedFlow

    loss = RectifiedFlow.loss
    calls = {"n": 0}

    def nan_from_the_fourth_step(self, *args, **kwargs):
        out = loss(self, *args, **kwargs)
        calls["n"] += 1
        return dataclasses.replace(out, total=out.total * math.nan) if calls["n"] >= 4 else out

    monkeypatch.setattr(RectifiedFlow, "loss", nan_from_the_fourth_step)
    code = main(tiny_joint_args(tiny_tokenizers, tmp_path, max_steps=8, every=2))
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("seedkit:")]
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err[-2000:]
    assert "at step 3" in lines[0] and str(tmp_path / "checkpoints" / "last.ckpt") in lines[0], lines[0]
    saved = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 2
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values() if v.is_floating_point())


def test_frozen_tokenizers_encode_in_fp32_under_bf16_autocast(tiny_tokenizers):
    from seedkit.lit import JointAV

    video, audio = tiny_tokenizers
    jm = JointAV(str(video), str(audio), vocabulary=["red", "ball"], model={"video_dim": 32, "video_depth": 1,
                 "video_heads": 2, "audio_dim": 32, "audio_depth": 1, "audio_heads": 2})
    g = torch.Generator().manual_seed(0)
    v = torch.rand(2, 32, 3, 32, 32, generator=g) * 2 - 1
    a = torch.randn(2, 1, 32000, generator=g) * 0.1
    zv32, za32 = jm.encode(v, a)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        zv, za = jm.encode(v, a)
        zv16, za16 = jm.encode(v.bfloat16(), a.bfloat16())  # bf16 inputs are encoded in fp32 too
        inside = jm.video_tok.encode(v)  # the tokenizer outside JointAV.encode does follow autocast
    assert inside.dtype == torch.bfloat16  # so the checks here are not vacuous
    assert torch.equal(zv, zv32) and torch.equal(za, za32)  # autocast changed nothing
    assert zv16.dtype == za16.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in jm.video_tok.parameters())


def test_log_mel_front_end_is_fp32_under_bf16_autocast():
    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig

    tok = AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16))
    wav = torch.randn(1, 1, 16000) * 0.1
    ref = tok.log_mel(wav)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mel = tok.log_mel(wav)
    assert mel.dtype == torch.float32 and torch.equal(mel, ref)


@pytest.mark.slow
def test_bf16_mixed_training_keeps_the_tokenizers_fp32(tiny_tokenizers, tmp_path):
    from runs import fit_in_process

    fit_in_process(tiny_joint_args(tiny_tokenizers, tmp_path, max_steps=2, every=2)
                   + ["--trainer.precision=bf16-mixed"])
    sd = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    tokenizer = [v for k, v in sd.items() if k.startswith(("video_tok.", "audio_tok.")) and v.is_floating_point()]
    assert tokenizer and all(v.dtype == torch.float32 for v in tokenizer)
    assert all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())
