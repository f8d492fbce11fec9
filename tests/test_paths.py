import os
import re
from pathlib import Path

import nbformat
import pytest

from seedkit.paths import enter_kit_folder

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A checkout's layout: pyproject.toml, notebooks/exercises/; the test's cwd is restored after."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'seedkit'\n")
    (tmp_path / "notebooks" / "exercises").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


@pytest.mark.parametrize("start", ["notebooks", "notebooks/exercises", "."])
def test_a_notebook_in_the_kit_works_in_the_kit_folder(kit, start):
    os.chdir(kit / start)
    assert enter_kit_folder() == kit and os.getcwd() == str(kit)


def test_a_notebook_elsewhere_stays_where_it_is(tmp_path, monkeypatch):
    lone = tmp_path / "notebooks"  # a notebooks folder with no kit around it (Colab, a copy)
    lone.mkdir()
    monkeypatch.chdir(lone)
    assert enter_kit_folder() == lone.resolve()


# a path into what the kit writes: "outputs/...", "checkpoints...", "data/cache..." (also `KIT / "outputs/..."`:
# a checkpoint there names its tokenizers relative to the kit's folder)
KIT_RELATIVE = re.compile(r"""(?<![/\w])["'](outputs/|checkpoints|data/cache)""")


def kit_paths_before_entering(path: Path) -> list[str]:
    """Lines of a notebook's code that name a kit-relative path before any `enter_kit_folder()` call."""
    early = []
    for cell in nbformat.read(path, 4).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if "enter_kit_folder()" in line and "import" not in line:
                return early
            if KIT_RELATIVE.search(line.split("#")[0]):
                early.append(line.strip())
    return early


def test_the_check_finds_a_path_used_before_entering(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('ckpt = Path("checkpoints/x.pt")\nenter_kit_folder()'),
                                         nbformat.v4.new_code_cell('out = Path("outputs/demo")')])
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert kit_paths_before_entering(tmp_path / "x.ipynb") == ['ckpt = Path("checkpoints/x.pt")']


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_enter_the_kit_folder_before_using_its_paths(path):
    """Jupyter starts a kernel in notebooks/: a relative `outputs/...` there would miss what
    `make demo` and `seedkit fit` wrote (and train it again into notebooks/)."""
    assert kit_paths_before_entering(path) == []


def test_an_atomic_write_that_dies_leaves_the_old_file_whole_and_nothing_beside_it(tmp_path, monkeypatch):
    from seedkit import paths

    target = tmp_path / "result.json"
    paths.write_text_atomic(target, '{"f1": 0.5}')
    assert target.read_text() == '{"f1": 0.5}' and oct(target.stat().st_mode & 0o777) == "0o644"

    def killed(src, dst):
        raise KeyboardInterrupt  # the job stopped between writing and renaming

    monkeypatch.setattr(paths.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        paths.write_text_atomic(target, '{"f1": 0.9, "half": ')
    monkeypatch.undo()
    assert target.read_text() == '{"f1": 0.5}' and [p.name for p in tmp_path.iterdir()] == ["result.json"]
