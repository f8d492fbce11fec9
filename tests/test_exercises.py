"""Exercise notebooks: generated from the solution notebooks, up to date, and failing where they must.

Why running the solution notebooks (nbmake, `make test`) also runs the exercise notebooks with
their solutions injected: `test_injecting_solutions_gives_the_solution_notebook` checks that the
copy differs from its solution only in the stubbed exercise cells and the generator's note, and
that putting the solution cells back gives the solution's cells exactly. See docs/teaching.md.
"""
import ast
import json
import os
from pathlib import Path

import nbformat
import pytest

from seedkit.cli import main
from seedkit.notebooks_tool import (
    NOTE_CELL_ID,
    ExerciseError,
    find_exercises,
    first_exercise_check,
    inject_solutions,
    is_exercise,
    make_exercise_notebook,
    stub_source,
    sync_exercises,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                   if any(is_exercise(c) for c in nbformat.read(p, 4).cells))
# notebooks whose exercises this test file vouches for (other owners add theirs to 02, 03, 06-09)
MIN_EXERCISES = {"04_dual_towers.ipynb": 3, "05_cross_attention.ipynb": 2, "01_data.ipynb": 2}

SOURCE = '''# Exercise: add one
import torch

OFFSET = 1  # stays


@torch.no_grad()
def add_one(x: torch.Tensor,
            k: int = 1) -> torch.Tensor:
    """x [N] -> x + 1."""
    # a hint that must go
    y = x + OFFSET
    return y
    # a trailing hint that must go too

def short(x): return x


class Twice(torch.nn.Module):
    """Doubles."""
    scale = 2

    def forward(self, x):
        return self.scale * x
'''


def _bodies(text: str) -> dict[str, list[str]]:
    out = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef):
            out[node.name] = [ast.unparse(s) for s in node.body]
    return out


def _cell(source, tag=None):
    cell = nbformat.v4.new_code_cell(source)
    if tag:
        cell.metadata["tags"] = [tag]
    return cell


def _solution(extra_cells=()):
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        _cell("import torch"),
        _cell(SOURCE, "exercise"),
        _cell("assert add_one(torch.zeros(1)).item() == 1", "check"),
        *extra_cells,
    ])


# ----------------------------------------------------------------------------------------------
# the generator


def test_stub_replaces_every_body_and_keeps_signatures_decorators_docstrings():
    stub, names = stub_source(SOURCE, "add one")
    assert names == ["add_one", "short", "Twice.forward"]
    todo = ["raise NotImplementedError"]
    assert _bodies(stub) == {"add_one": ["'x [N] -> x + 1.'"] + todo, "short": todo, "forward": todo}
    assert stub.count("# TODO: add one") == 3
    assert "hint" not in stub and "x + OFFSET" not in stub
    for kept in ("OFFSET = 1  # stays", "@torch.no_grad()", "k: int = 1) -> torch.Tensor:",
                 '"""Doubles."""', "scale = 2", "# Exercise: add one"):
        assert kept in stub


def test_stubbed_functions_raise_not_implemented():
    stub, _ = stub_source(SOURCE, "add one")
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["add_one"](None)
    with pytest.raises(NotImplementedError):
        namespace["Twice"]()(1)


@pytest.mark.parametrize("cells, message", [
    ([_cell("def f():\n    return 1", "exercise"), _cell("f()", "check")], "must start with '# Exercise:"),
    ([_cell("# Exercise: x\nx = 1", "exercise"), _cell("x", "check")], "top-level function or class"),
    ([_cell("# Exercise: f\ndef f():\n    return 1", "exercise"), _cell("f()")], "tagged 'check'"),
    ([_cell("# Exercise: f\n%time x = 1\ndef f():\n    return 1", "exercise"), _cell("f()", "check")],
     "plain Python"),
])
def test_exercise_cells_that_break_the_convention_are_named(cells, message):
    nb = nbformat.v4.new_notebook(cells=cells)
    with pytest.raises(ExerciseError, match=message) as err:
        find_exercises(nb, "07_demo.ipynb")
    assert "07_demo.ipynb, cell 0" in str(err.value)


def test_copy_strips_outputs_and_notes_the_tasks():
    solution = _solution()
    solution.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    solution.cells[1].execution_count = 3
    copy = make_exercise_notebook(solution, "99_x.ipynb")
    assert copy.cells[1].id == NOTE_CELL_ID and "add one" in copy.cells[1].source
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in copy.cells if c.cell_type == "code")
    back = inject_solutions(copy, solution)
    assert [c.source for c in back.cells] == [c.source for c in solution.cells]


def test_make_exercises_command_writes_checks_and_removes_stale(tmp_path, capsys):
    nbformat.write(_solution(), tmp_path / "09_x.ipynb")
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path), "--check"]) == 1
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path)]) == 0
    out = tmp_path / "exercises" / "09_x.ipynb"
    assert "raise NotImplementedError" in out.read_text()
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path), "--check"]) == 0
    # a re-serialisation (as Jupyter or nbstripout write) is not a change
    out.write_text(json.dumps(json.loads(out.read_text()), indent=2))
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path), "--check"]) == 0
    # editing the solution makes the copy out of date
    nb = nbformat.read(tmp_path / "09_x.ipynb", 4)
    nb.cells[2].source = nb.cells[2].source.replace("add one", "add exactly one")
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path), "--check"]) == 1
    # a solution without exercises any more: its generated copy is stale and removed
    nb.cells = nb.cells[:2]
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path)]) == 0
    assert not out.exists()
    capsys.readouterr()


def test_make_exercises_reports_a_broken_notebook_as_a_user_error(tmp_path, capsys):
    nbformat.write(nbformat.v4.new_notebook(cells=[_cell("def f():\n    pass", "exercise")]),
                   tmp_path / "03_bad.ipynb")
    assert main(["notebooks", "make-exercises", "--dir", str(tmp_path)]) == 2
    assert "03_bad.ipynb, cell 0" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# the committed notebooks


def test_committed_exercise_copies_are_up_to_date():
    report = sync_exercises(NOTEBOOKS, check=True)
    assert report.up_to_date, (
        f"out of date: {[str(p) for p in report.changed + report.stale]}; "
        "run `seedkit notebooks make-exercises` and commit notebooks/exercises/")


@pytest.mark.parametrize("name, at_least", sorted(MIN_EXERCISES.items()))
def test_notebook_has_its_exercises(name, at_least):
    path = NOTEBOOKS / name
    assert len(find_exercises(nbformat.read(path, 4), name)) >= at_least


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_injecting_solutions_gives_the_solution_notebook(solution):
    sol = nbformat.read(solution, 4)
    copy = nbformat.read(NOTEBOOKS / "exercises" / solution.name, 4)
    cells = [c for c in copy.cells if c.get("id") != NOTE_CELL_ID]
    assert len(cells) == len(sol.cells)
    for ex, so in zip(cells, sol.cells):  # identical apart from the stubbed exercise cells
        assert ex.cell_type == so.cell_type and ex.metadata.get("tags") == so.metadata.get("tags")
        if not is_exercise(ex):
            assert ex.source == so.source
        else:
            for body in _bodies(ex.source).values():
                assert body[-1] == "raise NotImplementedError" and len(body) <= 2
    back = inject_solutions(copy, sol)
    assert [(c.cell_type, c.source) for c in back.cells] == [(c.cell_type, c.source) for c in sol.cells]


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercise_notebook_stops_at_its_first_exercise(solution, monkeypatch):
    """Run the copy up to the check of its first exercise: NotImplementedError there, nowhere before."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("SEEDKIT_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    copy_path = NOTEBOOKS / "exercises" / solution.name
    nb = nbformat.read(copy_path, 4)
    stop = first_exercise_check(nb)
    nb.cells = nb.cells[: stop + 1]
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(copy_path.parent)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    if (err.value.ename == "FileNotFoundError" and "GRID" in str(err.value)
            and not os.environ.get("SEEDKIT_GRID_SOURCE")):
        pytest.skip(f"{solution.name} needs the GRID corpus (SEEDKIT_GRID_SOURCE is not set)")
    assert err.value.ename == "NotImplementedError", err.value
    failed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert failed == [stop], f"errors in cells {failed}, expected only in the first check cell {stop}"
