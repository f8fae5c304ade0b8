"""PlantNet-300K as downloaded: v1.1 (species ids, JSON metadata) and Pl@ntNet-300K v2 (0000-0999, CSV metadata).

v1.1: ``images/{train,val,test}/<species_id>/<image_id>.jpg`` (or ``images_train/`` ...), with
``plantnet300K_species_id_2_name.json`` (species id -> "Genus epithet Author") and
``plantnet300K_metadata.json`` (image id -> {"species_id", "split", ...}).
v2: folders ``0000`` ... ``0999`` (under ``{train,val,test}/`` or ``images/...`` when split, else
flat), with ``plantnet300K_metadata.csv`` (species_id, ..., split, PN_hash) and
``species_metadata.csv`` (species_id, full_species = the name with its author, and more columns).
When the images are not in split folders, each image's split comes from the metadata file.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from plantml.species_facts import SpeciesInfo, parse_full_name

from .imagefolder import class_folders, scan_image_folder
from .scan import ScanCache
from .splits import SPLIT_NAMES, Sample, Splits

logger = logging.getLogger(__name__)

V1_NAMES = ("plantnet300K_species_id_2_name.json", "plantnet300K_species_names.json")
V1_METADATA = "plantnet300K_metadata.json"
V2_SPECIES = "species_metadata.csv"
V2_METADATA = "plantnet300K_metadata.csv"


@dataclass(frozen=True)
class PlantNetLayout:
    """Where one downloaded PlantNet-300K keeps its images and metadata."""

    root: Path
    version: str  # "v1.1" or "v2"
    species_file: Path
    metadata_file: Path | None
    split_folders: dict[str, Path]  # split name -> folder of species folders; empty when flat
    images: Path  # folder of species folders when not split

    @property
    def name(self) -> str:
        return f"plantnet300k-{self.version}"


def _split_folders(root: Path) -> dict[str, Path]:
    for pattern in ("images/{}", "images_{}", "{}"):
        if (root / pattern.format("train")).is_dir():
            return {s: root / pattern.format(s) for s in SPLIT_NAMES if (root / pattern.format(s)).is_dir()}
    return {}


def find_plantnet(root: Path) -> PlantNetLayout | None:
    """Return the PlantNet-300K layout of ``root``, or None when it holds neither version's metadata."""
    root = Path(root)
    if (root / V2_SPECIES).is_file() or (root / V2_METADATA).is_file():
        version, species = "v2", root / V2_SPECIES
        metadata = root / V2_METADATA
    else:
        species = next((root / n for n in V1_NAMES if (root / n).is_file()), None)
        if species is None:
            return None
        version, metadata = "v1.1", root / V1_METADATA
    if not species.is_file():
        raise ValueError(f"{root} looks like Pl@ntNet-300K {version} but has no {species.name}: download it too")
    folders = _split_folders(root)
    images = root / "images" if (root / "images").is_dir() else root
    return PlantNetLayout(root, version, species, metadata if metadata.is_file() else None, folders, images)


def read_species(layout: PlantNetLayout) -> dict[str, SpeciesInfo]:
    """Return species id (as its folder is named, or its number) -> SpeciesInfo from the layout's species file."""
    path = layout.species_file
    try:
        if layout.version == "v1.1":
            names = json.loads(path.read_text(encoding="utf-8"))
            return {str(k): parse_full_name(str(v)) for k, v in names.items()}
        with path.open(newline="", encoding="utf-8") as handle:
            return {str(int(row["species_id"])): _v2_species(row) for row in csv.DictReader(handle)}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"cannot read the species file {path} ({exc.__class__.__name__}: {exc}): re-download it"
        ) from exc


def _v2_species(row: dict[str, str]) -> SpeciesInfo:
    parsed = parse_full_name(row["full_species"])
    column = {k.lower(): (v or "").strip() for k, v in row.items() if k}
    gbif = next((column[k] for k in ("gbif_id", "gbif_key", "gbifid", "gbif_taxon_id") if column.get(k)), "")
    return SpeciesInfo(
        scientific_name=column.get("species") or column.get("scientific_name") or parsed.scientific_name,
        authorship=column.get("authorship") or column.get("taxon_authors") or parsed.authorship,
        genus=column.get("genus") or parsed.genus,
        family=column.get("family") or "",
        gbif_id=int(float(gbif)) if gbif.replace(".", "", 1).isdigit() else None,
    )


def _species_key(folder: str, layout: PlantNetLayout) -> str:
    return str(int(folder)) if layout.version == "v2" and folder.isdigit() else folder


def _image_splits(layout: PlantNetLayout) -> dict[str, str]:
    """Return image file stem -> split name from the metadata file (for images not in split folders)."""
    path = layout.metadata_file
    if path is None:
        wanted = V2_METADATA if layout.version == "v2" else V1_METADATA
        raise ValueError(f"{layout.root} has no train/ val/ test/ image folders and no {wanted} to split by: add it")
    try:
        if layout.version == "v1.1":
            return {str(k): str(v["split"]) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
        with path.open(newline="", encoding="utf-8") as handle:
            return {row["PN_hash"]: row["split"] for row in csv.DictReader(handle)}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"cannot read the metadata file {path} ({exc.__class__.__name__}: {exc}): re-download it"
        ) from exc


def load_plantnet(layout: PlantNetLayout, cache: ScanCache | None = None) -> Splits:
    """Return the dataset's own splits, class names (species folders) and species facts."""
    cache = cache if cache is not None else ScanCache(layout.root)
    parts: dict[str, list[Sample]] = {name: [] for name in SPLIT_NAMES}
    if layout.split_folders:
        train_dir = layout.split_folders.get("train")
        if train_dir is None:
            raise ValueError(f"{layout.root} has split folders but no train/ one: the training images are needed")
        class_names = class_folders(train_dir)
        skipped: list[tuple[Path, str]] = []
        for name, folder in layout.split_folders.items():
            parts[name], _, bad = scan_image_folder(folder, class_names, cache)
            skipped += bad
    else:
        all_samples, class_names, skipped = scan_image_folder(layout.images, cache=cache)
        split_of = _image_splits(layout)
        unknown = 0
        for path, label in all_samples:
            split = split_of.get(path.stem)
            if split in parts:
                parts[split].append((path, label))
            else:
                unknown += 1
        if unknown:
            logger.warning("%d images are not in %s: left out", unknown, layout.metadata_file.name)
    facts = read_species(layout)
    missing = [name for name in class_names if _species_key(name, layout) not in facts]
    if missing:
        logger.warning(
            "%d species folders are not in %s (e.g. %s): named by folder",
            len(missing),
            layout.species_file.name,
            missing[0],
        )
    species = [facts.get(_species_key(name, layout), SpeciesInfo(scientific_name=name)) for name in class_names]
    logger.info(
        "Pl@ntNet-300K %s: %d species, %d / %d / %d train / val / test images",
        layout.version,
        len(class_names),
        *(len(parts[s]) for s in SPLIT_NAMES),
    )
    return Splits(class_names=class_names, skipped=skipped, species=species, layout=layout.name, **parts)
