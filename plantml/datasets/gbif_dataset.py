"""``build_gbif_dataset``: a GBIF Darwin Core Archive made into an ImageFolder with provenance and species facts."""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .downloads import Downloader, DownloadOptions, Fetched
from .gbif import Photo, folder_name, occurrence_order, read_archive_photos
from .licences import DEFAULT_LICENCES
from .provenance import PROVENANCE_FILE, write_provenance
from .splits import SPLIT_NAMES

logger = logging.getLogger(__name__)

DOWNLOADS = "downloads"  # DIR/downloads/<media id>.<suffix>: every photo fetched, kept for the next run
SPECIES_FILE = "species.csv"
FAILURES_FILE = "failures.csv"
MAX_ROUNDS = 5  # rounds of replacements for photos that failed or were duplicates


@dataclass(frozen=True)
class GbifOptions:
    """What to keep and how to split: licences, photos per species (min, max), seed, val and test fractions."""

    licences: tuple[str, ...] = DEFAULT_LICENCES
    min_per_species: int = 1
    max_per_species: int | None = None
    seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    download: DownloadOptions = field(default_factory=DownloadOptions)


@dataclass
class BuildReport:
    """What a build made and what it could not: counts per split, failures with reasons, duplicates, skips."""

    output: Path
    species: list[str] = field(default_factory=list)  # the class folders written
    split_counts: dict[str, int] = field(default_factory=dict)
    downloaded: int = 0
    reused: int = 0
    failures: list[tuple[Photo, str]] = field(default_factory=list)
    duplicates: list[tuple[Photo, Photo]] = field(default_factory=list)  # (dropped, the photo it repeats)
    skipped: Counter = field(default_factory=Counter)  # archive rows passed over, by reason
    too_few: dict[str, int] = field(default_factory=dict)  # species left out: folder -> photos had

    def failure_reasons(self) -> Counter:
        """Return how many photos failed for each reason."""
        return Counter(reason for _, reason in self.failures)


def build_gbif_dataset(archive: str | Path, output: str | Path, options: GbifOptions) -> BuildReport:
    """Download ``archive``'s usable photos into ``output/downloads`` (resuming) and lay out ``output`` as
    train/ val/ test/<species folder>/ with provenance.csv, species.csv and failures.csv beside them."""
    output = Path(output)
    offered = read_archive_photos(archive, options.licences, options.seed)
    _check_output(output)
    report = BuildReport(output=output, skipped=offered.skipped)
    kept = _download_photos(offered.photos, Downloader(output / DOWNLOADS, options.download), options, report)
    rows, species_rows = [], []
    for split in SPLIT_NAMES:
        shutil.rmtree(output / split, ignore_errors=True)  # laid out afresh: the same input gives the same tree
    for key, photos in kept.items():
        info = offered.species[key]
        folder = folder_name(info)
        if len(photos) < options.min_per_species:
            report.too_few[folder] = len(photos)
            continue
        report.species.append(folder)
        species_rows.append(
            {
                "folder": folder,
                "scientific_name": info.scientific_name,
                "authorship": info.authorship,
                "genus": info.genus,
                "family": info.family,
                "gbif_id": info.gbif_id,
            }
        )
        splits = split_by_occurrence([photo for photo, _ in photos], options)
        for (photo, fetched), split in zip(photos, splits):
            relative = Path(split) / folder / fetched.path.name
            _link(fetched.path, output / relative)
            report.split_counts[split] = report.split_counts.get(split, 0) + 1
            rows.append({**_provenance(photo), "file": relative.as_posix(), "sha256": fetched.sha256})
    write_provenance(rows, output)
    _write_csv(
        output / SPECIES_FILE, ("folder", "scientific_name", "authorship", "genus", "family", "gbif_id"), species_rows
    )
    _write_csv(
        output / FAILURES_FILE,
        ("url", "occurrence_id", "media_id", "reason"),
        [{**_provenance(photo), "reason": reason} for photo, reason in report.failures]
        + [{**_provenance(photo), "reason": f"duplicate of {first.media_id}"} for photo, first in report.duplicates],
    )
    return report


def _check_output(output: Path) -> None:
    """Refuse an output folder that holds an ImageFolder this command did not make (it would be replaced)."""
    if any((output / split).exists() for split in SPLIT_NAMES) and not (output / PROVENANCE_FILE).is_file():
        raise FileExistsError(
            f"{output} already holds train/ val/ or test/ folders that `dataset gbif` did not make "
            "(no provenance.csv): choose a new --output folder"
        )
    output.mkdir(parents=True, exist_ok=True)


def _download_photos(
    offered: dict[int, list[Photo]], downloader: Downloader, options: GbifOptions, report: BuildReport
) -> dict[int, list[tuple[Photo, Fetched]]]:
    """Return per taxon key up to ``max_per_species`` distinct photos that downloaded and decoded, in candidate
    order; a photo that fails or repeats another is replaced by the species' next candidate."""
    wanted = options.max_per_species
    kept: dict[int, list[tuple[Photo, Fetched]]] = {key: [] for key in offered}
    position = dict.fromkeys(offered, 0)
    seen: dict[str, Photo] = {}  # content hash -> the first photo with it
    for _ in range(MAX_ROUNDS):
        batch: list[Photo] = []
        for key, candidates in offered.items():
            need = len(candidates) if wanted is None else wanted - len(kept[key])
            batch += candidates[position[key] : position[key] + max(0, need)]
            position[key] += max(0, need)
        if not batch:
            break
        results = downloader.fetch_all([(file_key(photo), photo.url) for photo in batch])
        for photo, fetched in zip(batch, results):
            if fetched.error:
                report.failures.append((photo, fetched.error))
            elif fetched.sha256 in seen:
                report.duplicates.append((photo, seen[fetched.sha256]))
            else:
                seen[fetched.sha256] = photo
                kept[photo.taxon_key].append((photo, fetched))
                report.reused += fetched.reused
                report.downloaded += not fetched.reused
    return kept


def file_key(photo: Photo) -> str:
    """Return the file name (without suffix) of a photo: its media id, safe on any file system."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", photo.media_id)


def split_by_occurrence(photos: list[Photo], options: GbifOptions) -> list[str]:
    """Return the split of each photo: whole occurrences go to test, val, then train, in the seeded order.

    With at least three occurrences, val and test get one each even when their fraction rounds to none.
    """
    occurrences = sorted({p.occurrence_id for p in photos}, key=lambda o: occurrence_order(options.seed, o))
    count = len(occurrences)

    def share(fraction: float) -> int:
        return max(1, round(count * fraction)) if fraction > 0 and count >= 3 else 0

    n_test, n_val = share(options.test_fraction), share(options.val_fraction)
    n_test, n_val = min(n_test, count - 1), min(n_val, max(0, count - 1 - n_test))
    split_of = {}
    for index, occurrence in enumerate(occurrences):
        split_of[occurrence] = "test" if index < n_test else "val" if index < n_test + n_val else "train"
    return [split_of[p.occurrence_id] for p in photos]


def _link(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` as a hard link (no second copy on disk), or a copy where links cannot be."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _provenance(photo: Photo) -> dict[str, str]:
    return {
        "url": photo.url,
        "occurrence_id": photo.occurrence_id,
        "media_id": photo.media_id,
        "licence": photo.licence,
        "licence_given": photo.licence_given,
        "creator": photo.creator,
        "rights_holder": photo.rights_holder,
        "created": photo.created,
        "references": photo.references,
    }


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
