"""Options declared once, as dataclass fields; the argparse parser, YAML loading and validation follow from them.

A new option is one field: ``name: int = option(3, "what it does", group="recipe", check=AT_LEAST_1)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")
# (predicate on a given value, message after "--name "); a predicate may raise ValueError with its own message
Check = tuple[Callable[[Any], bool], str]


CONFIG_HELP = "YAML file of option defaults (command-line options win)"


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the option and the fix."""


# common checks; the message follows "--option-name " and is followed by ", got VALUE"
AT_LEAST_0: Check = (lambda v: v >= 0, "must be 0 or more")
AT_LEAST_1: Check = (lambda v: v >= 1, "must be at least 1")
OPEN_UNIT: Check = (lambda v: 0 < v < 1, "must be in (0, 1)")
UNIT: Check = (lambda v: 0 <= v < 1, "must be in [0, 1)")


def existing_dir(fix: str) -> Check:
    """Return the check that a path is a folder; ``fix`` says what to pass instead."""
    return (Path.is_dir, "{value} is not a folder: " + fix)


def existing_file(fix: str) -> Check:
    """Return the check that a path is a file; ``fix`` says what to pass instead."""
    return (Path.is_file, "{value} does not exist: " + fix)


def option(
    default: Any = None,
    help: str = "",
    *,
    group: str = "options",
    choices: tuple | None = None,
    check: Check | None = None,
    required: str | None = None,
    positional: bool = False,
    metavar: str | None = None,
) -> Any:
    """Return a dataclass field carrying its command-line help, group, choices and validation.

    ``check`` is (predicate, message) applied to a given (non-None) value; ``required`` is the message
    shown when the option is missing; a ``{value}`` in either message is replaced by the value.
    """
    metadata = dict(
        help=help, group=group, choices=choices, check=check, required=required, positional=positional, metavar=metavar
    )
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag(name: str) -> str:
    """Return the command-line spelling of a field name: ``head_lr`` -> ``--head-lr``."""
    return "--" + name.replace("_", "-")


def _value_type(cls: type, name: str) -> tuple[type, bool]:
    """Return (element type, is a list) of a field, with ``| None`` removed."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True
    return hint, False


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one argument per field of ``cls``, grouped; options not given stay absent (argparse.SUPPRESS)."""
    defaults = cls()
    groups: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        meta, kind, many = field.metadata, *_value_type(cls, field.name)
        default = getattr(defaults, field.name)
        shown = " ".join(map(str, default)) if many else default
        help_text = meta["help"] + (f" (default {shown})" if default not in (None, False, []) else "")
        if meta["positional"]:
            parser.add_argument(field.name, type=kind, help=help_text, metavar=meta["metavar"])
            continue
        group = groups.get(meta["group"]) or groups.setdefault(meta["group"], parser.add_argument_group(meta["group"]))
        kwargs: dict[str, Any] = dict(dest=field.name, default=argparse.SUPPRESS, help=help_text)
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            # choices are shown, not enforced here: validate() refuses a bad value with the same message as in YAML
            choices = meta["choices"] and "{" + ",".join(map(str, meta["choices"])) + "}"
            kwargs.update(type=kind, metavar=meta["metavar"] or choices, nargs="+" if many else None)
            if many:  # --extra-data A B and --extra-data A --extra-data B alike
                kwargs["action"] = "extend"
        group.add_argument(flag(field.name), **kwargs)


def _coerce(cls: type, name: str, value: Any) -> Any:
    """Return ``value`` as the field's type, or raise ConfigError saying which type it needs."""
    if value is None:
        return None
    kind, many = _value_type(cls, name)
    if many:
        values = value if isinstance(value, (list, tuple)) else [value]
        return [_coerce_one(kind, name, v) for v in values]
    return _coerce_one(kind, name, value)


def _coerce_one(kind: type, name: str, value: Any) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{flag(name)} is on or off: write true or false, got {value!r}")
        return value
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{flag(name)} must be a number, got {value!r}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"{flag(name)} must be a whole number, got {value!r}")
    return kind(value)


def read_yaml(path: Path, cls: type) -> dict[str, Any]:
    """Return the options in a YAML file (keys may use - or _); unknown keys are refused."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"--config {path} does not exist: check the path") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config {path} is not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path} must be a mapping of option: value")
    options = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(
            f"--config {path}: unknown option(s) {', '.join(unknown)}; valid ones are the long options of --help"
        )
    return options


def resolve(cls: type[T], options: dict[str, Any], config_file: Path | None = None) -> T:
    """Return a validated ``cls``: field defaults, then the YAML file, then ``options`` (given, non-None ones)."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = read_yaml(config_file, cls) if config_file else {}
    values.update({k: v for k, v in options.items() if k in names and v is not None})
    config = cls(**{k: _coerce(cls, k, v) for k, v in values.items()})
    validate(config)
    return config


def _fail(message: str, value: Any) -> None:
    raise ConfigError(message.replace("{value}", str(value)))


def validate(config: Any) -> None:
    """Raise ConfigError for the first field that is missing, not a choice or fails its check; then cross-checks."""
    for field in dataclasses.fields(config):
        meta, value, name = field.metadata, getattr(config, field.name), flag(field.name)
        if value is None:
            if meta.get("required"):
                _fail(f"{name} is required: {meta['required']}", value)
            continue
        if meta.get("choices") and value not in meta["choices"]:
            _fail(f"{name} must be one of {', '.join(map(str, meta['choices']))}, got {value!r}", value)
        if meta.get("check"):
            predicate, message = meta["check"]
            try:
                ok = predicate(value)
            except ValueError as exc:  # a check that explains itself (e.g. the device)
                raise ConfigError(str(exc)) from exc
            if not ok:
                _fail(f"{name} {message}" + ("" if "{value}" in message else f", got {value!r}"), value)
    cross_check = getattr(config, "cross_check", None)
    if cross_check is not None:
        cross_check()


def to_plain_dict(config: Any) -> dict[str, Any]:
    """Return YAML/JSON-safe values of a config dataclass (paths as strings)."""
    return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
