"""Safety: checkpoints load with weights_only=True (a malicious pickle runs nowhere), config values are
never evaluated, archives are verified by sha256 before they are opened, and extraction refuses entries
that escape the target folder (zip-slip)."""
import ast
import io
import json
import zipfile
from pathlib import Path

import pytest
import torch
from runs import tiny_joint_args

from seedkit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def python_sources():
    """(name, source) of every module of the package and every notebook code cell."""
    for path in sorted((ROOT / "seedkit").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text()
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                yield f"{path.relative_to(ROOT)} cell {i}", "\n".join(
                    "" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (
                f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else "")
            yield name, node


def test_every_torch_load_is_weights_only_and_nothing_is_evaluated():
    checked, problems = 0, []
    for name, src in python_sources():
        for fn, node in calls(ast.parse(src)):
            line = f"{name}:{node.lineno}"
            if fn == "torch.load":
                checked += 1
                kw = {k.arg: k.value for k in node.keywords}
                if not (isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True):
                    problems.append(f"{line}: torch.load without weights_only=True")
            if fn in ("eval", "exec", "compile", "pickle.load", "pickle.loads", "yaml.load",
                      "yaml.unsafe_load", "yaml.full_load", "marshal.loads"):
                problems.append(f"{line}: {fn}(...)")
    assert checked >= 3 and not problems, problems


class OpensAFile:
    """Unpickling this calls open(marker, 'w'): any loader that runs pickled code leaves the marker."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "pytorch-lightning_version": "2.6.0", "global_step": 0,
                "hyper_parameters": {"video_tokenizer": "x", "_class_path": "seedkit.lit.JointAV"},
                "payload": OpensAFile(marker)}, path)
    probe = tmp_path / "probe.ckpt"  # the same trick, loaded unsafely, proves the file is malicious
    torch.save({"payload": OpensAFile(tmp_path / "probe_marker")}, probe)
    torch.load(probe, weights_only=False)
    assert (tmp_path / "probe_marker").exists()
    return path, marker


def test_a_malicious_checkpoint_runs_no_code_in_any_loader(evil_checkpoint, tiny_tokenizers, tmp_path, capsys):
    path, marker = evil_checkpoint
    from seedkit.callbacks import AtomicCheckpointIO
    from seedkit.tokenizers.checkpoint import CheckpointError
    from seedkit.tokenizers.video import VideoAutoencoder

    assert main(["sample", "--ckpt", str(path), "--text", "red ball", "--out", str(tmp_path / "s")]) == 2
    assert "not a loadable checkpoint" in capsys.readouterr().err
    assert main(tiny_joint_args(tiny_tokenizers, tmp_path / "run") + [f"--ckpt_path={path}"]) == 2
    assert "weights_only=True" in capsys.readouterr().err
    with pytest.raises(CheckpointError):
        VideoAutoencoder.from_checkpoint(path)
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        AtomicCheckpointIO().load_checkpoint(path)
    assert not marker.exists()


def test_weights_only_false_is_refused(tiny_tokenizers, tmp_path, capsys):
    assert main(tiny_joint_args(tiny_tokenizers, tmp_path) + ["--weights_only=false"]) == 2
    assert "weights_only" in capsys.readouterr().err


def test_config_values_are_data_not_code(tiny_tokenizers, tmp_path, capsys):
    marker = tmp_path / "pwned"
    yaml_tag = tmp_path / "tag.yaml"  # a YAML tag that would call open() under an unsafe loader
    yaml_tag.write_text(f"model:\n  init_args:\n    lr: !!python/object/apply:builtins.open ['{marker}', 'w']\n")
    assert main(tiny_joint_args(tiny_tokenizers, tmp_path) + ["--config", str(yaml_tag)]) == 2
    expression = f"__import__('pathlib').Path('{marker}').touch()"  # a string that would run under eval
    assert main(tiny_joint_args(tiny_tokenizers, tmp_path) + [f"--model.clip={expression}"]) == 2
    err = capsys.readouterr().err
    assert "clip must be one of" in err and "Traceback" not in err
    assert main(tiny_joint_args(tiny_tokenizers, tmp_path) + ["--model=subprocess.Popen"]) == 2
    assert "subclass of LightningModule" in capsys.readouterr().err
    assert not marker.exists()


def make_zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps the name exactly as given
    return buf.getvalue()


@pytest.mark.parametrize("evil", ["/tmp/seedkit_abs_escape.txt", "s1/../../escaped.txt", "../escaped.txt",
                                  "s1/./../../../escaped.txt"])
def test_zip_slip_entries_are_refused_and_nothing_is_written(tmp_path, evil):
    from seedkit.data.grid_download import safe_extract

    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip({"s1/bbaf2n.mpg": b"ok", evil: b"owned"}))
    with pytest.raises(ValueError, match="zip-slip"):
        safe_extract(archive, tmp_path / "out" / "grid")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "grid", "out"]
    assert not Path("/tmp/seedkit_abs_escape.txt").exists()


def test_archive_is_checked_against_its_sha256_before_it_is_opened(tmp_path):
    """A kept archive whose bytes differ from the recorded sha256 is deleted unopened: the zip-slip
    entry inside is never even looked at (DownloadError, not the zip-slip ValueError)."""
    from seedkit.data.grid_download import DownloadError, download_grid

    store = tmp_path / ".downloads"
    store.mkdir()
    (store / "s1.zip").write_bytes(make_zip({"../escaped.txt": b"owned"}))
    with pytest.raises(DownloadError, match="sha256 .* does not match"):
        download_grid(tmp_path, base_url="http://127.0.0.1:9", checksums={"s1.zip": "0" * 64},
                      progress=False)
    assert not (store / "s1.zip").exists() and not (tmp_path.parent / "escaped.txt").exists()
