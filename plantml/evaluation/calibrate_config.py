"""The options of ``manage.py calibrate``, declared once (argparse, YAML and validation follow from them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plantml import shared_options
from plantml.open_set import DEFAULT_ACCEPT_RATE
from plantml.options import existing_dir, option


@dataclass
class CalibrateConfig:
    """Every option of ``manage.py calibrate``, with defaults, help and checks."""

    checkpoint: str | None = shared_options.checkpoint(
        "checkpoint file (.pt) or a registered model's name (`models list`): rewritten in place"
    )
    data: Path | None = option(
        help="the model's data: a tree with a val/ folder (or PlantNet-300K), or class folders with --split-file",
        group="data",
        required="the data whose val split fits the calibration",
        check=existing_dir("pass the folder the model was trained on"),
    )
    split_file: Path | None = shared_options.split_file()
    reject_data: Path | None = shared_options.reject_data()
    unknown_data: Path | None = shared_options.unknown_data()
    accept_rate: float = option(
        DEFAULT_ACCEPT_RATE,
        "share of val photos the threshold accepts as identified",
        group="data",
        check=(lambda v: 0.5 <= v <= 1.0, "must lie between 0.5 and 1.0, e.g. 0.95"),
    )
    # runtime
    batch_size: int = shared_options.batch_size()
    workers: int | None = shared_options.workers()
    device: str = shared_options.device()
