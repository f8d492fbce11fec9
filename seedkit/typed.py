"""Configs and modules check their values when they are built: the types of a dataclass config's
fields (`check_types`), and the ranges of a module's options (`check_at_least`, `check_positive`).

A YAML or command-line slip (`video_dim: wide`, `--model.flow '{p_clean_video: high}'`,
`--model.lr -1`) then fails at once with the option's name and what it expects, instead of a
TypeError deep inside torch, an optimiser's error or a silent run. For types, the declared
annotations are the rule:

* `int` takes an int (numpy's too), not a bool nor a float (a width of 128.5 is a mistake, not a rounding);
* `float` takes an int or a float (YAML reads `10000` as an int), not a bool;
* `bool` and `str` take only themselves;
* `X | None` also takes None; `tuple[...]` / `list[...]` / `dict` take those containers (their items
  unchecked); any other annotation is not checked.
"""
from __future__ import annotations

import dataclasses
import numbers
import types
import typing

__all__ = ["ConfigError", "check_at_least", "check_export_path", "check_positive", "check_types"]


class ConfigError(ValueError):
    """A training config (YAML or --key value) the kit cannot run: one line, no traceback."""


def check_types(config, name: str | None = None) -> None:
    """Raise ValueError naming every field of the dataclass `config` whose value does not have the
    declared type: "DualTowerConfig.video_dim='wide': expected int"."""
    hints = typing.get_type_hints(type(config))
    prefix = name or type(config).__name__
    wrong = [f"{prefix}.{f.name}={getattr(config, f.name)!r}: expected {_describe(hints[f.name])}"
             for f in dataclasses.fields(config)
             if f.name in hints and not _matches(getattr(config, f.name), hints[f.name])]
    if wrong:
        raise ValueError("; ".join(wrong))


def _alternatives(annotation) -> tuple | None:
    """The members of a union (`X | None`, `Optional[X]`), or None for any other annotation."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return None


def _matches(value, annotation) -> bool:
    members = _alternatives(annotation)
    if members is not None:
        return any(_matches(value, m) for m in members)
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:  # numpy's integers too
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    origin = typing.get_origin(annotation) or annotation
    if origin in (tuple, list, dict):
        return isinstance(value, origin)
    return True  # an annotation this check does not know: not checked


def _describe(annotation) -> str:
    members = _alternatives(annotation)
    if members is not None:
        return " or ".join(_describe(m) for m in members)
    if annotation is type(None):
        return "None"
    if annotation is float:
        return "a number"
    return getattr(annotation, "__name__", str(annotation))


def check_at_least(owner: str, low: float, **values) -> None:
    """ValueError naming the first of `values` below `low`: "JointAV(warmup_steps=-5): expected >= 0"
    (checked where the module is built, not where a DataLoader or an optimiser would stop on it)."""
    for name, value in values.items():
        if value < low:
            raise ValueError(f"{owner}({name}={value}): expected >= {low}")


def check_positive(owner: str, **values) -> None:
    """ValueError naming the first of `values` that is not > 0: "JointAV(lr=-1.0): expected > 0"."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{owner}({name}={value}): expected > 0")


def check_export_path(owner: str, path: str | None) -> None:
    """ValueError at once for an `export_path` that the end of fit could not write: a folder, or a
    path below a file (its missing folders are made when it is written)."""
    from pathlib import Path

    from .paths import file_in_the_way

    if path is None:
        return
    if Path(path).is_dir():
        raise ValueError(f"{owner}(export_path={path}): is a folder; expected the checkpoint file's path")
    blocking = file_in_the_way(path)
    if blocking is not None:
        raise ValueError(f"{owner}(export_path={path}): {blocking} is a file, so the checkpoint could not be "
                         "written at the end of fit")
