"""GBIF photos (plantml/datasets/gbif.py, gbif_dataset.py): folder names and the split by occurrence."""

from __future__ import annotations

from collections import defaultdict

from plantml.datasets.gbif import Photo, folder_name
from plantml.datasets.gbif_dataset import GbifOptions, split_by_occurrence
from plantml.species_facts import SpeciesInfo


def photos(occurrences: int, per_occurrence: int = 2) -> list[Photo]:
    return [
        Photo(1, str(o), f"{o}_{n}", f"http://x/{o}_{n}.jpg", "CC BY", "CC BY")
        for o in range(100, 100 + occurrences)
        for n in range(1, per_occurrence + 1)
    ]


def test_a_species_folder_is_its_key_and_an_ascii_name():
    assert folder_name(SpeciesInfo("Rosa × alba", gbif_id=3004)) == "3004_Rosa_alba"
    assert folder_name(SpeciesInfo("Crépis biennis", gbif_id=7)) == "7_Crepis_biennis"


def test_whole_occurrences_go_to_one_split_and_val_and_test_get_some():
    listed = photos(20)
    splits = split_by_occurrence(listed, GbifOptions(val_fraction=0.1, test_fraction=0.2))
    by_occurrence = defaultdict(set)
    for photo, split in zip(listed, splits):
        by_occurrence[photo.occurrence_id].add(split)
    assert all(len(kept) == 1 for kept in by_occurrence.values())
    counts = {name: sum(split == {name} for split in by_occurrence.values()) for name in ("train", "val", "test")}
    assert counts == {"train": 14, "val": 2, "test": 4}


def test_the_split_is_the_same_for_the_same_seed_and_differs_for_another():
    listed = photos(30, 1)
    first = split_by_occurrence(listed, GbifOptions(seed=1))
    assert split_by_occurrence(list(reversed(listed)), GbifOptions(seed=1)) == list(reversed(first))
    assert split_by_occurrence(listed, GbifOptions(seed=2)) != first


def test_a_species_with_two_occurrences_trains_on_both():
    assert set(split_by_occurrence(photos(2), GbifOptions())) == {"train"}
