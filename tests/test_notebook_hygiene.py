"""Committed notebooks are clean: no outputs, the kit's kernel, ruff-clean (package and notebooks)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _committed_notebooks() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
        paths = [ROOT / p for p in out]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every notebook
        paths = sorted(ROOT.glob("notebooks/**/*.ipynb"))
    return [p for p in paths if p.exists()]


NOTEBOOKS = _committed_notebooks()


def test_there_are_notebooks_to_check():
    assert len([p for p in NOTEBOOKS if p.parent.name == "notebooks"]) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `nbstripout --keep-id {path}`"
    assert "widgets" not in nb["metadata"], f"{path.name}: saved widget state; run nbstripout"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_ruff_passes_on_package_tests_and_notebooks():
    ruff = Path(sys.executable).with_name("ruff")
    cmd = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    res = subprocess.run([*cmd, "check", "--output-format", "concise", "seedkit", "tests", "tools",
                          "notebooks"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
