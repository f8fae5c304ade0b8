"""The options of ``manage.py calibrate``, declared once (argparse, YAML and validation follow from them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plantml.device import is_device
from plantml.open_set import DEFAULT_ACCEPT_RATE
from plantml.options import AT_LEAST_0, AT_LEAST_1, existing_dir, existing_file, option


@dataclass
class CalibrateConfig:
    """Every option of ``manage.py calibrate``, with defaults, help and checks."""

    checkpoint: str | None = option(
        help="checkpoint file (.pt) or a registered model's name (`models list`): rewritten in place",
        positional=True,
    )
    data: Path | None = option(
        help="the model's data: a tree with a val/ folder (or PlantNet-300K), or class folders with --split-file",
        group="data",
        required="the data whose val split fits the calibration",
        check=existing_dir("pass the folder the model was trained on"),
    )
    split_file: Path | None = option(
        help="split.json saved by the training run, for a tree without train/ val/ test/",
        group="data",
        check=existing_file("pass the training run's split.json"),
    )
    reject_data: Path | None = option(
        help="a folder of photos that show no plant: fits the 'not a plant' probe (optional)",
        group="data",
        check=existing_dir("pass a folder of photos of things that are not plants"),
    )
    unknown_data: Path | None = option(
        help="a folder of photos of plants the model must not claim (species folders or loose photos): fits the "
        "'not a species this model knows' probe and counts as plants for the 'not a plant' probe (optional)",
        group="data",
        check=existing_dir("pass a folder of photos (or species folders) of plants outside the model's classes"),
    )
    accept_rate: float = option(
        DEFAULT_ACCEPT_RATE,
        "share of val photos the threshold accepts as identified",
        group="data",
        check=(lambda v: 0.5 <= v <= 1.0, "must lie between 0.5 and 1.0, e.g. 0.95"),
    )
    batch_size: int = option(32, "images per batch", group="runtime", check=AT_LEAST_1)
    workers: int = option(2, "DataLoader worker processes (0 = none)", group="runtime", check=AT_LEAST_0)
    device: str = option("auto", "auto, cpu, cuda or cuda:N", group="runtime", check=(is_device, ""))
