"""Small PlantNet-300K trees in both downloaded layouts, built from real photos, for the dataset tests."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

# flowers5 folder -> (PlantNet-style species id, name with author as the dataset writes it, family)
FLOWERS5_SPECIES = {
    "daisy": ("1355932", "Bellis perennis L.", "Asteraceae"),
    "dandelion": ("1356022", "Taraxacum officinale F.H.Wigg.", "Asteraceae"),
    "rose": ("1356257", "Rosa canina L.", "Rosaceae"),
    "sunflower": ("1359498", "Helianthus annuus L.", "Asteraceae"),
    "tulip": ("1363227", "Tulipa gesneriana L.", "Liliaceae"),
}
SPLITS = ("train", "val", "test")


def photos(flowers5: Path, per_split: dict[str, int]) -> dict[str, dict[str, list[Path]]]:
    """Return flowers5 class -> split -> the first ``per_split[split]`` photos."""
    return {
        name: {s: sorted((flowers5 / s / name).iterdir())[: per_split[s]] for s in SPLITS} for name in FLOWERS5_SPECIES
    }


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source.resolve())


def make_plantnet_v1(root: Path, chosen: dict[str, dict[str, list[Path]]], folders: str = "images/{split}") -> Path:
    """Write PlantNet-300K v1.1: ``folders``/<species id>/<image id>.jpg, the species-name and metadata JSON."""
    names, metadata = {}, {}
    for name, by_split in chosen.items():
        species_id, full_name, _ = FLOWERS5_SPECIES[name]
        names[species_id] = full_name
        for split, paths in by_split.items():
            for path in paths:
                image_id = f"{path.stem[:20]}_{split}"
                metadata[image_id] = {"species_id": species_id, "split": split, "organ": "flower"}
                _link(path, root / folders.format(split=split) / species_id / f"{image_id}.jpg")
    (root / "plantnet300K_species_id_2_name.json").write_text(json.dumps(names))
    (root / "plantnet300K_metadata.json").write_text(json.dumps(metadata))
    return root


def make_plantnet_v2(root: Path, chosen: dict[str, dict[str, list[Path]]], split_folders: bool = False) -> Path:
    """Write Pl@ntNet-300K v2: 0000.../<PN_hash>.jpg (flat, or under train/ val/ test/) and both CSV files."""
    rng = random.Random(0)
    images, species = [], []
    for index, (name, by_split) in enumerate(chosen.items()):
        _, full_name, family = FLOWERS5_SPECIES[name]
        species.append({"species_id": index, "full_species": full_name, "family": family, "gbif_id": 3000 + index})
        for split, paths in by_split.items():
            for path in paths:
                pn_hash = f"{rng.getrandbits(64):016x}"
                images.append([index, rng.randrange(10**8), "flower", "someone", "cc-by-sa", split, pn_hash])
                folder = root / (split if split_folders else "") / f"{index:04d}"
                _link(path, folder / f"{pn_hash}.jpg")
    with (root / "plantnet300K_metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["species_id", "PN_observation_id", "organ", "author", "license", "split", "PN_hash"])
        writer.writerows(images)
    with (root / "species_metadata.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["species_id", "full_species", "family", "gbif_id"])
        writer.writeheader()
        writer.writerows(species)
    return root
