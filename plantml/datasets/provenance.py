"""provenance.csv beside a dataset: where each photo came from, under which licence and by whom."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

PROVENANCE_FILE = "provenance.csv"
# file is relative to the data folder (train/<class>/<name>, as export-feedback's provenance.csv has it);
# the rest is what a caption or a licence needs
FIELDS = (
    "file",
    "url",
    "occurrence_id",
    "media_id",
    "licence",
    "licence_given",
    "creator",
    "rights_holder",
    "created",
    "references",
    "sha256",
)
# what travels with a reference photo: enough to credit its author and show its licence
ATTRIBUTION_FIELDS = ("creator", "rights_holder", "licence", "licence_given", "created", "url", "references")
# licences under which a thumbnail may be shown to users with credit (ND forbids the resized, cropped copy)
DISPLAYABLE = frozenset({"CC0", "PDM", "CC BY", "CC BY-SA", "CC BY-NC", "CC BY-NC-SA"})


def write_provenance(rows: Iterable[dict[str, str]], folder: str | Path) -> Path:
    """Write ``rows`` (FIELDS, others ignored) to ``folder/provenance.csv`` atomically; return its path."""
    path = Path(folder) / PROVENANCE_FILE
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)
    return path


def load_provenance(folders: Sequence[str | Path]) -> dict[Path, dict[str, str]]:
    """Return {resolved photo path: its provenance row} from each folder's provenance.csv ({} where none).

    A row without a licence (export-feedback's: users' photos, given for training only) is still returned,
    so that such a photo is never shown as a reference (``may_display``).
    """
    records: dict[Path, dict[str, str]] = {}
    for folder in folders:
        path = Path(folder) / PROVENANCE_FILE
        if not path.is_file():
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("file"):
                    records[(Path(folder) / row["file"]).resolve()] = row
        logger.info("read the provenance of %d photos from %s", len(records), path)
    return records


def attribution(row: dict[str, str]) -> dict[str, str]:
    """Return the fields of a provenance row that credit a photo (empty ones left out)."""
    return {name: row[name] for name in ATTRIBUTION_FIELDS if row.get(name)}


def may_display(row: dict[str, str]) -> bool:
    """Return whether a photo's licence lets a thumbnail of it be shown (with credit) beside a result."""
    return row.get("licence", "") in DISPLAYABLE
