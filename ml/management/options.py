"""The commands' side of plantml.options: a config dataclass as arguments (with --config), and back as a config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import CommandError

from plantml.options import CONFIG_HELP, ConfigError, add_arguments, resolve

T = TypeVar("T")


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, config_file: bool = True) -> None:
    """Add one argument per field of ``cls`` and, unless ``config_file`` is False, ``--config FILE.yaml``."""
    if config_file:
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
    add_arguments(parser, cls)


def resolve_options(cls: type[T], options: dict[str, Any]) -> T:
    """Return the validated ``cls`` from the command's options and its --config file; a bad value is a CommandError."""
    try:
        return resolve(cls, options, options.get("config"))
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc
