"""Options that several commands share (train, evaluate, calibrate, models compare), declared once with one default.

Each function returns a fresh dataclass field (a field object cannot be shared between classes): a config
declares ``workers: int | None = shared_options.workers()`` and gets the same default, help and check as
every other command.
"""

from __future__ import annotations

from typing import Any

from plantml.device import is_device
from plantml.options import AT_LEAST_0, AT_LEAST_1, Check, existing_dir, existing_file, option

BATCH_SIZE = 32


def workers() -> Any:
    """DataLoader worker processes; None means the CPU cores (at most 8), resolved by ``plantml.data.resolve_workers``."""
    return option(
        None,
        "DataLoader worker processes, 0 = none (default: the CPU cores, at most 8)",
        group="runtime",
        check=AT_LEAST_0,
    )


def device() -> Any:
    """The torch device to run on: auto picks the GPU when there is one."""
    return option("auto", "auto, cpu, cuda or cuda:N", group="runtime", check=(is_device, ""))


def batch_size(help: str = "images per batch", group: str = "runtime", check: Check = AT_LEAST_1) -> Any:
    """Images per batch; training narrows the check (Mixup pairs images) and files it with the recipe."""
    return option(BATCH_SIZE, help, group=group, check=check)


def split_file() -> Any:
    """The training run's split.json, for a tree of class folders without train/ val/ test/."""
    return option(
        help="split.json saved by the training run, for a tree without train/ val/ test/",
        group="data",
        check=existing_file("pass the training run's split.json"),
    )


def reject_data() -> Any:
    """A folder of photos of no plant that fits the 'not a plant' probe."""
    return option(
        help="a folder of photos that show no plant: fits the 'not a plant' probe (optional)",
        group="data",
        check=existing_dir("pass a folder of photos of things that are not plants"),
    )


def unknown_data() -> Any:
    """A folder of photos of plants the model must not claim: the 'not a species this model knows' side."""
    return option(
        help="a folder of photos of plants the model must not claim (species folders or loose photos): fits the "
        "'not a species this model knows' probe and counts as plants for the 'not a plant' probe (optional)",
        group="data",
        check=existing_dir("pass a folder of photos (or species folders) of plants outside the model's classes"),
    )


def checkpoint(help: str = "checkpoint file (.pt) or a registered model's name (`models list`)") -> Any:
    """The positional checkpoint: a file or a registered model's name."""
    return option(help=help, positional=True)
