"""Reading a YAML config file that a user names, with errors that name it.

`yaml.safe_load(path.read_text())` fails on a binary or malformed file with a decoder's or a
parser's message that does not say which file; `read_yaml` says it, and what it expected.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["read_yaml"]


def read_yaml(path: str | Path, what: str = "config") -> dict:
    """The mapping a YAML file holds (an empty file: {}). FileNotFoundError for a missing file;
    ValueError naming the file for one that is not UTF-8 YAML text or not a mapping."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file; expected a YAML {what}") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({str(e).splitlines()[0]}); expected a YAML {what}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of {what} options, got {type(data).__name__}")
    return data
