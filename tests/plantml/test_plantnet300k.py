"""PlantNet-300K layouts as downloaded (plantml/datasets/plantnet300k.py), from real flowers5 photos."""

from __future__ import annotations

import pytest

from plantml.data import resolve_splits
from tests.plantnet300k_trees import FLOWERS5_SPECIES, make_plantnet_v1, make_plantnet_v2, photos

PER_SPLIT = {"train": 3, "val": 2, "test": 1}
IDS = sorted(species_id for species_id, _, _ in FLOWERS5_SPECIES.values())


@pytest.fixture(scope="module")
def chosen(flowers5):
    return photos(flowers5, PER_SPLIT)


@pytest.mark.parametrize("folders", ["images/{split}", "images_{split}", "images"])
def test_v1_splits_and_species_come_from_the_dataset(chosen, tmp_path, folders):
    root = make_plantnet_v1(tmp_path, chosen, folders=folders)
    splits = resolve_splits(root)
    assert splits.layout == "plantnet300k-v1.1" and splits.class_names == IDS
    assert (len(splits.train), len(splits.val), len(splits.test)) == (15, 10, 5)
    rose = splits.class_names.index("1356257")
    assert splits.species[rose].scientific_name == "Rosa canina" and splits.species[rose].authorship == "L."
    assert splits.display_names()[rose] == "Rosa canina"


@pytest.mark.parametrize("split_folders", [False, True])
def test_v2_splits_and_species_come_from_the_csv_files(chosen, tmp_path, split_folders):
    root = make_plantnet_v2(tmp_path, chosen, split_folders=split_folders)
    splits = resolve_splits(root)
    assert splits.layout == "plantnet300k-v2" and splits.class_names == ["0000", "0001", "0002", "0003", "0004"]
    assert (len(splits.train), len(splits.val), len(splits.test)) == (15, 10, 5)
    tulip = splits.species[4]
    assert (tulip.scientific_name, tulip.genus, tulip.family, tulip.gbif_id) == (
        "Tulipa gesneriana",
        "Tulipa",
        "Liliaceae",
        3004,
    )


def test_a_missing_metadata_file_says_which_one_to_add(chosen, tmp_path):
    root = make_plantnet_v2(tmp_path, chosen)
    (root / "plantnet300K_metadata.csv").unlink()
    with pytest.raises(ValueError, match="no plantnet300K_metadata.csv to split by"):
        resolve_splits(root)


def test_a_damaged_species_file_names_itself(chosen, tmp_path):
    root = make_plantnet_v1(tmp_path, chosen)
    (root / "plantnet300K_species_id_2_name.json").write_text("{broken")
    with pytest.raises(ValueError, match="species file .*plantnet300K_species_id_2_name.json"):
        resolve_splits(root)
