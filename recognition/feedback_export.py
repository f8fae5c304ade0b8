"""Consenting users' confirmed or corrected photos, written out as an ImageFolder for the next training run."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import QuerySet

from ml.models import ModelVersion

from .models import Identification
from .where_when import without_gps

PROVENANCE_FILE = "provenance.csv"
PROVENANCE_COLUMNS = [
    "file",
    "class",
    "identification_id",
    "photo_id",
    "model_version",
    "original_top1",
    "original_probability",
    "feedback",
    "feedback_date",
]


class ExportError(ValueError):
    """An export that cannot be written; the message says what to do."""


@dataclass
class ExportResult:
    """What an export wrote: photos per class, the provenance file, and what it left out and why."""

    output: Path
    provenance: Path
    photos_per_class: dict[str, int] = field(default_factory=dict)
    identifications: int = 0
    left_out: list[str] = field(default_factory=list)

    @property
    def photos(self) -> int:
        return sum(self.photos_per_class.values())


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name).strip().casefold()


def folder_name(species: str) -> str:
    """Return a class folder name for a species the models do not know yet ('Rosa rugosa' -> 'rosa_rugosa')."""
    return re.sub(r"[^\w-]+", "_", species.strip().casefold()).strip("_") or "unnamed"


def known_names() -> dict[str, str]:
    """Return {normalised class or display name: class name} over every registered model version, newest first."""
    names: dict[str, str] = {}
    for version in ModelVersion.objects.order_by("-created"):
        for class_name, display_name in zip(version.class_names, version.display_names or version.class_names):
            names.setdefault(_key(class_name), class_name)
            names.setdefault(_key(display_name), class_name)
    return names


def class_of(identification: Identification, names: dict[str, str]) -> str:
    """Return the class folder of an identification's feedback: the confirmed label, or the corrected species
    mapped to a known class when its name matches one, else a new folder named after it."""
    if identification.feedback_label:
        return identification.feedback_label
    return names.get(_key(identification.feedback_text)) or folder_name(identification.feedback_text)


def consented_feedback(since: dt.date | None = None) -> QuerySet[Identification]:
    """Return finished identifications with feedback from users who let confirmed photos improve the model."""
    queryset = Identification.objects.filter(
        status=Identification.Status.DONE,
        feedback_at__isnull=False,
        owner__preferences__share_confirmed_photos=True,
    ).exclude(feedback_label="", feedback_text="")
    if since is not None:
        queryset = queryset.filter(feedback_at__date__gte=since)
    return queryset.select_related("model_version").prefetch_related("photos", "candidates").order_by("pk")


def export_feedback(output: Path, *, since: dt.date | None = None, min_agreement: int = 1) -> ExportResult:
    """Write consenting users' confirmed or corrected photos under ``output/<class>/`` plus provenance.csv.

    A class is written only when at least ``min_agreement`` identifications name it, so one stray
    correction does not become a class of its own.
    """
    output = Path(output)
    if min_agreement < 1:
        raise ExportError(f"--min-agreement must be 1 or more, got {min_agreement}")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ExportError(f"{output} exists and is not an empty folder: choose a new --output folder")
    names = known_names()
    by_class: dict[str, list[Identification]] = defaultdict(list)
    for identification in consented_feedback(since):
        by_class[class_of(identification, names)].append(identification)
    output.mkdir(parents=True, exist_ok=True)
    result = ExportResult(output=output, provenance=output / PROVENANCE_FILE)
    with result.provenance.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROVENANCE_COLUMNS)
        for class_name, identifications in sorted(by_class.items()):
            if len(identifications) < min_agreement:
                result.left_out.append(
                    f"{class_name}: {len(identifications)} identification(s), fewer than --min-agreement {min_agreement}"
                )
                continue
            for identification in identifications:
                _write_photos(identification, class_name, output, writer, result)
    return result


def _write_photos(identification: Identification, class_name: str, output: Path, writer, result: ExportResult) -> None:
    best = identification.best
    folder = output / class_name
    written = 0
    for photo in identification.photos.all():
        target = folder / f"identification{identification.pk}-photo{photo.pk}.jpg"
        try:
            with photo.file.open("rb") as source:
                data = source.read()
        except FileNotFoundError:
            result.left_out.append(f"{target.name}: the stored photo {photo.file.name} is missing")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        # keeping the location was consent to storing it, not to sharing it in a training set
        target.write_bytes(without_gps(data) if photo.location_kept else data)
        written += 1
        writer.writerow(
            [
                target.relative_to(output).as_posix(),
                class_name,
                identification.pk,
                photo.pk,
                identification.model_version.name if identification.model_version else "",
                best.label if best else "",
                f"{best.probability:.6f}" if best else "",
                identification.feedback_label or identification.feedback_text,
                identification.feedback_at.isoformat(),
            ]
        )
    if written:
        result.identifications += 1
        result.photos_per_class[class_name] = result.photos_per_class.get(class_name, 0) + written
