"""A GBIF Darwin Core Archive (occurrences + multimedia) read into the photos worth training on, per species."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from plantml.species_facts import SpeciesInfo, parse_full_name

from .dwca import ID, ArchiveError, DarwinCoreArchive
from .licences import licence_name

logger = logging.getLogger(__name__)

DWC = "http://rs.tdwg.org/dwc/terms/"
GBIF = "http://rs.gbif.org/terms/1.0/"
DC = "http://purl.org/dc/terms/"
MULTIMEDIA = GBIF + "Multimedia"
# the taxon a photo is filed under, most specific to the species first: (key term, its name's term)
TAXON_TERMS = (
    (GBIF + "speciesKey", GBIF + "species"),
    (GBIF + "acceptedTaxonKey", GBIF + "acceptedScientificName"),
    (GBIF + "taxonKey", DWC + "scientificName"),
)


@dataclass(frozen=True)
class Photo:
    """One still image of an occurrence, with what its provenance must say."""

    taxon_key: int
    occurrence_id: str
    media_id: str  # <occurrence id>_<n>: the n-th media row of the occurrence, stable across runs
    url: str
    licence: str
    licence_given: str
    creator: str = ""
    rights_holder: str = ""
    created: str = ""
    references: str = ""


@dataclass
class ArchivePhotos:
    """What an archive offers: facts per taxon key, candidate photos per taxon key, and why rows were passed over."""

    species: dict[int, SpeciesInfo] = field(default_factory=dict)
    photos: dict[int, list[Photo]] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)


def folder_name(info: SpeciesInfo) -> str:
    """Return the class folder of a species: "<GBIF key>_<Scientific_name>", ASCII letters, digits and _ only."""
    ascii_name = unicodedata.normalize("NFKD", info.scientific_name).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_")
    return f"{info.gbif_id}_{safe}" if safe else str(info.gbif_id)


def occurrence_order(seed: int, occurrence_id: str) -> str:
    """Return the sort key that shuffles occurrences the same way for the same ``seed``."""
    return hashlib.sha256(f"{seed}:{occurrence_id}".encode()).hexdigest()


def read_archive_photos(path: str | Path, licences: tuple[str, ...], seed: int = 0) -> ArchivePhotos:
    """Return the still images of ``path`` whose licence is in ``licences``, grouped by species and shuffled
    by occurrence (``seed``), with each species' facts; ArchiveError when the archive cannot serve."""
    archive = DarwinCoreArchive(path)
    media_table = archive.extension(MULTIMEDIA)
    if media_table is None:
        raise ArchiveError(
            f"{path} has no multimedia extension ({MULTIMEDIA}): download from GBIF with the "
            "'Darwin Core Archive' format, which includes multimedia.txt"
        )
    if archive.core.id_index is None:
        raise ArchiveError(f"meta.xml of {path}: the core has no <id index=...>, so photos cannot be joined to it")
    key_terms = [key for key, _ in TAXON_TERMS if key in archive.core.columns or key in archive.core.defaults]
    if not key_terms:
        raise ArchiveError(
            f"{path} has no GBIF taxon key column (speciesKey, acceptedTaxonKey or taxonKey): "
            "use an occurrence download from gbif.org, which adds them"
        )
    result = ArchivePhotos()
    occurrences: dict[str, tuple[int, str]] = {}  # occurrence id -> (taxon key, occurrence licence)
    facts: dict[int, Counter] = defaultdict(Counter)
    for row in archive.rows(archive.core):
        taxon = _taxon(row, key_terms[0])
        if taxon is None:
            result.skipped["occurrence not identified to species"] += 1
            continue
        occurrences[row[ID]] = (taxon.gbif_id, row.get(DC + "license", ""))
        facts[taxon.gbif_id][(taxon.scientific_name, taxon.authorship, taxon.genus, taxon.family)] += 1
    result.species = {  # the facts most of a species' occurrences give
        key: SpeciesInfo(*counter.most_common(1)[0][0], gbif_id=key) for key, counter in facts.items()
    }
    photos: dict[int, list[Photo]] = defaultdict(list)
    numbers: Counter = Counter()
    for row in archive.rows(media_table):
        occurrence = row[ID]
        numbers[occurrence] += 1
        reason, photo = _photo(row, occurrences.get(occurrence), numbers[occurrence], licences)
        if reason:
            result.skipped[reason] += 1
        else:
            photos[photo.taxon_key].append(photo)
    for candidates in photos.values():
        candidates.sort(key=lambda p: (occurrence_order(seed, p.occurrence_id), int(p.media_id.rsplit("_", 1)[1])))
    result.photos = dict(sorted(photos.items()))
    logger.info("%s: %d photos of %d species usable", path, sum(map(len, photos.values())), len(photos))
    return result


def _taxon(row: dict[str, str], first_key_term: str) -> SpeciesInfo | None:
    """Return the species an occurrence row is filed under, or None when it names no taxon key (or, when the
    archive has a speciesKey column, none at species rank)."""
    found = _taxon_key(row, first_key_term)
    if found is None:
        return None
    key, name_term = found
    scientific = parse_full_name(row[DWC + "scientificName"]) if row.get(DWC + "scientificName") else None
    named = parse_full_name(row[name_term]) if row.get(name_term) else scientific
    if named is None:
        return SpeciesInfo(scientific_name=key, gbif_id=int(key))
    authorship = named.authorship
    if not authorship and scientific is not None and scientific.scientific_name == named.scientific_name:
        authorship = row.get(DWC + "scientificNameAuthorship") or scientific.authorship
    return SpeciesInfo(
        scientific_name=named.scientific_name,
        authorship=authorship,
        genus=row.get(DWC + "genus") or named.genus,
        family=row.get(DWC + "family", ""),
        gbif_id=int(key),
    )


def _taxon_key(row: dict[str, str], first_key_term: str) -> tuple[str, str] | None:
    """Return (taxon key, the term of its name) of an occurrence row, most specific first, or None."""
    start = [key_term for key_term, _ in TAXON_TERMS].index(first_key_term)
    for key_term, name_term in TAXON_TERMS[start:]:
        key = row.get(key_term, "")
        if key.isdigit() and int(key) > 0:
            return key, name_term
        if key_term == GBIF + "speciesKey":
            return None  # identified above species rank: no species to learn from
    return None


def _photo(
    row: dict[str, str], occurrence: tuple[int, str] | None, number: int, licences: tuple[str, ...]
) -> tuple[str, Photo | None]:
    """Return ("", the Photo) of a multimedia row worth keeping, else (why it is passed over, None)."""
    if occurrence is None:
        return "occurrence not usable (not in the core, or not identified to species)", None
    kind, media_format = row.get(DC + "type", ""), row.get(DC + "format", "").lower()
    if not (kind.lower() == "stillimage" or (not kind and media_format.startswith("image/"))):
        return f"not a still image ({kind or media_format or 'no type'})", None
    url = row.get(DC + "identifier", "")
    if not url:
        return "no photo URL", None
    taxon_key, occurrence_licence = occurrence
    given = row.get(DC + "license") or occurrence_licence
    licence = licence_name(given)
    if licence not in licences:
        return f"licence {licence} not in --licences", None
    return "", Photo(
        taxon_key=taxon_key,
        occurrence_id=row[ID],
        media_id=f"{row[ID]}_{number}",
        url=url,
        licence=licence,
        licence_given=given,
        creator=row.get(DC + "creator", ""),
        rights_holder=row.get(DC + "rightsHolder", ""),
        created=row.get(DC + "created", ""),
        references=row.get(DC + "references", ""),
    )
