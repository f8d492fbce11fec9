"""`seedkit model summary`: parameter counts and token rates from a model or joint config."""
from pathlib import Path

import seedkit
from seedkit.cli import main
from seedkit.model import DualTowerConfig

CONFIGS = Path(seedkit.__file__).parent / "configs"


def test_shipped_model_configs_are_the_presets():
    assert DualTowerConfig.from_yaml(CONFIGS / "model_bounce.yaml") == DualTowerConfig.bounce()
    assert DualTowerConfig.from_yaml(CONFIGS / "model_grid.yaml") == DualTowerConfig.grid()


def test_summary_prints_token_rates_and_parameter_counts(capsys):
    assert main(["model", "summary", "--config", str(CONFIGS / "model_grid.yaml")]) == 0
    out = capsys.readouterr().out
    assert "video stream: 100 tokens/s" in out and "audio stream: 25 tokens/s" in out
    assert "video_tower" in out and "audio_tower" in out and "bridges" in out


def test_summary_reads_the_model_section_of_a_joint_config(tmp_path, capsys):
    cfg = tmp_path / "joint.yaml"
    cfg.write_text("model:\n  class_path: seedkit.lit.JointAV\n  init_args:\n    clip: grid\n"
                   "    vocabulary: [bin, blue]\n    model: {bridge: 'first:2'}\n")
    assert main(["model", "summary", "--config", str(cfg)]) == 0
    assert "slots [0, 1] of 4" in capsys.readouterr().out


def test_summary_names_a_bad_option_and_exits_2(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("preset: bounce\nbridge: sometimes\n")
    assert main(["model", "summary", "--config", str(cfg)]) == 2
    assert "bridge placement" in capsys.readouterr().err
