"""The evaluation options, declared once (argparse, YAML and validation follow from them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantml import shared_options
from plantml.data import SPLIT_NAMES
from plantml.options import AT_LEAST_1, ConfigError, existing_dir, option

SPLITS = (*SPLIT_NAMES, "all")


def _data() -> Any:
    return option(
        help="ImageFolder tree: train/ val/ test/ folders, or one folder per class",
        group="data",
        required="the ImageFolder tree to evaluate",
        check=existing_dir("pass the ImageFolder tree to use"),
    )


def _split() -> Any:
    return option("test", "images to evaluate", group="data", choices=SPLITS)


def _rows() -> Any:
    return option(20, "per-class rows to print: the worst N", group="output", check=AT_LEAST_1)


@dataclass
class EvaluateConfig:
    """Every option of ``manage.py evaluate``, with defaults, help and checks."""

    checkpoint: str | None = shared_options.checkpoint()
    # data
    data: Path | None = _data()
    split: str = _split()
    split_file: Path | None = shared_options.split_file()
    allow_missing_classes: bool = option(
        False, "evaluate even when some of the checkpoint's classes have no folder in the data", group="data"
    )
    # test-time augmentation
    tta: bool = option(False, "average predictions over horizontal flips and scales", group="test-time augmentation")
    tta_scales: list[float] = option(
        [1.0],
        "zoom factors for --tta, e.g. 1.0 1.15",
        group="test-time augmentation",
        metavar="S",
        check=(lambda scales: all(0.25 <= s <= 4.0 for s in scales), "must lie between 0.25 and 4.0, e.g. 1.0 1.15"),
    )
    # open set
    ood: list[Path] = option(
        [],
        "folders of photos the model should not identify (no plants, or species it does not know: loose photos or "
        "species folders, as --unknown-data): reports AUROC, FPR at 95%% TPR, the share accepted at the stored "
        "threshold and the share answered 'not a plant' per folder; repeat for several",
        group="open set",
        metavar="DIR",
        check=(lambda paths: all(p.is_dir() for p in paths), "{value}: every --ood must be a folder of photos"),
    )
    # output
    output: Path | None = option(
        help="folder for evaluation.json and the plots (default: beside the checkpoint)", group="output"
    )
    top_k: int = option(5, "K of the macro-average top-K accuracy", group="output", check=AT_LEAST_1)
    rows: int = _rows()
    # runtime
    batch_size: int = shared_options.batch_size()
    workers: int | None = shared_options.workers()
    device: str = shared_options.device()

    def cross_check(self) -> None:
        """Raise ConfigError for options that cannot work together."""
        if not self.tta and self.tta_scales != [1.0]:
            raise ConfigError("--tta-scales only applies with --tta: add --tta")


@dataclass
class CompareConfig:
    """Every option of ``manage.py models compare``: evaluate's data, split and runtime options, for two models."""

    name_a: str | None = option(help="the first registered model", positional=True, metavar="NAME_A")
    name_b: str | None = option(
        help="the second registered model, compared with NAME_A", positional=True, metavar="NAME_B"
    )
    # data
    data: Path | None = _data()
    split: str = _split()
    split_file: Path | None = shared_options.split_file()
    # output
    output: Path | None = option(help="keep each model's evaluation.json and plots in OUTPUT/NAME", group="output")
    rows: int = _rows()
    # runtime
    batch_size: int = shared_options.batch_size()
    workers: int | None = shared_options.workers()
    device: str = shared_options.device()
