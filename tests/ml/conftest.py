"""Fixtures for the ml tests: small generated image trees (real JPEG files made with PIL)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image

COLOURS = {"bellis": (220, 220, 60), "rosa": (200, 30, 40), "viola": (90, 40, 170)}


def make_image_tree(root: Path, counts: dict[str, int], size: int = 40, seed: int = 0) -> Path:
    """Write ``counts[class]`` noisy solid-colour JPEGs per class under root/<class>/; return root."""
    rng = random.Random(seed)
    for index, (name, count) in enumerate(counts.items()):
        base = COLOURS.get(name, ((index * 80) % 256, (index * 150) % 256, (index * 40) % 256))
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            colour = tuple(min(255, max(0, c + rng.randint(-25, 25))) for c in base)
            image = Image.new("RGB", (size + rng.randint(0, 8), size), colour)
            image.putpixel((rng.randrange(size), rng.randrange(size)), (255, 255, 255))
            image.save(folder / f"{name}_{i:03d}.jpg", quality=90)
    return root


@pytest.fixture(scope="session")
def image_tree(tmp_path_factory) -> Path:
    """A flat ImageFolder tree of 3 classes (12, 8, 6 images): no train/val/test sub-folders."""
    return make_image_tree(tmp_path_factory.mktemp("flat"), {"bellis": 12, "rosa": 8, "viola": 6})


@pytest.fixture(scope="session")
def split_tree(tmp_path_factory) -> Path:
    """A PlantNet-style tree with train/ val/ test/ sub-folders, 3 classes, a few images each."""
    root = tmp_path_factory.mktemp("split")
    counts = {"train": 8, "val": 3, "test": 3}
    for seed, (split, n) in enumerate(counts.items()):
        make_image_tree(root / split, {"bellis": n, "rosa": n, "viola": n}, seed=seed)
    return root
