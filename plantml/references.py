"""Reference photos: a few training photos per class, kept as small thumbnails beside the model."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import ImageOps, UnidentifiedImageError

from .datasets.provenance import attribution, may_display
from .images import open_image

logger = logging.getLogger(__name__)
REFERENCES = "references"  # the folder of a run directory: references/<class index>/<n>.jpg (+ <n>.json)
THUMBNAIL_PX = 160


def spread(paths: Sequence[Path], count: int) -> list[Path]:
    """Return the sorted ``paths`` reordered so that the first ``count`` are evenly spread over them."""
    ordered = sorted(paths)
    if not ordered or count <= 0:
        return ordered
    picks = sorted({round(i * len(ordered) / count) for i in range(count)} & set(range(len(ordered))))
    return [ordered[i] for i in picks] + [path for i, path in enumerate(ordered) if i not in set(picks)]


def write_reference_photos(
    samples: Sequence[tuple[Path, int]],
    num_classes: int,
    folder: str | Path,
    per_class: int = 3,
    size: int = THUMBNAIL_PX,
    provenance: Mapping[Path, dict[str, str]] | None = None,
) -> int:
    """Write up to ``per_class`` square JPEG thumbnails per class as ``folder/<class index>/<n>.jpg`` (n from 1).

    The choice is deterministic (evenly spread over each class's sorted photos); unreadable photos are
    passed over. With ``provenance`` ({resolved photo path: provenance.csv row}), a photo whose licence does
    not allow showing it is passed over and each thumbnail's author and licence go to ``<n>.json`` beside it.
    The folder is replaced. Returns how many thumbnails were written.
    """
    provenance = provenance or {}
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    by_class: list[list[Path]] = [[] for _ in range(num_classes)]
    for path, label in samples:
        by_class[label].append(Path(path))
    written = 0
    for index, paths in enumerate(by_class):
        number = 0
        for path in spread(paths, per_class):
            if number >= per_class:
                break
            source = provenance.get(path.resolve())
            if source is not None and not may_display(source):
                continue
            try:
                image = open_image(path, min_side=size)
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                logger.warning("reference photo %s skipped: %s", path, exc)
                continue
            number += 1
            target = folder / str(index) / f"{number}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            ImageOps.fit(image, (size, size)).save(target, format="JPEG", quality=85)
            if source is not None:
                target.with_suffix(".json").write_text(json.dumps(attribution(source), ensure_ascii=False))
        written += number
    logger.info("wrote %d reference photos to %s", written, folder)
    return written
