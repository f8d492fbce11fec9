"""End to end on CPU: `seedkit demo --tiny` trains every stage for a few steps, then `seedkit sample`
uses its checkpoint in every mode. Slow-ish (about a minute alone), run once per session."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from seedkit import media
from seedkit.cli import UserError, main
from seedkit.demo import DemoConfig, format_summary, meets_goal


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--tiny", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_demo_writes_metrics_samples_and_a_contact_sheet(demo_out):
    metrics = json.loads((demo_out / "metrics.json").read_text())
    for arm in ("real", "real_audio_shifted_250ms", "joint", "joint_audio_of_next_clip", "a2v", "v2a", "sequential"):
        assert 0.0 <= metrics[arm]["event_f1"] <= 1.0
        m = metrics[arm]
        if m["n_onsets"] + m["n_impacts"]:
            assert m["event_f1_pooled"] == pytest.approx(2 * m["n_matched_events"] / (m["n_onsets"] + m["n_impacts"]))
        assert 0 <= m["n_impacts_mid_air"] <= m["n_impacts"]
    real = metrics["real"]  # every real bounce clip has impacts and their sounds, at the walls
    assert real["n_clips_without_events"] == 0 and real["n_impacts"] > 0
    assert real["n_impacts_mid_air"] <= 0.2 * real["n_impacts"]
    # the chance row scores the joint videos (the same impacts) against another clip's soundtrack
    chance, joint = metrics["joint_audio_of_next_clip"], metrics["joint"]
    assert chance["n_impacts"] == joint["n_impacts"] and chance["n_onsets"] == joint["n_onsets"]
    assert metrics["sampler"]["modality_scale"] == DemoConfig.modality_scale
    assert metrics["fps"] == 16.0  # one frame is the offset goal
    assert set(metrics["video_seams"]) == {"real", "joint", "a2v"}
    assert 0.8 < metrics["video_seams"]["real"]["ratio"] < 1.25  # real clips have no seams
    assert set(metrics["motion"]) == {"real", "joint", "a2v"}  # v2a keeps the real video
    real_motion = metrics["motion"]["real"]  # real objects fall under gravity, about 0.19 px/frame^2
    assert real_motion["n_objects"] > 0 and 0.05 < real_motion["accel_px"] < 0.5
    # real clips are in sync by construction; shifting the audio by 0.25 s must break it
    assert metrics["real"]["event_f1"] > 0.8 > metrics["real_audio_shifted_250ms"]["event_f1"] + 0.3
    assert (demo_out / "contact_sheet.png").stat().st_size > 10_000
    # the two tokenizers trained at the same time, each in its own process with its own log
    assert set(metrics["times_s"]) >= {"tokenizer_video_s", "tokenizer_audio_s"}
    for kind in ("video", "audio"):
        assert (demo_out / "checkpoints" / f"tokenizer_{kind}_bounce.pt").exists()
        assert "exported" in (demo_out / f"tokenizer_{kind}" / "fit.log").read_text()
    info = media.probe(demo_out / "samples" / "joint_0.mp4")
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"


@pytest.mark.slow
def test_rerunning_the_demo_skips_finished_stages(demo_out, capsys):
    assert main(["demo", "--tiny", "--out", str(demo_out)]) == 0
    said = capsys.readouterr().out
    assert "== training" not in said
    # it ends on the sync table of metrics.json, not the JSON itself
    metrics = json.loads((demo_out / "metrics.json").read_text())
    joint = next(line for line in said.splitlines() if line.startswith("joint: text -> video + audio"))
    assert f"{metrics['joint']['event_f1']:.3f}" in joint
    assert "goal, event F1 >= 0.7 with mean |offset| <= 1 frame (62.5 ms): joint " in said
    assert '"event_f1_pooled"' not in said


def finished_offline_runs(folder: Path, n: int, wait_s: float = 60.0) -> list:
    """The offline W&B runs in `folder`, once `n` of them have written their exit record (W&B's service
    writes a run's log after the run's process has finished it)."""
    import time

    from seedkit.experiments import read_offline_run

    deadline = time.time() + wait_s
    while True:
        runs = [read_offline_run(p) for p in sorted(folder.glob("offline-run-*"))]
        if sum(r.finished for r in runs) >= n or time.time() > deadline:
            return runs
        time.sleep(0.5)


@pytest.mark.slow
def test_the_demo_logs_every_stage_its_scores_and_samples_to_wandb(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")  # no account here
    monkeypatch.delenv("WANDB_RUN_GROUP", raising=False)  # (a class session's group would win)
    out = tmp_path / "demo"
    assert main(["demo", "--tiny", "--wandb", "--out", str(out)]) == 0
    runs = {r.name: r for r in finished_offline_runs(out / "wandb", 3)}
    assert set(runs) == {"tokenizer_video", "tokenizer_audio", "joint"}, sorted(runs)
    group = (out / "wandb_group.txt").read_text().strip()
    assert {r.group for r in runs.values()} == {group} and group.startswith("demo-")
    joint = runs["joint"]
    assert any("val/loss" in row for row in joint.history)  # its training, then the demo's scores
    assert joint.config["demo"]["joint_steps"] == 4 and joint.config["demo"]["n_eval"] == 4  # --tiny's budget
    metrics = json.loads((out / "metrics.json").read_text())
    for arm in ("real", "joint", "a2v_vs_given_audio", "v2a_vs_given_video"):
        assert joint.summary[f"demo/{arm}/event_f1"] == pytest.approx(metrics[arm]["event_f1"])
    names = [p.name for p in joint.media]
    assert any(n.startswith("sync_") and n.endswith(".table.json") for n in names), names  # the sync table
    assert sum(n.endswith(".mp4") for n in names) >= 12  # the validation's clips and the demo's samples
    assert sum(n.endswith(".png") for n in names) >= 2  # the validation's sheet and the demo's contact sheet
    # a rerun trains nothing and logs the scores anew, as a run of the same group, beside a run of the
    # caller's own (a notebook's, say) that it leaves open and untouched
    import wandb

    mine = wandb.init(dir=str(tmp_path), project="mine", name="mine", reinit="create_new")
    assert main(["demo", "--tiny", "--wandb", "--out", str(out)]) == 0
    again = [r for r in finished_offline_runs(out / "wandb", 4) if r.name == "scores"]
    assert len(again) == 1 and again[0].group == group and again[0].job_type == "score"
    assert again[0].summary["demo/joint/event_f1"] == pytest.approx(metrics["joint"]["event_f1"])
    mine.log({"still_open": 1})
    mine.finish()
    (own,) = finished_offline_runs(tmp_path / "wandb", 1)
    assert own.name == "mine" and own.summary["still_open"] == 1 and not any(k.startswith("demo/") for k in own.summary)
    # one tokenizer to retrain: it trains in this process, and its run ends before the joint model's starts
    (out / "checkpoints" / "tokenizer_audio_bounce.pt").unlink()
    assert main(["demo", "--tiny", "--wandb", "--out", str(out)]) == 0
    names = sorted(r.name for r in finished_offline_runs(out / "wandb", 6))
    assert names == ["joint", "joint", "scores", "tokenizer_audio", "tokenizer_audio", "tokenizer_video"], names


def test_the_demo_summary_checks_the_goal_per_arm():
    def arm(f1, off_ms):
        return {"event_f1": f1, "mean_abs_offset_ms": off_ms, "n_impacts": 4, "n_impacts_mid_air": 0, "n_onsets": 4,
                "n_clips": 32}

    metrics = {"fps": 16.0, "real": arm(0.9, 7.5), "real_audio_shifted_250ms": arm(0.15, 32.0),
               "joint": arm(0.75, 60.0), "joint_audio_of_next_clip": arm(0.2, 30.0),
               "a2v_vs_given_audio": arm(0.75, 70.0),  # in time by F1, but more than a frame (62.5 ms) off
               "v2a_vs_given_video": arm(0.69, 10.0)}
    assert meets_goal(metrics["joint"], 16.0) and not meets_goal(metrics["a2v_vs_given_audio"], 16.0)
    assert not meets_goal(arm(0.9, None), 16.0)  # no matched event, no offset
    said = format_summary(metrics, Path("outputs/demo"))
    assert "(62.5 ms): joint met, a2v not met, v2a not met" in said
    assert "joint F1 minus its chance: +0.550" in said
    assert "sequential" not in said  # a row the metrics lack is left out


@pytest.mark.slow
def test_sample_in_every_mode_from_the_demo_checkpoint(demo_out, tmp_path, capsys):
    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "joint", "--text", "red ball", "--n", "2",
                 "--steps", "2", "--out", str(tmp_path / "j")]) == 0
    clip = media.read(tmp_path / "j" / "joint_000.mp4")
    assert clip.frames.shape == (32, 32, 32, 3) and clip.sample_rate == 16000
    assert "wrote 2 joint clips and contact_sheet.png" in capsys.readouterr().out
    assert (tmp_path / "j" / "contact_sheet.png").stat().st_size > 10_000
    # a2v with audio of another rate, channels and length: resampled, downmixed, padded
    t = np.arange(int(1.3 * 22050)) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 500 * t)]).astype(np.float32) * 0.3
    media.write(tmp_path / "speech.mp4", None, stereo, None, 22050)
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "a2v", "--audio", str(tmp_path / "speech.mp4"),
                 "--n", "1", "--steps", "2", "--out", str(tmp_path / "a")]) == 0
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "v2a", "--video", str(tmp_path / "j" / "joint_000.mp4"),
                 "--n", "1", "--steps", "2", "--modality-scale", "3", "--out", str(tmp_path / "v")]) == 0
    assert (tmp_path / "a" / "a2v_000.mp4").exists() and (tmp_path / "v" / "v2a_000.mp4").exists()
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "unconditional", "--n", "1", "--steps", "2",
                 "--out", str(tmp_path / "u")]) == 0
    assert (tmp_path / "u" / "unconditional_000.mp4").exists() and (tmp_path / "u" / "contact_sheet.png").exists()
    # SDEdit from the joint clip (the numbers: tests/test_sampling.py, tests/test_lit_validation.py)
    joint = tmp_path / "j" / "joint_000.mp4"
    capsys.readouterr()
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "joint", "--text", "red ball", "--init", str(joint),
                 "--start-t", "0.3", "--n", "1", "--steps", "2", "--out", str(tmp_path / "s")]) == 0
    assert f"from {joint} noised to t 0.3" in capsys.readouterr().out
    assert media.read(tmp_path / "s" / "joint_000.mp4").frames.shape == clip.frames.shape
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "v2a", "--video", str(joint), "--init", str(joint),
                 "--start-t", "0.5", "--n", "1", "--steps", "2", "--out", str(tmp_path / "s")]) == 0


@pytest.mark.slow
def test_sample_generates_n_clips_a_batch_at_a_time(demo_out, tmp_path):
    """`--batch-size B`: clips i..i+B-1 are one batch drawn from seed + i, so a run in batches of 2 makes
    the clips of one 2-clip run, then those of a run with --seed 2."""
    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    common = ["sample", "--ckpt", str(ckpt), "--text", "red ball", "--steps", "2"]
    assert main([*common, "--n", "3", "--batch-size", "2", "--out", str(tmp_path / "b")]) == 0
    assert main([*common, "--n", "2", "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--n", "1", "--seed", "2", "--out", str(tmp_path / "s2")]) == 0

    def clip(folder, i):
        c = media.read(tmp_path / folder / f"joint_{i:03d}.mp4")
        return c.frames, c.waveform

    for got, want in ((clip("b", 0), clip("one", 0)), (clip("b", 1), clip("one", 1)), (clip("b", 2), clip("s2", 0))):
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert not np.array_equal(clip("b", 0)[0], clip("b", 2)[0])  # another seed: another clip


@pytest.mark.slow
def test_sample_decodes_with_a_decoder_trained_on_and_refuses_another_encoder(demo_out, tmp_path, capsys):
    """`--video-decoder`: the same latents through the same tokenizer with another decoder (here one
    that draws every pixel brighter); a tokenizer with another encoder would misread them: refused."""
    from seedkit.tokenizers import VideoAutoencoder

    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    tok = VideoAutoencoder.from_checkpoint(demo_out / "checkpoints" / "tokenizer_video_bounce.pt")
    with torch.no_grad():
        tok.decoder.frame[-1].bias.add_(0.5)
    tok.save_checkpoint(tmp_path / "dec.pt")
    frames = {}
    for name, extra in (("plain", []), ("dec", ["--video-decoder", str(tmp_path / "dec.pt")])):
        assert main(["sample", "--ckpt", str(ckpt), "--text", "red ball", "--n", "1", "--steps", "2",
                     "--out", str(tmp_path / name), *extra]) == 0
        frames[name] = media.read(tmp_path / name / "joint_000.mp4", audio=False).frames.astype(float)
    assert frames["dec"].mean() > frames["plain"].mean() + 10
    with torch.no_grad():
        tok.encoder.frame[0].weight.mul_(1.1)
    tok.save_checkpoint(tmp_path / "other.pt")
    assert main(["sample", "--ckpt", str(ckpt), "--text", "red ball", "--out", str(tmp_path / "x"),
                 "--video-decoder", str(tmp_path / "other.pt")]) == 2
    assert "other.pt: its encoder or latent normalisation differs" in capsys.readouterr().err
    assert main(["evaluate", "--clips", str(tmp_path / "plain"), "--video-decoder", str(tmp_path / "dec.pt"),
                 "--out", str(tmp_path / "e")]) == 2
    assert "--video-decoder decodes the clips a checkpoint generates: it needs --ckpt" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["--text", ""], "--text is empty"),
    (["--text", "purple ball"], "'purple' is not in the vocabulary"),
    (["--text", "red ball", "--start-t", "0.5"], "--init CLIP and --start-t T < 1 go together"),
    (["--text", "red ball", "--start-t", "0"], "--start-t must lie in (0, 1]"),
])
def test_bad_prompts_are_user_errors(demo_out, tmp_path, capsys, args, message):
    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    assert main(["sample", "--ckpt", str(ckpt), "--mode", "joint", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_demo_scores_a_model_on_test_scenes_of_its_own_world():
    from seedkit.demo import held_out_data_settings

    # joint_bounce.yaml's splits: the test scenes start at 100064, as the demo always scored them
    default = held_out_data_settings({"dataset": "bounce", "num_train": 100_000, "num_val": 8, "max_objects": 2})
    assert default["num_train"] + default["num_val"] == 100_064 and default["max_objects"] == 2
    # a one-object model is scored on one-object scenes, after its (longer) train split
    one = held_out_data_settings({"dataset": "bounce", "num_train": 300_000, "num_val": 64, "max_objects": 1,
                              "seed": 3})
    assert one["num_train"] + one["num_val"] == 300_064 and one["max_objects"] == 1 and one["seed"] == 3
    # a model trained on layout captions is prompted with the test scenes' layout captions
    assert held_out_data_settings({"dataset": "bounce", "captions": "layout"})["captions"] == "layout"
    with pytest.raises(ValueError, match="trained on 'grid'"):
        held_out_data_settings({"dataset": "grid"})


def test_a_failed_parallel_stage_raises_with_the_end_of_its_log(tmp_path):
    from seedkit.demo import _fit_in_parallel

    logs = {"tokenizer_audio": tmp_path / "audio.log"}
    with pytest.raises(RuntimeError, match="tokenizer_audio training failed") as err:
        _fit_in_parallel({"tokenizer_audio": ("tokenizer_audio_bounce.yaml", ["--trainer.max_steps=many"], 4)},
                         logs, {})
    assert str(logs["tokenizer_audio"]) in str(err.value) and "max_steps" in str(err.value)


def test_missing_or_foreign_checkpoints_are_user_errors(tmp_path, capsys):
    assert main(["sample", "--ckpt", str(tmp_path / "none.ckpt"), "--text", "red ball",
                 "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    import torch

    torch.save({"kind": "video_autoencoder", "state_dict": {}}, tmp_path / "tok.pt")
    assert main(["sample", "--ckpt", str(tmp_path / "tok.pt"), "--text", "red ball",
                 "--out", str(tmp_path)]) == 2
    assert "video_autoencoder checkpoint, expected a JointAV" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tokenizer_from_an_older_kit_is_retrained_and_its_joint_model_set_aside(tmp_path, capsys):
    """A demo folder from before a tokenizer change: the stale files are kept aside, not loaded."""
    import torch

    from seedkit.demo import DemoConfig, train_pipeline

    cfg = DemoConfig.tiny(str(tmp_path))
    train_pipeline(cfg)
    path = tmp_path / "checkpoints" / "tokenizer_video_bounce.pt"
    old = torch.load(path, weights_only=True)
    old["state_dict"] = {f"legacy.{k}": v for k, v in old["state_dict"].items()}  # another architecture
    torch.save(old, path)
    capsys.readouterr()
    last = train_pipeline(cfg)
    out = capsys.readouterr().out
    assert "does not fit this seedkit's video tokenizer" in out and "== training the joint model" in out
    assert (tmp_path / "checkpoints" / "tokenizer_video_bounce.stale.pt").exists()
    assert len(list(tmp_path.glob("joint.stale-*"))) == 1 and last.exists()
    # a tokenizer deleted by hand is retrained, and the joint model trained on the old one set aside too
    (tmp_path / "checkpoints" / "tokenizer_audio_bounce.pt").unlink()
    last = train_pipeline(cfg)
    out = capsys.readouterr().out
    assert "== training the audio tokenizer" in out and "trained on the tokenizers retrained now" in out
    assert "== training the joint model" in out
    assert len(list(tmp_path.glob("joint.stale-*"))) == 2 and last.exists()


def test_demo_options_set_the_budget_of_each_stage(tmp_path):
    import dataclasses

    from seedkit.cli import DEMO_OPTIONS, build_parser, demo_config

    assert set(DEMO_OPTIONS) <= {f.name for f in dataclasses.fields(DemoConfig)}
    args = build_parser().parse_args(["demo", "--out", str(tmp_path), "--joint-steps", "2000",
                                      "--joint-batch-size", "64", "--precision", "bf16-mixed",
                                      "--modality-scale", "2.5"])
    cfg = demo_config(args)
    assert (cfg.joint_steps, cfg.joint_batch_size, cfg.precision, cfg.modality_scale) == (2000, 64, "bf16-mixed", 2.5)
    assert cfg.video_tokenizer_steps == DemoConfig().video_tokenizer_steps  # the rest keep their defaults
    tiny = demo_config(build_parser().parse_args(["demo", "--tiny", "--out", str(tmp_path), "--joint-steps", "6"]))
    assert tiny == dataclasses.replace(DemoConfig.tiny(str(tmp_path)), joint_steps=6)
    for name, (kind, what) in DEMO_OPTIONS.items():  # the defaults the help states are DemoConfig's
        default = getattr(DemoConfig(), name)
        if default is None:  # taken from the trained model: the help says whose
            assert "(default: the joint model's" in what, name
        elif kind is not str:
            assert kind(re.search(r"\(default ([0-9.]+)", what).group(1)) == default, name
    ramp = demo_config(build_parser().parse_args(["demo", "--out", str(tmp_path), "--clock-ramp", "1"]))
    assert ramp.clock_ramp == 1.0 and DemoConfig().clock_ramp is None
    for bad, message in [(["--clock-ramp", "-1"], "--clock-ramp -1.0: expected >= 0"),
                         (["--joint-steps", "0"], "--joint-steps 0: expected >= 1"),
                         (["--n-eval", "0"], "--n-eval 0: expected >= 1"),
                         (["--num-workers", "-1"], "--num-workers -1: expected >= 0"),
                         (["--seed", "-1"], "--seed -1: expected >= 0"),
                         (["--precision", "bf16-true"], "--precision 'bf16-true': expected 'auto' or one of"),
                         (["--precision", "fp8"], "--precision 'fp8': expected 'auto' or one of")]:
        with pytest.raises(UserError) as err:  # refused at once, before minutes of tokenizer training
            demo_config(build_parser().parse_args(["demo", "--out", str(tmp_path), *bad]))
        assert message in str(err.value), (bad, str(err.value))
    for bad, message in [({"sampler": {"stepz": 4}}, "DemoConfig.sampler={'stepz': 4}: "),
                         ({"sampler": {"steps": "many"}}, "SamplerConfig.steps='many': expected int"),
                         ({"joint_steps": 2.5}, "DemoConfig.joint_steps=2.5: expected int"),
                         ({"realism": "r.pt", "rerank": 1}, "set DemoConfig.rerank >= 2")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            DemoConfig(**bad)


def test_demo_precision_and_workers_reach_the_joint_fit(tmp_path, monkeypatch):
    from seedkit import demo

    for kind in ("video", "audio"):  # tokenizers already trained: only the joint stage runs
        path = tmp_path / "checkpoints" / f"tokenizer_{kind}_bounce.pt"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"")
    calls = []
    monkeypatch.setattr(demo, "_loads", lambda kind, path: True)
    monkeypatch.setattr(demo, "_fit", lambda config, overrides: calls.append((config, overrides)))
    demo.train_pipeline(DemoConfig(out=str(tmp_path), joint_steps=5, precision="bf16-mixed", num_workers=3))
    (config, overrides), = calls
    assert config == "joint_bounce.yaml"
    assert {"--trainer.precision=bf16-mixed", "--data.num_workers=3", "--trainer.max_steps=5"} <= set(overrides)
    for faster, expected in ((False, None), (True, "--trainer.precision=bf16-mixed")):  # precision "auto"
        calls.clear()
        monkeypatch.setattr(demo, "bf16_is_faster", lambda: faster)
        demo.train_pipeline(DemoConfig(out=str(tmp_path), joint_steps=5))
        given = [o for o in calls[0][1] if o.startswith("--trainer.precision")]
        assert given == ([expected] if expected else []), (faster, given)  # None: the YAML's own precision
    calls.clear()
    demo.train_pipeline(DemoConfig(out=str(tmp_path), joint_steps=5, precision="32-true"))
    assert "--trainer.precision=32-true" in calls[0][1]  # an explicit value wins over the machine


def test_bf16_is_faster_on_a_cpu_only_with_amx(monkeypatch):
    from seedkit import demo

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for amx in (False, True):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
        assert demo.bf16_is_faster() is amx
        assert demo.joint_precision("auto") == ("bf16-mixed" if amx else None)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")  # a torch without the probe: stay at 32-bit
    assert demo.bf16_is_faster() is False


@pytest.mark.slow
def test_sample_and_demo_scoring_keep_the_best_of_n_by_a_critic(demo_out, tmp_path, capsys):
    """`--rerank N --critic S`: N candidates per clip, the critic's pick kept (the selection itself:
    tests/test_rerank.py); without a critic, or with a critic of another clip format, a clear error."""
    from seedkit.demo import evaluate_demo
    from seedkit.metrics.syncnet import SyncNetConfig, SyncNetLite, save_syncnet

    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    torch.manual_seed(0)
    save_syncnet(SyncNetLite(SyncNetConfig(fps=16.0, hop=250, width=16, dim=8, max_shift=6)), tmp_path / "critic.pt")
    save_syncnet(SyncNetLite(SyncNetConfig(width=16, dim=8)), tmp_path / "grid.pt")  # 25 fps
    common = ["sample", "--ckpt", str(ckpt), "--text", "red ball", "--n", "2", "--steps", "2"]
    capsys.readouterr()
    assert main([*common, "--rerank", "3", "--critic", str(tmp_path / "critic.pt"), "--out", str(tmp_path / "r")]) == 0
    said = capsys.readouterr().out
    kept = json.loads(re.search(r"candidates kept: (\[.*\])", said).group(1))
    assert "each the best of 3" in said and len(kept) == 2 and all(0 <= k < 3 for k in kept)
    assert media.read(tmp_path / "r" / "joint_001.mp4").frames.shape == (32, 32, 32, 3)
    assert main([*common, "--rerank", "2", "--out", str(tmp_path / "x")]) == 2
    assert "pass --critic S" in capsys.readouterr().err
    assert main([*common, "--rerank", "2", "--critic", str(tmp_path / "grid.pt"), "--out", str(tmp_path / "x")]) == 2
    assert "trained on 25 fps clips; these are 16 fps" in capsys.readouterr().err
    with pytest.raises(ValueError, match="set DemoConfig.critic"):
        DemoConfig(rerank=2)
    cfg = DemoConfig(out=str(tmp_path / "e"), n_eval=2, sample_steps=2, rerank=2, critic=str(tmp_path / "critic.pt"))
    m = evaluate_demo(ckpt, tmp_path / "e", cfg)
    assert m["rerank"] == {"candidates": 2, "critic": str(tmp_path / "critic.pt"), "realism": None,
                           "realism_weight": None}
    assert 0.0 <= m["joint"]["event_f1"] <= 1.0 and m["joint"]["n_clips"] == 2


@pytest.mark.slow
def test_a_realism_critic_trains_on_the_joint_models_own_samples_and_joins_the_choice(demo_out, tmp_path, capsys):
    """GeneratedClipsData samples shards once (a lost shard is redrawn bit-identically, the rest kept),
    RealismModule fits and exports, and `--realism R` weighs the exported critic into --rerank."""
    import lightning as L

    from seedkit.demo import evaluate_demo
    from seedkit.metrics.realism import load_realism
    from seedkit.metrics.realism_lit import GeneratedClipsData, RealismModule
    from seedkit.metrics.syncnet import SyncNetConfig, SyncNetLite, save_syncnet

    ckpt = demo_out / "joint" / "checkpoints" / "last.ckpt"
    data = GeneratedClipsData(joint=str(ckpt), num_clips=6, num_val=2, shard=2, first_scene=10,
                              sampler={"steps": 2}, cache_dir=str(tmp_path / "cache"), batch_size=2)
    data.prepare_data()
    folder = data.cache_folder()
    shards = sorted(folder.glob("shard*.npz"))
    assert [p.name for p in shards] == ["shard0000.npz", "shard0001.npz", "shard0002.npz"]
    with np.load(shards[1]) as z:
        first = {k: z[k] for k in z}
    assert first["real"].shape == first["generated"].shape == (2, 32, 32, 32, 3)
    assert first["real"].dtype == np.uint8 and not np.array_equal(first["real"], first["generated"])
    kept = shards[0].stat().st_mtime_ns
    shards[1].unlink()  # an interrupted preparation: the missing shard is drawn again, the same
    data.prepare_data()
    with np.load(shards[1]) as z:
        assert all(np.array_equal(z[k], first[k]) for k in first)
    assert shards[0].stat().st_mtime_ns == kept
    other = GeneratedClipsData(joint=str(ckpt), num_clips=6, num_val=2, shard=2, first_scene=12,
                               cache_dir=str(tmp_path / "cache"))
    assert other.cache_folder() != folder  # other scenes, another cache
    with pytest.raises(ValueError, match="multiples of shard"):
        GeneratedClipsData(joint=str(ckpt), num_clips=5, num_val=2, shard=2)
    with pytest.raises(ValueError, match="reach the test scenes"):
        GeneratedClipsData(joint=str(ckpt), num_clips=4, num_val=2, shard=2, first_scene=10**6,
                           cache_dir=str(tmp_path / "c2")).prepare_data()
    module = RealismModule(width=8, export_path=str(tmp_path / "realism.pt"))
    trainer = L.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        num_sanity_val_steps=0, accelerator="cpu")
    trainer.fit(module, data)
    assert len(data.train_set) == 8 and len(data.val_set) == 4  # each scene real and generated
    realism = load_realism(tmp_path / "realism.pt")
    assert realism.meta["steps"] == 3 and realism.config.width == 8

    save_syncnet(SyncNetLite(SyncNetConfig(fps=16.0, hop=250, width=16, dim=8, max_shift=6)), tmp_path / "critic.pt")
    common = ["sample", "--ckpt", str(ckpt), "--text", "red ball", "--n", "2", "--steps", "2",
              "--critic", str(tmp_path / "critic.pt")]
    capsys.readouterr()
    assert main([*common, "--rerank", "3", "--realism", str(tmp_path / "realism.pt"), "--realism-weight", "2",
                 "--out", str(tmp_path / "r")]) == 0
    said = capsys.readouterr().out
    assert f"and {tmp_path / 'realism.pt'} (weight 2)" in said
    assert main([*common, "--realism", str(tmp_path / "realism.pt"), "--out", str(tmp_path / "x")]) == 2
    assert "pass --rerank N with N >= 2" in capsys.readouterr().err
    assert main([*common, "--rerank", "2", "--realism", str(tmp_path / "critic.pt"), "--out", str(tmp_path / "x")]) == 2
    assert "expected a realism-critic checkpoint" in capsys.readouterr().err
    cfg = DemoConfig(out=str(tmp_path / "e"), n_eval=2, sample_steps=2, rerank=2, critic=str(tmp_path / "critic.pt"),
                     realism=str(tmp_path / "realism.pt"))
    assert evaluate_demo(ckpt, tmp_path / "e", cfg)["rerank"]["realism_weight"] == 1.0


def test_the_sample_sheet_marks_the_impacts_seen_in_each_video(tmp_path, monkeypatch):
    import seedkit.viz
    from seedkit.cli import _sample_sheet
    from seedkit.data import BOUNCE_SPEC
    from seedkit.data.preview import bounce_clips

    drawn = []
    real_sheet = seedkit.viz.contact_sheet
    monkeypatch.setattr(seedkit.viz, "contact_sheet", lambda clips, *a, **k: drawn.extend(clips) or real_sheet(clips, *a, **k))
    scenes = bounce_clips(2, BOUNCE_SPEC)  # real scenes stand in for samples: their impacts are known
    _sample_sheet(tmp_path, [c["frames"] for c in scenes], [torch.from_numpy(c["waveform"]) for c in scenes],
                  ["v2a 0: clip.mp4", "v2a 1: clip.mp4"], BOUNCE_SPEC, bounce=True)
    assert (tmp_path / "contact_sheet.png").stat().st_size > 10_000
    assert [c["caption"] for c in drawn] == ["v2a 0: clip.mp4", "v2a 1: clip.mp4"]
    for c, scene in zip(drawn, scenes):  # every dash within a frame of a true impact, and half of them dashed at least
        dashes, true = [t for t, _ in c["events"]], [t for t, _ in scene["events"]]
        assert dashes and all(min(abs(d - t) for t in true) <= 1 / 16 for d in dashes)
        assert len(dashes) >= len(true) / 2  # impacts a frame apart are seen as one
    drawn.clear()
    _sample_sheet(tmp_path, [scenes[0]["frames"]], [torch.from_numpy(scenes[0]["waveform"])], ["grid 0"], BOUNCE_SPEC,
                  bounce=False)
    assert drawn[0]["events"] == []  # GRID: no impacts to mark
