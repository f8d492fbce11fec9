"""`seedkit evaluate`: a tiny untrained joint model (built in seconds, no training) generates bounce
clips; every arm is scored, summarised with CIs and AUCs, and written as JSON + plots."""
import json

import numpy as np
import pytest
import torch

from seedkit.cli import main
from seedkit.evaluate import auc, bootstrap_ci


@pytest.fixture(scope="module")
def tiny_ckpt(tiny_tokenizer_paths, tmp_path_factory):
    from seedkit.lit import JointAV

    d = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    jm = JointAV(*tiny_tokenizer_paths, ["red", "blue", "green", "yellow", "ball", "box"],
                 clip="bounce", model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32,
                                       "audio_depth": 1, "audio_heads": 2, "text_dim": 16})
    ckpt = d / "tiny.ckpt"
    torch.save({"hyper_parameters": dict(jm.hparams), "state_dict": jm.state_dict()}, ckpt)
    return ckpt


@pytest.mark.slow
def test_evaluate_writes_every_arm_metric_and_plot(tiny_ckpt, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--ckpt", str(tiny_ckpt), "--n", "4", "--steps", "2", "--bootstrap", "50",
                 "--modality-scale", "2.5", "--time-shift", "1.5", "--clock-ramp", "1", "--guidance-interval", "0.5", "1",
                 "--out", str(out)]) == 0
    res = json.loads((out / "metrics.json").read_text())
    # the command-line guidance replaces the checkpoint's; the rest of its sampler stays
    assert res["sampler"]["modality_scale"] == 2.5 and res["sampler"]["steps"] == 2
    assert res["sampler"]["shift"] == 1.5 and res["sampler"]["clock_ramp"] == 1.0
    assert res["sampler"]["guidance_t_min"] == 0.5 and res["sampler"]["guidance_t_max"] == 1.0
    arms = {"generated", "real", "real_audio_+0.2s", "real_audio_-0.2s", "shuffled", "gen_shuffled"}
    assert set(res["n_clips"]) == arms and all(n == 4 for n in res["n_clips"].values())
    for m in ("av_align", "flux_abs_offset_ms", "flux_sync_at_zero", "event_f1"):
        row = res["metrics"][m]
        for arm in arms:
            lo, hi = row[arm]["ci95"]
            assert np.isfinite(row[arm]["mean"]) and lo <= row[arm]["mean"] <= hi
        assert 0.0 <= row["auc_real_vs"]["shuffled"] <= 1.0
    # real bounce clips are in sync by construction: their event F1 beats the shuffled pairs
    assert res["metrics"]["event_f1"]["real"]["mean"] > res["metrics"]["event_f1"]["shuffled"]["mean"]
    # the generated clips against their own chance, clip by clip: generated clip i's video with clip i + 1's audio
    per_clip = [json.loads(x) for x in (out / "per_clip.jsonl").read_text().splitlines()]
    f1 = {arm: [c["event_f1"] for c in per_clip if c["arm"] == arm] for arm in ("generated", "gen_shuffled")}
    over = res["metrics"]["event_f1"]["generated_minus_gen_shuffled"]
    assert over["mean"] == pytest.approx(np.mean(f1["generated"]) - np.mean(f1["gen_shuffled"]))
    assert over["ci95"][0] <= over["mean"] <= over["ci95"][1]
    fd = res["frechet"]["fd_kitvideo"]
    assert fd["fd"] >= 0 and fd["n_generated"] == 4 and np.isfinite(res["frechet"]["fd_kitaudio"]["fd"])
    seams = res["video_seams"]  # the tokenizer folds 4 frames per latent frame: seams are measured
    assert seams["frames_per_latent"] == 4 and seams["generated"]["n_clips"] == seams["real"]["n_clips"] == 4
    assert 0.5 < seams["real"]["ratio"] < 2.0  # real clips change as much at seams as inside
    mid = res["impacts_mid_air"]  # real bounces happen at walls; an untrained model's turns can be anywhere
    assert mid["generated"]["n_clips"] == mid["real"]["n_clips"] == 4
    assert mid["real"]["n_impacts"] > 0 and mid["real"]["n_mid_air"] <= 0.2 * mid["real"]["n_impacts"]
    assert 0 <= mid["generated"]["n_mid_air"] <= mid["generated"]["n_impacts"]
    lines = (out / "per_clip.jsonl").read_text().splitlines()
    assert len(lines) == 6 * 4
    assert (out / "metrics.png").stat().st_size > 10_000
    assert (out / "samples" / "generated_000.mp4").exists()
    printed = capsys.readouterr().out
    assert "av_align" in printed and "generated - gen_shuffled" in printed


def test_a_sampling_file_of_ema_weights_loads_like_its_checkpoint(tiny_ckpt, tmp_path):
    from seedkit.lit import export_ema, load_joint

    full = load_joint(str(tiny_ckpt))
    with torch.no_grad():  # an EMA that differs from the trained weights, as after training
        for p in full.ema.parameters():
            p.add_(0.01 * torch.randn_like(p))
    ckpt = tmp_path / "trained.ckpt"
    torch.save({"hyper_parameters": dict(full.hparams), "state_dict": full.state_dict(), "global_step": 7}, ckpt)
    ema_only = tmp_path / "ema.pt"
    export_ema(ckpt, ema_only)
    assert ema_only.stat().st_size < ckpt.stat().st_size
    assert torch.load(ema_only, weights_only=True)["global_step"] == 7
    jm = load_joint(str(ema_only))
    for a, b, m in zip(jm.ema.parameters(), full.ema.parameters(), jm.model.parameters()):
        assert torch.equal(a, b) and torch.equal(m, b)  # both copies hold the EMA
    torch.save({"hyper_parameters": dict(full.hparams)}, tmp_path / "bare.pt")  # neither weights
    with pytest.raises(ValueError, match="expected a JointAV"):
        load_joint(str(tmp_path / "bare.pt"))


def test_a_checkpoint_whose_tokenizers_are_elsewhere_names_them(tiny_ckpt, tmp_path, monkeypatch):
    """A checkpoint names its tokenizers relative to the folder it was trained in; loaded from
    another folder (a Jupyter kernel in notebooks/) it says which file is missing and why."""
    from seedkit.lit import load_joint
    from seedkit.tokenizers import CheckpointError

    c = torch.load(tiny_ckpt, weights_only=True)
    c["hyper_parameters"]["audio_tokenizer"] = "checkpoints/tokenizer_audio_bounce.pt"
    torch.save(c, tmp_path / "relative.ckpt")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match=r"relative.ckpt: its audio tokenizer checkpoints/tokenizer_audio_"
                                                r"bounce.pt is not there .*run from that folder"):
        load_joint("relative.ckpt")


def test_a_checkpoint_finds_its_tokenizers_from_any_folder(tiny_ckpt, tmp_path, monkeypatch):
    """`make demo` trains in the kit's folder: outputs/demo/joint/checkpoints/last.ckpt names
    outputs/demo/checkpoints/tokenizer_*.pt, relative to it. Loaded from another folder, the
    checkpoint finds them in the first folder above it that holds them."""
    import shutil

    from seedkit.lit import load_joint

    c = torch.load(tiny_ckpt, weights_only=True)
    kit = tmp_path / "kit"
    for kind in ("video", "audio"):
        named = f"outputs/demo/checkpoints/tokenizer_{kind}_bounce.pt"
        (kit / named).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(c["hyper_parameters"][f"{kind}_tokenizer"], kit / named)
        c["hyper_parameters"][f"{kind}_tokenizer"] = named
    ckpt = kit / "outputs" / "demo" / "joint" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    torch.save(c, ckpt)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    jm = load_joint(str(ckpt))
    assert jm.hparams.video_tokenizer == str(kit / "outputs/demo/checkpoints/tokenizer_video_bounce.pt")
    assert jm.hparams.audio_tokenizer == str(kit / "outputs/demo/checkpoints/tokenizer_audio_bounce.pt")
    for a, b in zip(jm.model.parameters(), load_joint(str(tiny_ckpt)).model.parameters()):
        assert torch.equal(a, b)
    monkeypatch.chdir(kit)  # from the folder it was trained in, the names stay as they were saved
    assert load_joint(str(ckpt)).hparams.video_tokenizer == "outputs/demo/checkpoints/tokenizer_video_bounce.pt"


def test_a_model_trained_compiled_loads_uncompiled_for_sampling(tiny_ckpt, tmp_path):
    """`compile` is a training option: a compiled model would rebuild its kernels for each batch
    shape the sampler and the guidance passes give it."""
    from seedkit.lit import load_joint

    c = torch.load(tiny_ckpt, weights_only=True)
    c["hyper_parameters"]["compile"] = True
    torch.save(c, tmp_path / "compiled.ckpt")
    jm = load_joint(str(tmp_path / "compiled.ckpt"))
    assert not jm.hparams.compile and jm.model._compiled_call_impl is None
    for a, b in zip(jm.model.parameters(), load_joint(str(tiny_ckpt)).model.parameters()):
        assert torch.equal(a, b)


def test_a_checkpoints_data_settings_build_its_datamodule(tiny_ckpt, tmp_path):
    """LightningCLI saves `_class_path` / `_instantiator` beside the datamodule's settings;
    `load_joint` leaves them out, so its `data_settings` build an AVDataModule as they are."""
    from seedkit.data import AVDataModule
    from seedkit.lit import load_joint

    c = torch.load(tiny_ckpt, weights_only=True)
    c["datamodule_hyper_parameters"] = {"dataset": "bounce", "num_train": 16, "num_val": 4, "batch_size": 4,
                                        "_class_path": "seedkit.data.AVDataModule",
                                        "_instantiator": "lightning.pytorch.cli.instantiate_module"}
    torch.save(c, tmp_path / "cli.ckpt")
    settings = load_joint(str(tmp_path / "cli.ckpt")).data_settings
    assert settings == {"dataset": "bounce", "num_train": 16, "num_val": 4, "batch_size": 4}
    assert AVDataModule(**settings).hparams.num_train == 16


def test_ema_update_is_the_lerp_of_every_parameter():
    from seedkit.lit import ema_update

    torch.manual_seed(0)
    model, ema = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)), \
        torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    before = [p.clone() for p in ema.parameters()]
    ema_update(ema, model, 0.9)
    for e, b, p in zip(ema.parameters(), before, model.parameters()):
        torch.testing.assert_close(e, 0.9 * b + 0.1 * p)


@pytest.mark.parametrize("mode", ["a2v", "v2a"])
def test_conditional_modes_pair_the_generated_stream_with_the_given_one(tiny_ckpt, mode):
    from seedkit.data.clip import BOUNCE_SPEC
    from seedkit.evaluate import EvalConfig, generate_clips, real_clips
    from seedkit.lit import load_joint

    jm = load_joint(str(tiny_ckpt))
    frames, audio, captions = real_clips("bounce", BOUNCE_SPEC, 3)
    cfg = EvalConfig(out="unused", mode=mode, steps=1, batch_size=2)  # two batches: the given clips stay in order
    gen_frames, gen_audio = generate_clips(jm, captions, cfg, real=(frames, audio))
    given, generated = (gen_audio, gen_frames) if mode == "a2v" else (gen_frames, gen_audio)
    real_given = audio if mode == "a2v" else frames
    assert len(generated) == 3 and all(np.array_equal(g, r) for g, r in zip(given, real_given))
    assert generated[0].shape == (frames[0].shape if mode == "a2v" else audio[0].shape)
    # the model was asked for these: the generated stream is not a copy of a real one
    assert not any(np.array_equal(g, r) for g, r in zip(generated, frames if mode == "a2v" else audio))


@pytest.mark.slow
def test_evaluate_reads_a_folder_of_mp4s(tmp_path):
    from seedkit import media
    from seedkit.data.bounce import BounceGenerator

    gen = BounceGenerator()
    for i in range(3):
        sc = gen.scene(100 + i)
        media.write(tmp_path / "clips" / f"c{i}.mp4", sc.frames, sc.waveform, 16.0, 16000)
    out = tmp_path / "eval"
    assert main(["evaluate", "--clips", str(tmp_path / "clips"), "--dataset", "bounce", "--n", "3",
                 "--bootstrap", "20", "--out", str(out)]) == 0
    res = json.loads((out / "metrics.json").read_text())
    assert res["n_clips"]["generated"] == 3
    assert "syncnet_lse_c" not in res["metrics"]  # bounce: no SyncNet-lite unless one is given
    assert any("FD-kitvideo" in n for n in res["notes"])  # no tokenizers given: said, not silent
    # these "generated" clips are real bounce scenes: in sync, like the real arm, and bouncing at walls
    assert res["metrics"]["event_f1"]["generated"]["mean"] > 0.5
    mid = res["impacts_mid_air"]["generated"]
    assert mid["n_impacts"] > 0 and mid["n_mid_air"] <= 0.2 * mid["n_impacts"]


def test_evaluate_scores_bounce_clips_with_a_syncnet_trained_on_bounce(tmp_path, capsys):
    """`--syncnet` of a bounce SyncNet-lite (seedkit/configs/syncnet_bounce.yaml) adds its scores
    to the events'; one trained on GRID's 25 fps clips is refused before any scoring."""
    from seedkit import media
    from seedkit.data.bounce import BounceGenerator
    from seedkit.metrics.syncnet import SyncNetConfig, SyncNetLite, save_syncnet

    gen = BounceGenerator()
    for i in range(2):
        sc = gen.scene(200 + i)
        media.write(tmp_path / "clips" / f"c{i}.mp4", sc.frames, sc.waveform, 16.0, 16000)
    save_syncnet(SyncNetLite(SyncNetConfig(fps=16.0, hop=250, width=16, dim=8, max_shift=6)), tmp_path / "bounce.pt")
    save_syncnet(SyncNetLite(SyncNetConfig(width=16, dim=8)), tmp_path / "grid.pt")  # 25 fps
    common = ["evaluate", "--clips", str(tmp_path / "clips"), "--dataset", "bounce", "--n", "2", "--bootstrap", "0"]
    assert main([*common, "--syncnet", str(tmp_path / "bounce.pt"), "--out", str(tmp_path / "e")]) == 0
    res = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert {"syncnet_lse_c", "syncnet_abs_offset_ms", "event_f1"} <= set(res["metrics"]), sorted(res["metrics"])
    assert res["syncnet"] == str(tmp_path / "bounce.pt")
    capsys.readouterr()
    assert main([*common, "--syncnet", str(tmp_path / "grid.pt"), "--out", str(tmp_path / "g")]) == 2
    assert "trained on 25 fps clips; these are 16 fps bounce clips" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    ([], "needs --ckpt"),
    (["--clips", "/nonexistent/folder"], "no .mp4 files"),
    (["--ckpt", "/nonexistent.ckpt"], "does not exist"),
    (["--clips", ".", "--n", "1"], "--n must be at least 2"),
    (["--clips", ".", "--video-tokenizer", "/nonexistent.pt"], "--video-tokenizer /nonexistent.pt: no such file"),
    (["--clips", ".", "--modality-scale", "-1"], "--modality-scale must be >= 0"),
    (["--clips", ".", "--time-shift", "0"], "--time-shift must be > 0"),
    (["--clips", ".", "--clock-ramp", "-1"], "--clock-ramp must be >= 0"),
    (["--clips", ".", "--guidance-interval", "0.9", "0.5"], "--guidance-interval 0.9 0.5: expected 0 <= T_MIN"),
    (["--clips", ".", "--mode", "v2a"], "--mode v2a generates clips for the real ones: it needs --ckpt"),
])
def test_bad_evaluate_options_are_user_errors(tmp_path, capsys, args, message):
    assert main(["evaluate", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_bootstrap_ci_brackets_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small, big = rng.normal(1.0, 1.0, 20), rng.normal(1.0, 1.0, 2000)
    lo_s, hi_s = bootstrap_ci(small, 500)
    lo_b, hi_b = bootstrap_ci(big, 500)
    assert lo_s < small.mean() < hi_s and lo_b < big.mean() < hi_b
    assert (hi_b - lo_b) < 0.25 * (hi_s - lo_s)
    assert bootstrap_ci([3.0], 100) == (3.0, 3.0)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([], 10)


def test_auc_known_answers():
    assert auc([2, 3], [0, 1]) == 1.0
    assert auc([0, 1], [2, 3]) == 0.0
    assert auc([1, 1], [1, 1]) == 0.5


def test_seam_block_needs_a_folding_tokenizer_and_generated_video():
    from seedkit.data.clip import BOUNCE_SPEC
    from seedkit.evaluate import EvalConfig, real_clips, seam_block
    from seedkit.metrics.seams import seam_report
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    frames, _, _ = real_clips("bounce", BOUNCE_SPEC, 8)
    spliced = [np.concatenate([frames[k][4 * k:4 * k + 4] for k in range(8)])]  # another scene every 4 frames
    folding = VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8))
    by_two = VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8, time_down=2))
    per_frame = VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8, time_down=1))
    cfg = EvalConfig(out="unused")
    block = seam_block(folding, spliced, frames, cfg)
    assert block["frames_per_latent"] == 4 and block["real"] == seam_report(frames, 4).as_dict()
    assert block["generated"]["ratio"] > 2.5 and 0.8 < block["real"]["ratio"] < 1.25  # seams only where made
    assert seam_block(by_two, spliced, frames, cfg)["generated"] == seam_report(spliced, 2).as_dict()
    assert seam_block(folding, frames, frames, EvalConfig(out="unused", mode="v2a")) is None
    assert seam_block(None, frames, frames, cfg) is None and "no video tokenizer" in cfg.notes[-1]
    assert seam_block(per_frame, frames, frames, cfg) is None and "one frame per latent frame" in cfg.notes[-1]


@pytest.mark.parametrize("time_down, latent_fps", [(4, 4.0), (2, 8.0), (1, 16.0)])
def test_joint_model_takes_its_bridge_clock_from_the_tokenizers(tmp_path, time_down, latent_fps):
    """Video latent frames per second = fps / the tokenizer's time_down: the bridge RoPE puts each
    latent frame at its instant, whatever the tokenizer folds."""
    from seedkit.lit import JointAV
    from seedkit.tokenizers.audio import AudioAutoencoder, AudioAutoencoderConfig
    from seedkit.tokenizers.video import VideoAutoencoder, VideoAutoencoderConfig

    VideoAutoencoder(VideoAutoencoderConfig(latent_channels=4, base_channels=8, time_down=time_down)
                     ).save_checkpoint(tmp_path / "v.pt")
    AudioAutoencoder(AudioAutoencoderConfig(latent_channels=4, hidden_channels=16)).save_checkpoint(tmp_path / "a.pt")
    jm = JointAV(str(tmp_path / "v.pt"), str(tmp_path / "a.pt"), ["red", "ball"], clip="bounce",
                 model={"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32, "audio_depth": 1,
                        "audio_heads": 2, "text_dim": 16})
    cfg = jm.model_config
    assert (cfg.video_frames, cfg.video_latent_fps, cfg.audio_latent_rate) == (32 // time_down, latent_fps, 25.0)
    assert cfg.duration_s == jm.spec.duration_s == 2.0


def test_real_bounce_clips_come_from_the_world_the_model_was_trained_in():
    """A model trained with layout captions is scored on layout captions, of its data seed and objects."""
    from seedkit.data.clip import BOUNCE_SPEC
    from seedkit.evaluate import real_clips

    _, _, plain = real_clips("bounce", BOUNCE_SPEC, 4)
    _, _, layout = real_clips("bounce", BOUNCE_SPEC, 4, trained={"captions": "layout", "max_objects": 1})
    assert not any("moving" in c for c in plain)
    assert all("moving" in c and len(c.split(" moving")) == 2 for c in layout)  # one object each
