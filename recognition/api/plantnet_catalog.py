"""What a model knows, in Pl@ntNet's terms: its languages (/v2/languages) and species (/v2/species)."""

from __future__ import annotations

import re
from typing import Any

from ml.models import ModelVersion
from plantml.species_facts import SpeciesInfo, common_name_in

# A BCP 47-like language code as Pl@ntNet clients send it: en, fr, pt-br, zh-hant, sat.
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def is_language_code(code: str) -> bool:
    """Return True when ``code`` is shaped like a language code (any language, known here or not)."""
    return bool(LANGUAGE_CODE.match(code))


def species_records(version: ModelVersion) -> list[tuple[str, SpeciesInfo]]:
    """Return each class's folder name and species facts (its folder name as the scientific name when it has none)."""
    return [
        (label, version.species_info(index) or SpeciesInfo(scientific_name=label))
        for index, label in enumerate(version.class_names)
    ]


def model_languages(version: ModelVersion | None) -> list[str]:
    """Return the languages the model has common names in, sorted (none without a model or facts)."""
    if version is None:
        return []
    return sorted({language for _, info in species_records(version) for language in info.common_names})


def species_entry(label: str, info: SpeciesInfo, language: str) -> dict[str, Any]:
    """Return one species as /v2/species lists it: names, genus, family, GBIF id, common names in ``language``."""
    name = info.scientific_name
    common = common_name_in(info.common_names, language)
    return {
        "id": label,
        "scientificNameWithoutAuthor": name,
        "scientificNameAuthorship": info.authorship,
        "scientificName": f"{name} {info.authorship}".strip(),
        "genus": info.genus or (name.split()[0] if name.split() else name),
        "family": info.family,
        "gbifId": info.gbif_id,
        "powoId": None,
        "iucnCategory": None,
        "commonNames": [common] if common else [],
    }


def species_list(version: ModelVersion, language: str, prefix: str = "") -> list[dict[str, Any]]:
    """Return the model's species sorted by scientific name, those starting with ``prefix`` (any case) when given."""
    prefix = prefix.strip().lower()
    entries = [
        species_entry(label, info, language)
        for label, info in species_records(version)
        if info.scientific_name.lower().startswith(prefix)
    ]
    return sorted(entries, key=lambda entry: entry["scientificNameWithoutAuthor"])
