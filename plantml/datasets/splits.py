"""The train / val / test samples of a dataset, its class names and what it says about each species."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plantml.species import SpeciesInfo

Sample = tuple[Path, int]
SPLIT_NAMES = ("train", "val", "test")


@dataclass
class Splits:
    """Train / val / test samples of one data folder and its class names."""

    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    class_names: list[str]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    species: list[SpeciesInfo] = field(default_factory=list)  # one per class when the dataset names them
    layout: str = "imagefolder"

    def train_counts(self) -> list[int]:
        """Return the number of training photos of each class, in class order."""
        counts = [0] * len(self.class_names)
        for _, target in self.train:
            counts[target] += 1
        return counts

    def display_names(self) -> list[str]:
        """Return one name per class: the scientific name when the dataset gives one, else the folder name."""
        if not self.species:
            return list(self.class_names)
        return [info.scientific_name or name for info, name in zip(self.species, self.class_names)]
