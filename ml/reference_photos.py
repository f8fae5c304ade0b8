"""A model version's reference photos: the training photos shown beside each class, kept next to its checkpoint."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .models import ModelVersion

logger = logging.getLogger(__name__)


def references_dir(version: ModelVersion) -> Path:
    """Return the folder of the version's reference photos, beside its checkpoint: NAME.references/<class>/<n>.jpg."""
    return Path(version.checkpoint_path).with_suffix(".references")


def copy_references(source: Path, version: ModelVersion) -> int:
    """Copy ``source/<class index>/<n>.jpg`` photos (other files are left) beside the version; return the count."""
    if not source.is_dir():
        return 0
    target, copied = references_dir(version), 0
    shutil.rmtree(target, ignore_errors=True)  # nothing left from an earlier model of the same name
    for photo in sorted(source.glob("*/*.jpg")):
        index, number = photo.parent.name, photo.stem
        if index.isdigit() and int(index) < version.num_classes and number.isdigit():
            (target / index).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(photo, target / index / f"{int(number)}.jpg")
            copied += 1
    logger.info("copied %d reference photos of %s to %s", copied, version.name, target)
    return copied


def reference_numbers(version: ModelVersion, index: int) -> list[int]:
    """Return the numbers of class ``index``'s reference photos, in order ([] when it has none)."""
    folder = references_dir(version) / str(index)
    if not folder.is_dir():
        return []
    return sorted(int(photo.stem) for photo in folder.glob("*.jpg") if photo.stem.isdigit())


def reference_photo(version: ModelVersion, index: int, number: int) -> Path | None:
    """Return the file of reference photo ``number`` of class ``index``, or None when there is none."""
    path = references_dir(version) / str(int(index)) / f"{int(number)}.jpg"
    return path if path.is_file() else None
