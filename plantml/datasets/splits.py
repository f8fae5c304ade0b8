"""The train / val / test samples of a dataset, its class names and what it says about each species."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plantml.species_facts import SpeciesInfo

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

    def hold_out(self, names: list[str]) -> tuple[Splits, list[Path]]:
        """Return (these splits without the classes ``names``, the held-out classes' val and test photos).

        The held-out photos stand for species the model does not know; ValueError names unknown classes.
        """
        unknown = sorted(set(names) - set(self.class_names))
        if unknown:
            raise ValueError(
                f"--holdout-classes names classes the data does not have: {', '.join(unknown)} "
                f"(classes: {', '.join(self.class_names[:20])}{' ...' if len(self.class_names) > 20 else ''})"
            )
        if len(self.class_names) - len(set(names)) < 2:
            raise ValueError("--holdout-classes must leave at least 2 classes to train on")
        held = {self.class_names.index(name) for name in names}
        kept = [i for i in range(len(self.class_names)) if i not in held]
        index = {old: new for new, old in enumerate(kept)}

        def keep(samples: list[Sample]) -> list[Sample]:
            return [(path, index[label]) for path, label in samples if label in index]

        photos = [path for path, label in self.val + self.test if label in held]
        return (
            Splits(
                keep(self.train),
                keep(self.val),
                keep(self.test),
                [self.class_names[i] for i in kept],
                self.skipped,
                [self.species[i] for i in kept] if self.species else [],
                self.layout,
            ),
            photos,
        )
