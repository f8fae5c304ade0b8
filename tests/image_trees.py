"""Small generated image trees: real JPEG files made with PIL, for the library and command tests."""

from __future__ import annotations

import random
from pathlib import Path

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


def unrepresentative_calibration_tree(root: Path, predictor, count: int = 30) -> Path:
    """Write a tree whose val/ and train/ are black (a calibration that cannot fit real photos) and whose
    test/ holds ``count`` noise photos filed under the class ``predictor`` gives them (PyTorch top-1 100%)."""
    import numpy as np

    names = predictor.spec.class_names
    for split in ("train", "val", "test"):
        for name in names:
            (root / split / name).mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        for name in names:
            Image.new("RGB", (64, 64)).save(root / split / name / "black.jpg")
    generator = np.random.default_rng(1)
    for index in range(count):
        photo = Image.fromarray(generator.integers(0, 256, (72, 72, 3), dtype=np.uint8))
        photo.save(root / "test" / predictor.predict([photo], top_k=1)[0].label / f"noise_{index:03d}.png")
    return root


def solid_colours(count: int, size: int, seed: int = 0) -> list[Image.Image]:
    """Return ``count`` seeded flat-colour photos of ``size`` px: pictures that look nothing like the noise ones."""
    rng = random.Random(seed)
    return [Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3))) for _ in range(count)]
