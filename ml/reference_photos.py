"""A model version's reference photos: the training photos shown beside each class, kept next to its checkpoint."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from plantml.references import FEATURES_FILE, ReferenceFeatures

from .models import ModelVersion

logger = logging.getLogger(__name__)


def references_dir(version: ModelVersion) -> Path:
    """Return the folder of the version's reference photos, beside its checkpoint: NAME.references/<class>/<n>.jpg."""
    return Path(version.checkpoint_path).with_suffix(".references")


def copy_references(source: Path, version: ModelVersion) -> int:
    """Copy ``source/<class index>/<n>.jpg`` photos and their ``<n>.json`` attribution (other files are left)
    beside the version; return the count of photos."""
    if not source.is_dir():
        return 0
    target, copied = references_dir(version), 0
    shutil.rmtree(target, ignore_errors=True)  # nothing left from an earlier model of the same name
    for photo in sorted(source.glob("*/*.jpg")):
        index, number = photo.parent.name, photo.stem
        if index.isdigit() and int(index) < version.num_classes and number.isdigit():
            (target / index).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(photo, target / index / f"{int(number)}.jpg")
            if photo.with_suffix(".json").is_file():
                shutil.copyfile(photo.with_suffix(".json"), target / index / f"{int(number)}.json")
            copied += 1
    if copied and (source / FEATURES_FILE).is_file():
        shutil.copyfile(source / FEATURES_FILE, target / FEATURES_FILE)
    logger.info("copied %d reference photos of %s to %s", copied, version.name, target)
    return copied


def reference_numbers(version: ModelVersion, index: int) -> list[int]:
    """Return the numbers of class ``index``'s reference photos, in order ([] when it has none)."""
    folder = references_dir(version) / str(index)
    if not folder.is_dir():
        return []
    return sorted(int(photo.stem) for photo in folder.glob("*.jpg") if photo.stem.isdigit())


def reference_attribution(version: ModelVersion, index: int, number: int) -> dict[str, str]:
    """Return who made reference photo ``number`` of class ``index`` and its licence (creator, rights_holder,
    licence, licence_given, created, url, references; only those known), or {} when nothing is recorded."""
    path = references_dir(version) / str(int(index)) / f"{int(number)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: str(value) for key, value in data.items()} if isinstance(data, dict) else {}


_features_cache: dict[Path, tuple[int, ReferenceFeatures | None]] = {}


def reference_features(version: ModelVersion) -> ReferenceFeatures | None:
    """Return the pooled features of the version's reference photos (None without them), reread when changed."""
    path = references_dir(version) / FEATURES_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _features_cache.get(path)
    if cached is None or cached[0] != stamp:
        cached = _features_cache[path] = (stamp, ReferenceFeatures.load(path))
    return cached[1]


def reference_photo(version: ModelVersion, index: int, number: int) -> Path | None:
    """Return the file of reference photo ``number`` of class ``index``, or None when there is none."""
    path = references_dir(version) / str(int(index)) / f"{int(number)}.jpg"
    return path if path.is_file() else None
