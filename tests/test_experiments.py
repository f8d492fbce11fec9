"""Ablations (`seedkit ablate`): a two-arm, one-seed, tiny ablation end to end with offline W&B, then
the pure parts (budget parsing, shared-model keys, the two-level bootstrap, the summary table)."""
import json
import os

import numpy as np
import pytest

from pathlib import Path

import seedkit
from seedkit import media
from seedkit.cli import main
from seedkit.experiments import (Ablation, Arm, Budget, markdown_table, model_key, read_offline_run,
                                 score_clips, seed_clip_bootstrap_ci, summarise)

CONFIGS = Path(seedkit.__file__).parent / "configs" / "ablations"  # absolute: a fixture changes the cwd
TWO_ARMS = """
name: tiny_cogeneration
description: joint co-generation vs video first, then v2a (one trained model, two W&B runs)
base_config: joint_bounce.yaml
budget: {joint_steps: 400}
arms:
  joint: {description: co-generation}
  sequential: {generation: sequential, description: "video first, then v2a"}
"""


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    root = tmp_path_factory.mktemp("ablate")
    (root / "tiny.yaml").write_text(TWO_ARMS)
    old_mode, old_cwd = os.environ.get("WANDB_MODE"), os.getcwd()
    os.environ["WANDB_MODE"] = "offline"  # conftest disables W&B; this test is about the offline runs
    os.chdir(root)  # no outputs/demo/checkpoints here: the tokenizers are trained (tiny) and shared
    argv = ["ablate", str(root / "tiny.yaml"), "--seeds", "1", "--budget", "tiny", "--out", str(root / "out")]
    try:
        assert main(argv) == 0
        yield root, argv
    finally:
        os.chdir(old_cwd)
        os.environ.pop("WANDB_MODE") if old_mode is None else os.environ.__setitem__("WANDB_MODE", old_mode)


@pytest.mark.slow
def test_each_arm_is_an_offline_wandb_run_with_config_metrics_and_media(ablation):
    root, _ = ablation
    for arm in ("joint", "sequential"):
        result = json.loads((root / "out" / "tiny_cogeneration" / arm / "seed_0" / "result.json").read_text())
        run = read_offline_run(result["wandb"]["dir"])
        assert run.config["arm"] == arm and run.config["ablation"] == "tiny_cogeneration"
        assert run.config["budget"]["joint_steps"] == 2  # --budget tiny over the YAML's 400
        assert run.summary["eval/event_f1"] == pytest.approx(result["means"]["event_f1"])
        mp4s = [p for p in run.media if p.suffix == ".mp4"]
        assert len(mp4s) == 2
        info = media.probe(mp4s[0])
        assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    # the joint run trained the model and logged its curves; the sequential run reused it
    joint = json.loads((root / "out" / "tiny_cogeneration" / "joint" / "seed_0" / "result.json").read_text())
    assert joint["trained_in_this_run"] and "train/loss" in read_offline_run(joint["wandb"]["dir"]).summary
    assert len(list((root / "out" / "models").iterdir())) == 1


@pytest.mark.slow
def test_sequential_arm_keeps_the_joint_video_and_regenerates_the_audio(ablation):
    root, _ = ablation
    res = {a: json.loads((root / "out" / "tiny_cogeneration" / a / "seed_0" / "result.json").read_text())
           for a in ("joint", "sequential")}
    # same model, same seed: the sequential pipeline's first stage is the joint video itself
    assert res["sequential"]["set_metrics"]["fd_kitvideo"] == pytest.approx(res["joint"]["set_metrics"]["fd_kitvideo"])
    assert res["sequential"]["set_metrics"]["fd_kitaudio"] != res["joint"]["set_metrics"]["fd_kitaudio"]


@pytest.mark.slow
def test_rerunning_a_finished_ablation_trains_nothing_and_gives_the_same_table(ablation, capsys):
    root, argv = ablation
    folder = root / "out" / "tiny_cogeneration"
    table = (folder / "summary.md").read_text()
    csv = (folder / "summary.csv").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in (root / "out").rglob("*.ckpt")}
    runs = set((root / "out" / "wandb").glob("offline-run-*"))
    capsys.readouterr()
    os.environ["WANDB_MODE"] = "offline"
    try:
        assert main(argv) == 0
    finally:
        os.environ["WANDB_MODE"] = "disabled"
    out = capsys.readouterr().out
    assert "== training" not in out and "nothing to train" in out
    assert (folder / "summary.md").read_text() == table and (folder / "summary.csv").read_text() == csv
    assert {p: p.stat().st_mtime_ns for p in (root / "out").rglob("*.ckpt")} == stamps
    assert set((root / "out" / "wandb").glob("offline-run-*")) == runs  # no new W&B run either


def _ablation(*arms: Arm) -> Ablation:
    return Ablation(name="a", arms=list(arms))


def test_arms_that_train_the_same_model_share_it_across_ablations():
    b = Budget()
    joint, seq = Arm("joint"), Arm("sequential", generation="sequential")
    all_blocks, none = Arm("all", model={"bridge": "all"}), Arm("none", model={"bridge": "none"})
    guided = Arm("cfg3", sampler={"text_scale_video": 3.0})
    keys = {a.name: model_key(_ablation(a), a, 0, b) for a in (joint, seq, all_blocks, none, guided)}
    assert keys["joint"] == keys["sequential"] == keys["all"] == keys["cfg3"]  # sampling-only / default
    assert keys["none"] != keys["joint"]
    assert model_key(_ablation(joint), joint, 1, b) != keys["joint"]  # another seed, another model
    assert model_key(_ablation(joint), joint, 0, Budget(joint_steps=10)) != keys["joint"]


def test_budget_accepts_tiny_and_overrides_and_names_a_bad_key():
    assert Budget.parse({"joint_steps": 400}, ["tiny", "n_eval=8"]).n_eval == 8
    assert Budget.parse({"joint_steps": 400}, None).joint_steps == 400
    with pytest.raises(ValueError, match="KEY=VALUE with KEY one of"):
        Budget.parse({}, ["steps=3"])
    with pytest.raises(ValueError, match="must be an integer"):
        Budget.parse({}, ["joint_steps=many"])


def test_two_level_bootstrap_counts_seed_to_seed_variation():
    rng = np.random.default_rng(0)
    same = [rng.normal(0.5, 0.1, 32) for _ in range(3)]
    spread = [g + d for g, d in zip(same, (-0.3, 0.0, 0.3))]  # same clip noise, seeds disagree
    m1, lo1, hi1 = seed_clip_bootstrap_ci(same)
    m2, lo2, hi2 = seed_clip_bootstrap_ci(spread)
    assert m1 == pytest.approx(m2) and lo1 < m1 < hi1
    assert hi2 - lo2 > 3 * (hi1 - lo1)
    assert seed_clip_bootstrap_ci([[1.0, np.nan], [3.0]])[0] == pytest.approx(2.0)  # NaN: no value


def test_summary_pairs_each_arm_with_the_first_on_the_same_clips():
    def result(arm, f1s):
        clips = [{"event_f1": f, "event_abs_offset_ms": 10.0, "av_align": 0.2, "flux_abs_offset_ms": 50.0}
                 for f in f1s]
        return {"arm": arm, "seed": 0, "generation": "joint", "clips": clips,
                "means": {k: float(np.mean([c[k] for c in clips])) for k in clips[0]},
                "set_metrics": {"fd_kitvideo": 1.0, "fd_kitaudio": 2.0}}

    s = summarise(_ablation(Arm("a"), Arm("b")), {"a": [result("a", [0.1, 0.5, 0.9])],
                                                  "b": [result("b", [0.2, 0.6, 1.0])]}, {})
    assert s["arms"]["a"]["event_f1"]["mean"] == pytest.approx(0.5)
    # b beats a by exactly 0.1 on every clip: the paired CI has no width, the unpaired ones do
    assert s["delta_event_f1_vs"]["b"]["event_f1"] == {"mean": 0.1, "ci95": [0.1, 0.1]}
    # results written before event_f1_over_chance existed: no value, shown as n/a
    assert s["arms"]["a"]["event_f1_over_chance"] == {"mean": None, "ci95": [None, None], "per_seed": [None]}
    assert "| a | 1 x 3 | 0.5 [" in markdown_table(s) and "n/a" in markdown_table(s)


def test_event_f1_over_chance_is_f1_minus_f1_with_the_next_clips_audio():
    from seedkit.data.bounce import BounceGenerator
    from seedkit.metrics.events import event_sync_score

    gen = BounceGenerator()
    pairs = [(sc.frames, sc.waveform) for sc in map(gen.scene, range(4))]
    fps, sr = gen.config.spec.fps, gen.config.spec.sample_rate
    scores = score_clips(pairs, fps, sr)
    for i, (s, (f, a)) in enumerate(zip(scores, pairs)):
        chance = event_sync_score(f, pairs[(i + 1) % 4][1], fps, sr).f1
        assert s["event_f1"] == pytest.approx(event_sync_score(f, a, fps, sr).f1)
        assert s["event_f1_over_chance"] == pytest.approx(s["event_f1"] - chance)
    assert np.mean([s["event_f1_over_chance"] for s in scores]) > 0.3  # real clips: far above chance


def test_bad_ablation_configs_are_user_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("arms:\n  a: {generation: backwards}\n")
    assert main(["ablate", str(bad), "--out", str(tmp_path)]) == 2
    assert "generation must be one of" in capsys.readouterr().err
    assert main(["ablate", str(tmp_path / "none.yaml"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "clip.mp3").write_bytes(b"ID3\x04\x00\xff\xfe\x00")  # not text
    (tmp_path / "broken.yaml").write_text("arms: {a: [\n")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    for name, message in [("clip.mp3", "clip.mp3: not a text file; expected a YAML ablation config"),
                          ("broken.yaml", "broken.yaml: not valid YAML ("),
                          ("list.yaml", "list.yaml: expected a mapping of ablation config options, got list")]:
        assert main(["ablate", str(tmp_path / name), "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert main(["ablate", str(CONFIGS / "cogeneration.yaml"), "--threads", "0", "--out", str(tmp_path)]) == 2
    assert "--threads must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="not an offline W&B run folder"):
        read_offline_run(tmp_path)


@pytest.mark.parametrize("name", ["cogeneration", "bridge_placement"])
def test_sweep_yaml_covers_the_ablation_grid_and_its_command_parses(name):
    import yaml

    from seedkit.cli import build_parser

    sweep = yaml.safe_load((CONFIGS / "sweeps" / f"{name}.yaml").read_text())
    ablation = Ablation.from_yaml(CONFIGS / f"{name}.yaml")
    assert sweep["parameters"]["arm"]["values"] == [a.name for a in ablation.arms]
    cmd = sweep["command"]
    assert cmd[:2] == ["${env}", "seedkit"] and cmd[-1] == "${args}"
    args = build_parser().parse_args([*cmd[2:-1], "--arm=" + ablation.arms[0].name, "--seed=2"])
    assert args.arm == [ablation.arms[0].name] and args.seed == 2


def test_every_shipped_ablation_config_loads():
    names = {p.stem for p in CONFIGS.glob("*.yaml")}
    assert names == {"cogeneration", "bridge_placement", "aligned_rope", "timesteps", "guidance"}
    for n in names:
        a = Ablation.from_yaml(CONFIGS / f"{n}.yaml")
        assert len(a.arms) >= 2 and all(isinstance(arm.name, str) for arm in a.arms)


def test_an_offline_run_still_being_written_is_read_up_to_its_last_whole_record(tmp_path, monkeypatch):
    """W&B's service writes a run's log after the run's process finished it; a reader polling the folder
    sees it cut anywhere, and must not stop on the record half written."""
    import shutil
    import time

    import wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    run = wandb.init(project="p", name="cut", dir=str(tmp_path), reinit="create_new")
    for step in range(50):
        run.log({"loss": 1.0 / (step + 1), "note": "x" * 200})
    run.finish()
    folder = next((tmp_path / "wandb").glob("offline-run-*"))
    deadline = time.time() + 60
    while not read_offline_run(folder).finished and time.time() < deadline:
        time.sleep(0.5)
    whole = read_offline_run(folder)
    assert whole.finished and len(whole.history) == 50
    log = next(folder.glob("run-*.wandb"))
    data = log.read_bytes()
    for cut in (len(data) // 3, len(data) // 2 + 5, len(data) - 3):
        copy = tmp_path / f"cut{cut}"
        shutil.copytree(folder, copy)
        (copy / log.name).write_bytes(data[:cut])
        part = read_offline_run(copy)
        assert not part.finished and len(part.history) <= 50
