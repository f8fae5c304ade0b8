"""Reference photos: a few training photos per class, kept as small thumbnails beside the model."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageOps, UnidentifiedImageError

from .datasets.provenance import attribution, may_display
from .decode import open_image

logger = logging.getLogger(__name__)
REFERENCES = "references"  # the folder of a run directory: references/<class index>/<n>.jpg (+ <n>.json)
THUMBNAIL_PX = 160
SOURCES_FILE = "sources.json"  # [[class index, n, source photo path], ...]: what train computes features of
FEATURES_FILE = "features.npz"  # classes, numbers and L2-normalised pooled features of the reference photos
# Photos looked at per reference photo kept: the pool whose features the kept ones are chosen to cover.
CANDIDATES_PER_REFERENCE = 4

Sample = tuple[Path, int]


def spread(paths: Sequence[Path], count: int) -> list[Path]:
    """Return the sorted ``paths`` reordered so that the first ``count`` are evenly spread over them."""
    ordered = sorted(paths)
    if not ordered or count <= 0:
        return ordered
    picks = sorted({round(i * len(ordered) / count) for i in range(count)} & set(range(len(ordered))))
    return [ordered[i] for i in picks] + [path for i, path in enumerate(ordered) if i not in set(picks)]


def reference_candidates(
    samples: Sequence[Sample],
    num_classes: int,
    per_class: int,
    provenance: Mapping[Path, dict[str, str]] | None = None,
) -> list[Sample]:
    """Return up to ``CANDIDATES_PER_REFERENCE * per_class`` photos per class that may be shown, spread evenly."""
    provenance = provenance or {}
    by_class: list[list[Path]] = [[] for _ in range(num_classes)]
    for path, label in samples:
        source = provenance.get(Path(path).resolve())
        if source is None or may_display(source):
            by_class[label].append(Path(path))
    pool = CANDIDATES_PER_REFERENCE * per_class
    return [(path, index) for index, paths in enumerate(by_class) for path in spread(paths, pool)[:pool]]


def cover(features: np.ndarray, count: int) -> list[int]:
    """Return up to ``count`` row indices that cover ``features``: the most typical row, then each farthest from those.

    Farthest-point (k-centre) order on cosine distance, so a class photographed by flower, leaf and bark
    gets a reference of each before a second of any; ties go to the earlier row, so the order is repeatable.
    """
    rows = np.asarray(features, dtype=np.float32)
    if len(rows) == 0 or count <= 0:
        return []
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    centre = rows.mean(axis=0)
    chosen = [int(np.argmax(rows @ centre))]
    nearest = 1.0 - rows @ rows[chosen[0]]  # each row's distance to the closest chosen one
    while len(chosen) < min(count, len(rows)):
        nearest[chosen] = -np.inf
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, 1.0 - rows @ rows[pick])
    return chosen


def choose_references(
    samples: Sequence[Sample], features: np.ndarray, per_class: int
) -> tuple[list[Sample], list[int]]:
    """Return each class's ``per_class`` samples that cover its features (in cover order) and their feature rows."""
    by_class: dict[int, list[int]] = {}
    for row, (_, label) in enumerate(samples):
        by_class.setdefault(label, []).append(row)
    chosen: list[int] = []
    for label in sorted(by_class):
        rows = by_class[label]
        chosen.extend(rows[i] for i in cover(features[rows], per_class))
    return [samples[row] for row in chosen], chosen


def write_reference_photos(
    samples: Sequence[Sample],
    num_classes: int,
    folder: str | Path,
    per_class: int = 3,
    size: int = THUMBNAIL_PX,
    provenance: Mapping[Path, dict[str, str]] | None = None,
    ordered: bool = False,
) -> int:
    """Write up to ``per_class`` square JPEG thumbnails per class as ``folder/<class index>/<n>.jpg`` (n from 1).

    The choice is deterministic: evenly spread over each class's sorted photos or, with ``ordered``, the
    first of each class in the order given (as ``choose_references`` returns them); unreadable photos are
    passed over. With ``provenance`` ({resolved photo path: provenance.csv row}), a photo whose licence does
    not allow showing it is passed over and each thumbnail's author and licence go to ``<n>.json`` beside it.
    The folder is replaced. Returns how many thumbnails were written.
    """
    provenance = provenance or {}
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    sources: list[list[int | str]] = []
    by_class: list[list[Path]] = [[] for _ in range(num_classes)]
    for path, label in samples:
        by_class[label].append(Path(path))
    written = 0
    for index, paths in enumerate(by_class):
        number = 0
        for path in paths if ordered else spread(paths, per_class):
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
            sources.append([index, number, str(path.resolve())])
        written += number
    if sources:
        (folder / SOURCES_FILE).write_text(json.dumps(sources))
    logger.info("wrote %d reference photos to %s", written, folder)
    return written


def reference_sources(folder: str | Path) -> list[tuple[int, int, Path]]:
    """Return (class index, number, source photo) of each reference photo written to ``folder`` ([] if none)."""
    try:
        rows = json.loads((Path(folder) / SOURCES_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [(int(index), int(number), Path(path)) for index, number, path in rows]


def save_reference_features(
    folder: str | Path, classes: Sequence[int], numbers: Sequence[int], features: np.ndarray
) -> Path:
    """Write reference photos' pooled features (one row per (class, number)), L2-normalised, as float16."""
    features = np.asarray(features, dtype=np.float32)
    features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    path = Path(folder) / FEATURES_FILE
    np.savez(
        path,
        classes=np.asarray(classes, dtype=np.int32),
        numbers=np.asarray(numbers, dtype=np.int32),
        features=features.astype(np.float16),
    )
    return path


class ReferenceFeatures:
    """The pooled features of a model's reference photos, to rank a class's photos by likeness to a user's."""

    def __init__(self, classes: np.ndarray, numbers: np.ndarray, features: np.ndarray) -> None:
        self.features = features.astype(np.float32)
        order = np.argsort(classes, kind="stable")
        self.classes, self.numbers, self.features = classes[order], numbers[order], self.features[order]
        self.bounds = {int(c): (int(s), int(e)) for c, s, e in _runs(self.classes)}

    @classmethod
    def load(cls, path: str | Path) -> ReferenceFeatures | None:
        """Return the features in ``path`` (features.npz), or None when there is no usable file."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["classes"], data["numbers"], data["features"])
        except (OSError, KeyError, ValueError) as exc:
            if Path(path).exists():
                logger.warning("reference features %s unusable: %s", path, exc)
            return None

    def nearest(self, feature: np.ndarray, index: int, k: int = 3) -> list[int]:
        """Return the numbers of class ``index``'s ``k`` reference photos most like ``feature`` (cosine), best first."""
        if index not in self.bounds or feature is None or len(feature) != self.features.shape[1]:
            return []
        start, end = self.bounds[index]
        query = np.asarray(feature, dtype=np.float32)
        scores = self.features[start:end] @ (query / max(float(np.linalg.norm(query)), 1e-12))
        best = np.argsort(-scores, kind="stable")[:k]
        return [int(self.numbers[start + i]) for i in best]


def _runs(values: np.ndarray) -> Iterator[tuple[Any, int, int]]:
    """Yield (value, start, end) of each run of equal values in a sorted array."""
    if len(values) == 0:
        return
    edges = np.flatnonzero(np.diff(values)) + 1
    starts, ends = np.concatenate([[0], edges]), np.concatenate([edges, [len(values)]])
    for start, end in zip(starts, ends):
        yield values[start], int(start), int(end)
