"""Where a notebook works: the kit's folder, as the command line does.

`make demo`, `seedkit fit` and `seedkit data prepare` run in the kit's folder and write
`outputs/`, `checkpoints/` and `data/cache/` there. Jupyter starts a notebook's kernel in the
notebook's own folder (`notebooks/`, or `notebooks/exercises/`), so a notebook that looks for
`outputs/demo` would look in `notebooks/outputs/demo` and train again what the demo already
trained. `enter_kit_folder()` moves the kernel to the kit's folder when it started inside a
source checkout's `notebooks/`; anywhere else (Colab, a notebook copied out) it stays put.

Where outputs go: `file_in_the_way(path)` names a file standing where a folder of `path` would have
to be made, so `--out` and `export_path` are refused before the work instead of failing after it;
`write_atomic` writes a file next to its name and renames it, so a killed job never leaves a torn file
that a rerun would trust (an ablation run's result.json marks that run as done; checkpoints, latents).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["enter_kit_folder", "file_in_the_way", "write_atomic", "write_text_atomic"]


def enter_kit_folder() -> Path:
    """chdir to the kit's folder (the parent of `notebooks/` holding `pyproject.toml`) when the
    working folder lies inside it; return the working folder either way."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if folder.name == "notebooks" and (folder.parent / "pyproject.toml").is_file():
            os.chdir(folder.parent)
            break
    return Path.cwd()


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The first existing file among `path`'s folders (where a folder would have to be made), or None:
    an output folder or an export path below a file can never be written, which is worth saying before
    the work rather than after it."""
    for folder in Path(path).absolute().parents:
        if folder.exists() and not folder.is_dir():
            return folder
    return None


def write_atomic(path: str | os.PathLike, write, prefix: str | None = None, suffix: str = ".part") -> Path:
    """`write(f)` into a hidden file beside `path` (binary, flushed to disk), then rename it to `path`
    (atomic on one file system): readers see the old file or the whole new one, never half of it; a
    failed or killed write leaves `path` as it was. The hidden name is `prefix` (default `.{name}.`),
    random letters, `suffix`."""
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o644)  # mkstemp makes files private; these are ordinary files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """`write_atomic` of a text file (UTF-8)."""
    return write_atomic(path, lambda f: f.write(text.encode()))
