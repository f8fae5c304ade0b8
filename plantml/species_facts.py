"""Species facts of a class (scientific name, authorship, genus, family, common names, GBIF id)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# words that belong to the name, not to its author: hybrid signs and infraspecific ranks
_NAME_PARTS = {"×", "x", "subsp.", "var.", "f.", "ssp.", "nothosubsp.", "subvar."}
_EPITHET = re.compile(r"^[a-z\u00e0-\u00ff-]+$")
# the columns of a species CSV (besides common_name_<language>) and the keys of a species JSON record
TEXT_FIELDS = ("scientific_name", "authorship", "genus", "family")
JSON_KEYS = (*TEXT_FIELDS, "gbif_id", "common_names")
COMMON_NAME = "common_name_"
SPECIES_FILE_HELP = (
    "species facts per class folder: a CSV with columns folder, scientific_name, authorship, genus, family, "
    "gbif_id, common_name_en, common_name_zh-hans (only folder and scientific_name required), or a JSON "
    '{folder: {"scientific_name", "authorship", "genus", "family", "gbif_id", "common_names": {"en", "zh-hans"}}}'
)


class SpeciesFileError(ValueError):
    """A species file that cannot be used; the message names the file, the row or folder and the fix."""


@dataclass(frozen=True)
class SpeciesInfo:
    """What a dataset tells about one class; only ``scientific_name`` is required."""

    scientific_name: str
    authorship: str = ""
    genus: str = ""
    family: str = ""
    common_names: dict[str, str] = field(default_factory=dict)
    gbif_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON/checkpoint-safe values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeciesInfo:
        """Return the record stored by ``to_dict`` (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def parse_full_name(full_name: str) -> SpeciesInfo:
    """Split "Genus epithet [rank epithet] Author" into scientific name, authorship and genus."""
    words = full_name.split()
    if not words:
        raise ValueError("empty species name")
    name = [words[0]]
    for word in words[1:]:
        if word in _NAME_PARTS or (_EPITHET.match(word) and name[-1] in _NAME_PARTS | {name[0]}):
            name.append(word)
        else:
            break
    return SpeciesInfo(
        scientific_name=" ".join(name), authorship=" ".join(words[len(name) :]), genus=words[0].lstrip("×")
    )


def common_name_in(common_names: dict[str, str], language: str | None) -> str:
    """Return the common name for ``language`` ('zh-hans' also finds 'zh', 'en-us' finds 'en'), or ''."""
    language = (language or "").lower()
    if not language:
        return ""
    names = {key.lower(): value for key, value in common_names.items() if value}
    primary = language.split("-")[0]
    for key in (language, primary):
        if key in names:
            return names[key]
    return next((value for key, value in sorted(names.items()) if key.split("-")[0] == primary), "")


def load_species_file(
    path: str | Path, class_names: Sequence[str], base: Sequence[SpeciesInfo] = ()
) -> list[SpeciesInfo]:
    """Return one SpeciesInfo per class from a species CSV or JSON file (see SPECIES_FILE_HELP).

    A class the file does not name keeps ``base``'s record (the dataset's own facts) or its folder name;
    a folder the classes do not have is an error naming it.
    """
    path = Path(path)
    records = _read_json(path) if path.suffix.lower() == ".json" else _read_csv(path)
    unknown = [folder for folder in records if folder not in set(class_names)]
    if unknown:
        raise SpeciesFileError(
            f"species file {path} names folders the training data does not have: {', '.join(sorted(unknown))}; "
            f"correct them to class folder names (e.g. {', '.join(list(class_names)[:3])}) or remove those entries"
        )
    fallback = list(base) or [SpeciesInfo(scientific_name=name) for name in class_names]
    return [records.get(name, fallback[index]) for index, name in enumerate(class_names)]


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise SpeciesFileError(f"species file {path} does not exist: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpeciesFileError(f"cannot read species file {path} ({exc}): save it as UTF-8 text") from exc


def _read_csv(path: Path) -> dict[str, SpeciesInfo]:
    rows = csv.DictReader(_read_text(path, "utf-8-sig").splitlines())
    columns = [name.strip() for name in rows.fieldnames or []]
    missing = [name for name in ("folder", "scientific_name") if name not in columns]
    if missing:
        raise SpeciesFileError(
            f"species file {path} has no {' or '.join(missing)} column: its first line must name the columns, "
            "e.g. folder,scientific_name,authorship,genus,family,gbif_id,common_name_en,common_name_zh-hans"
        )
    allowed = {"folder", *TEXT_FIELDS, "gbif_id"}
    unknown = [name for name in columns if name not in allowed and not name.startswith(COMMON_NAME)]
    if unknown:
        raise SpeciesFileError(
            f"species file {path} has unknown columns {', '.join(unknown)}: use folder, "
            f"{', '.join(TEXT_FIELDS)}, gbif_id and common_name_<language> (e.g. common_name_en)"
        )
    records: dict[str, SpeciesInfo] = {}
    for number, row in enumerate(rows, start=2):
        row = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        folder = row.get("folder", "")
        where = f"species file {path}, line {number}" + (f" (folder {folder!r})" if folder else "")
        if not folder:
            raise SpeciesFileError(f"{where}: the folder column is empty: give the class folder's name")
        if folder in records:
            raise SpeciesFileError(f"{where}: folder {folder!r} appears twice: keep one line per folder")
        names = {key[len(COMMON_NAME) :].lower(): value for key, value in row.items() if key.startswith(COMMON_NAME)}
        records[folder] = _record(where, {**row, "common_names": names})
    return records


def _read_json(path: Path) -> dict[str, SpeciesInfo]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise SpeciesFileError(f"species file {path} is not valid JSON ({exc}): fix the syntax") from None
    if not isinstance(data, dict) or not all(isinstance(value, dict) for value in data.values()):
        raise SpeciesFileError(
            f'species file {path} must be a JSON object {{folder: {{"scientific_name": ..., ...}}}}, '
            "one object per class folder"
        )
    records = {}
    for folder, values in data.items():
        where = f"species file {path}, folder {folder!r}"
        unknown = sorted(set(values) - set(JSON_KEYS))
        if unknown:
            raise SpeciesFileError(f"{where}: unknown keys {', '.join(unknown)}: use {', '.join(JSON_KEYS)}")
        records[folder] = _record(where, values)
    return records


def _record(where: str, values: dict[str, Any]) -> SpeciesInfo:
    """Return the SpeciesInfo of one validated file entry; ``where`` names it in the error."""
    texts = {}
    for name in TEXT_FIELDS:
        value = values.get(name) or ""
        if not isinstance(value, str):
            raise SpeciesFileError(f"{where}: {name} must be text, got {value!r}")
        texts[name] = value.strip()
    if not texts["scientific_name"]:
        raise SpeciesFileError(f"{where}: scientific_name is empty: give the species' name (e.g. Rosa canina)")
    common_names = values.get("common_names") or {}
    if not isinstance(common_names, dict) or not all(isinstance(v, str) for v in common_names.values()):
        raise SpeciesFileError(f'{where}: common_names must map languages to names, e.g. {{"en": "dog rose"}}')
    return SpeciesInfo(
        scientific_name=texts["scientific_name"],
        authorship=texts["authorship"],
        genus=texts["genus"] or parse_full_name(texts["scientific_name"]).genus,
        family=texts["family"],
        common_names={language.lower(): name.strip() for language, name in common_names.items() if name.strip()},
        gbif_id=_gbif_id(where, values.get("gbif_id")),
    )


def _gbif_id(where: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise SpeciesFileError(
            f"{where}: gbif_id must be GBIF's whole-number species key (e.g. 8395064 from "
            f"https://www.gbif.org/species/8395064), got {value!r}: fix it or leave it empty"
        )
    return int(text)
