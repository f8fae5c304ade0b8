"""The evaluation options, declared once (argparse, YAML and validation follow from them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plantml.data import SPLIT_NAMES
from plantml.device import is_device
from plantml.options import AT_LEAST_0, AT_LEAST_1, ConfigError, existing_dir, existing_file, option

SPLITS = (*SPLIT_NAMES, "all")


@dataclass
class EvaluateConfig:
    """Every option of ``manage.py evaluate``, with defaults, help and checks."""

    checkpoint: str | None = option(
        help="checkpoint file (.pt) or a registered model's name (`models list`)", positional=True
    )
    # data
    data: Path | None = option(
        help="ImageFolder tree: train/ val/ test/ folders, or one folder per class",
        group="data",
        required="the ImageFolder tree to evaluate",
        check=existing_dir("pass the ImageFolder tree to use"),
    )
    split: str = option("test", "images to evaluate", group="data", choices=SPLITS)
    split_file: Path | None = option(
        help="split.json saved by the training run, for a tree without train/ val/ test/",
        group="data",
        check=existing_file("pass the training run's split.json"),
    )
    allow_missing_classes: bool = option(
        False, "evaluate even when some of the checkpoint's classes have no folder in the data", group="data"
    )
    batch_size: int = option(32, "images per batch", group="data", check=AT_LEAST_1)
    workers: int = option(2, "DataLoader worker processes (0 = none)", group="data", check=AT_LEAST_0)
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
    rows: int = option(20, "per-class rows to print: the worst N", group="output", check=AT_LEAST_1)
    # runtime
    device: str = option("auto", "auto, cpu, cuda or cuda:N", group="runtime", check=(is_device, ""))

    def cross_check(self) -> None:
        """Raise ConfigError for options that cannot work together."""
        if not self.tta and self.tta_scales != [1.0]:
            raise ConfigError("--tta-scales only applies with --tta: add --tta")
