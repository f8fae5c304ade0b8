"""Helpers shared by the benchmark scripts: the dataset argument and linked subsets of an image tree."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripts run as `python bench/NAME.py` from the repository root
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "flowers5"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def parser(description: str) -> argparse.ArgumentParser:
    """Return an argument parser with the dataset path (default ../shared/datasets/flowers5)."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "data", nargs="?", type=Path, default=DEFAULT_DATA, help=f"flowers5 folder (default {DEFAULT_DATA})"
    )
    return result


def require_dataset(data: Path) -> None:
    if not (data / "train").is_dir():
        sys.exit(f"no train/ folder under {data}: pass the flowers5 path (see ../shared/datasets/README.md)")


def link_subset(source: Path, target: Path, count: Callable[[str, str, int], int]) -> Path:
    """Symlink the first ``count(split, class, available)`` images of each split/class of ``source`` into ``target``."""
    for split_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            images = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            keep = images[: count(split_dir.name, class_dir.name, len(images))]
            folder = target / split_dir.name / class_dir.name
            folder.mkdir(parents=True, exist_ok=True)
            for image in keep:
                (folder / image.name).symlink_to(image.resolve())
    return target


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
