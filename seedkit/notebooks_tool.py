"""Exercise notebooks generated from the solution notebooks.

The convention (shared by every notebook in `notebooks/`):

* a code cell tagged `exercise` starts with the line `# Exercise: <task text>` and defines one or
  more top-level functions or classes;
* the next code cell is tagged `check`: it tests the student's version against the package's
  (the solution notebooks build a component from scratch and check it equals the package's).

`make_exercise_notebook` copies a solution notebook with every function body in an exercise cell
(and every method body of a class there) replaced by `# TODO: <task text>` and
`raise NotImplementedError`; signatures, decorators and docstrings stay, outputs are stripped,
every other cell is copied unchanged. `inject_solutions` puts the solution cells back, and gives
the solution notebook again (tests check this), so running the solution notebook *is* running the
exercise notebook with its solutions injected. `seedkit notebooks make-exercises` writes the
copies to `notebooks/exercises/`.
"""
from __future__ import annotations

import ast
import copy
import io
import json
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

EXERCISE_TAG = "exercise"  # cell tag: this cell's functions become stubs
CHECK_TAG = "check"  # cell tag: tests the functions of the exercise cell before it
NOTE_CELL_ID = "exercise-note"  # id of the markdown note the generator adds to each copy
TASK_PREFIX = "# Exercise:"  # first line of an exercise cell: `# Exercise: <task text>`
EXERCISES_DIR = "exercises"  # sub-folder of the notebooks folder that holds the copies


class ExerciseError(ValueError):
    """A solution notebook breaks the exercise convention (names the notebook, cell and rule)."""


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_exercise(cell) -> bool:
    return cell.cell_type == "code" and EXERCISE_TAG in _tags(cell)


def is_check(cell) -> bool:
    return cell.cell_type == "code" and CHECK_TAG in _tags(cell)


def task_text(source: str, where: str) -> str:
    """The task of an exercise cell: its first line must be `# Exercise: <task text>`."""
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith(TASK_PREFIX) or not first[len(TASK_PREFIX):].strip():
        raise ExerciseError(f"{where}: an exercise cell must start with '{TASK_PREFIX} <task text>', "
                            f"got {first[:60]!r}")
    return first[len(TASK_PREFIX):].strip()


# ----------------------------------------------------------------------------------------------
# stubbing one cell


class _Source:
    """Cell source with conversions from ast positions (1-based line, UTF-8 byte column)."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, byte_col: int) -> int:
        if line > len(self.lines):
            return len(self.text)
        return self.starts[line - 1] + len(self.lines[line - 1].encode()[:byte_col].decode())

    def char_offset(self, line: int, char_col: int) -> int:  # tokenize counts characters
        return self.starts[line - 1] + char_col


def _header_end(src: _Source, tokens: list[tokenize.TokenInfo], node) -> int:
    """Offset just after the `:` that ends a def's header (signature and return annotation)."""
    depth, seen_def = 0, False
    for tok in tokens:
        if tok.start[0] < node.lineno:
            continue
        if not seen_def:
            seen_def = tok.type == tokenize.NAME and tok.string == "def"
            continue
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.OP and tok.string == ":" and depth == 0:
            return src.char_offset(*tok.end)
    raise AssertionError(f"no header colon for {node.name}")  # unreachable for parsed code


def _body_end(src: _Source, node) -> int:
    """Offset of the end of a def, extended over comment lines indented inside it."""
    end = src.offset(node.end_lineno, node.end_col_offset)
    line = node.end_lineno  # 1-based; src.lines[line] is the next line
    while line < len(src.lines):
        text = src.lines[line]
        stripped = text.strip()
        indent = len(text) - len(text.lstrip())
        if stripped and not (stripped.startswith("#") and indent > node.col_offset):
            break
        if stripped:  # an indented comment after the last statement still belongs to the body
            end = src.starts[line] + len(text.rstrip("\r\n"))
        line += 1
    return end


def _functions(nodes) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions and the methods of top-level classes (nested classes included)."""
    found = []
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found.extend(_functions(node.body))
    return found


def _docstring_node(node):
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def stub_source(source: str, task: str, where: str = "cell") -> tuple[str, list[str]]:
    """Replace every function body (and method body) of `source` by a TODO and a raise.

    Returns the new source and the names of the stubbed functions (`Class.method` for methods).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ExerciseError(f"{where}: an exercise cell must be plain Python (no magics): {e}") from e
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body):
        raise ExerciseError(f"{where}: an exercise cell must define a top-level function or class")
    funcs = _functions(tree.body)
    if not funcs:
        raise ExerciseError(f"{where}: the exercise cell's classes have no method to fill in")
    src = _Source(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits = []
    for fn in funcs:
        doc = _docstring_node(fn)
        start = src.offset(doc.end_lineno, doc.end_col_offset) if doc else _header_end(src, tokens, fn)
        first = fn.body[0]
        on_own_line = not src.lines[first.lineno - 1].encode()[:first.col_offset].decode().strip()
        indent = " " * (first.col_offset if on_own_line else fn.col_offset + 4)
        body = f"\n{indent}# TODO: {task}\n{indent}raise NotImplementedError"
        if doc and doc.lineno == fn.lineno:  # `def f(): "doc"` on one line: move the doc down
            start = _header_end(src, tokens, fn)
            doc_text = source[src.offset(doc.lineno, doc.col_offset): src.offset(doc.end_lineno,
                                                                                  doc.end_col_offset)]
            body = f"\n{indent}{doc_text}" + body
        edits.append((start, _body_end(src, fn), body))
    text = source
    for start, end, body in sorted(edits, reverse=True):
        text = text[:start] + body + text[end:]
    ast.parse(text)  # the stub must still be valid Python
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            names.extend(f"{node.name}.{f.name}" for f in _functions(node.body))
    return text, names


# ----------------------------------------------------------------------------------------------
# whole notebooks


@dataclass
class Exercise:
    """One exercise: its cell index in the solution notebook, task and stubbed functions."""

    cell: int  # index of the exercise cell in the solution notebook
    check_cell: int  # index of the check cell that tests it
    task: str  # the task text from `# Exercise: ...`
    names: list[str] = field(default_factory=list)  # functions (and Class.method) stubbed


def find_exercises(nb, name: str = "notebook") -> list[Exercise]:
    """The exercises of a solution notebook, validated against the convention."""
    found = []
    for i, cell in enumerate(nb.cells):
        if not is_exercise(cell):
            continue
        where = f"{name}, cell {i}"
        task = task_text(cell.source, where)
        _, names = stub_source(cell.source, task, where)
        nxt = next((j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"), None)
        if nxt is None or not is_check(nb.cells[nxt]):
            raise ExerciseError(f"{where}: the code cell after an exercise cell must be tagged "
                                f"'{CHECK_TAG}' (it tests the student's version against the package)")
        found.append(Exercise(cell=i, check_cell=nxt, task=task, names=names))
    return found


def _stripped(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
        cell.metadata.pop(key, None)
    return cell


def _note(name: str, exercises: list[Exercise]):
    tasks = "\n".join(f"{k + 1}. {e.task} (`{'`, `'.join(e.names)}`)" for k, e in enumerate(exercises))
    cell = nbformat.v4.new_markdown_cell(
        f"> **Exercise copy** of [`../{name}`](../{name}), written by `seedkit notebooks "
        "make-exercises` (edit the solution notebook and regenerate; do not edit this copy in git).\n"
        ">\n> Every cell that starts with `# Exercise:` has functions to fill in: replace each "
        "`raise NotImplementedError`, then run the cell after it, which checks your version against "
        "the package's. Until then the notebook stops at the first exercise.\n\n"
        f"**Exercises**\n\n{tasks}")
    cell["id"] = NOTE_CELL_ID
    return cell


def make_exercise_notebook(solution, name: str):
    """The exercise copy of a solution notebook (`name`: its file name, for links and errors)."""
    exercises = find_exercises(solution, name)
    if not exercises:
        raise ExerciseError(f"{name}: no cell is tagged '{EXERCISE_TAG}'")
    nb = copy.deepcopy(solution)
    nb.cells = [_stripped(c) for c in solution.cells]
    for e in exercises:
        nb.cells[e.cell].source, _ = stub_source(solution.cells[e.cell].source, e.task,
                                                 f"{name}, cell {e.cell}")
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0  # after the title
    nb.cells.insert(at, _note(name, exercises))
    nb.metadata["seedkit"] = {"exercises_from": f"../{name}"}
    return nb


def inject_solutions(exercise_nb, solution_nb):
    """The exercise copy with its solution cells put back (and the generator's note removed)."""
    cells = [c for c in exercise_nb.cells if c.get("id") != NOTE_CELL_ID]
    if len(cells) != len(solution_nb.cells):
        raise ExerciseError("the exercise copy and the solution notebook differ in length: regenerate")
    nb = copy.deepcopy(exercise_nb)
    nb.cells = [copy.deepcopy(sol) if is_exercise(ex) else copy.deepcopy(ex)
                for ex, sol in zip(cells, solution_nb.cells)]
    nb.metadata.pop("seedkit", None)
    return nb


def first_exercise_check(exercise_nb) -> int:
    """Index (in the exercise copy) of the check cell of its first exercise."""
    first = next(i for i, c in enumerate(exercise_nb.cells) if is_exercise(c))
    return next(j for j in range(first + 1, len(exercise_nb.cells)) if is_check(exercise_nb.cells[j]))


# ----------------------------------------------------------------------------------------------
# the folder


def _text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def expected_exercises(notebooks_dir: str | Path) -> dict[Path, str]:
    """{exercise path: its text} for every solution notebook with at least one exercise cell."""
    root = Path(notebooks_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"notebooks folder {root} does not exist")
    out = {}
    for path in sorted(root.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(is_exercise(c) for c in nb.cells):
            out[root / EXERCISES_DIR / path.name] = _text(make_exercise_notebook(nb, path.name))
    return out


def _generated(path: Path) -> bool:
    try:
        return "exercises_from" in json.loads(path.read_text()).get("metadata", {}).get("seedkit", {})
    except (OSError, ValueError):
        return False


@dataclass
class ExerciseReport:
    """What `sync_exercises` found or did: paths written/out of date, created, removed."""

    changed: list[Path] = field(default_factory=list)  # differ from their solution notebook
    unchanged: list[Path] = field(default_factory=list)  # already up to date
    stale: list[Path] = field(default_factory=list)  # generated copies without a solution any more

    @property
    def up_to_date(self) -> bool:
        return not self.changed and not self.stale


def sync_exercises(notebooks_dir: str | Path, check: bool = False) -> ExerciseReport:
    """Regenerate `notebooks_dir/exercises/` (or, with check=True, only report what differs).

    Copies are compared as JSON, so a re-serialisation (nbstripout, Jupyter) is not a change.
    """
    root = Path(notebooks_dir)
    expected = expected_exercises(root)
    report = ExerciseReport()
    for path, text in expected.items():
        same = path.exists() and json.loads(path.read_text()) == json.loads(text)
        (report.unchanged if same else report.changed).append(path)
        if not same and not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in sorted((root / EXERCISES_DIR).glob("*.ipynb")):
        if path not in expected and _generated(path):
            report.stale.append(path)
            if not check:
                path.unlink()
    return report
