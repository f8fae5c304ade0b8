"""The ImageFolder layout: one sub-folder of images per class."""

from __future__ import annotations

import logging
from pathlib import Path

from .scan import ScanCache, list_images
from .splits import Sample

logger = logging.getLogger(__name__)


def class_folders(root: Path) -> list[str]:
    """Return the sorted names of the (non-hidden) sub-folders of ``root``."""
    return sorted(p.name for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_image_folder(
    root: Path, class_names: list[str] | None = None, cache: ScanCache | None = None
) -> tuple[list[Sample], list[str], list[tuple[Path, str]]]:
    """Return (samples, class names, skipped empty files) of an ImageFolder tree; files are checked when loaded."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no image folder at {root}: pass a directory with one sub-folder per class")
    if class_names is None:
        class_names = class_folders(root)
    if not class_names:
        raise ValueError(f"{root} has no class sub-folders: put each class's images in root/<class name>/")
    cache = cache if cache is not None else ScanCache(root)
    samples: list[Sample] = []
    skipped: list[tuple[Path, str]] = []
    for label, name in enumerate(class_names):
        # a split may lack a class (e.g. a small val/): the folder lists nothing and the class index still holds
        images, empty = list_images(root / name, cache)
        samples += [(path, label) for path in images]
        skipped += empty
    for path, reason in skipped:
        logger.warning("skipping %s: %s", path, reason)
    return samples, list(class_names), skipped
