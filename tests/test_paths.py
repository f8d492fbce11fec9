import os

import pytest

from seedkit.paths import enter_kit_folder


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
