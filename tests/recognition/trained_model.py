"""A model trained in the test session on real photos (flowers5) or, without them, on separable colours."""

from __future__ import annotations

import os
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from tests.images import make_image_tree

# Held-out top-1 the trained model must reach, and how it is trained (head only, a few CPU seconds).
FLOWERS5_MIN_TOP1 = 0.80
GENERATED_MIN_TOP1 = 0.85
SUBSET = {"train": 16, "val": 6, "test": 10}  # photos per class from each flowers5 split
GENERATED_CLASSES = {"bellis": 0, "rosa": 0, "viola": 0}


@dataclass(frozen=True)
class TrainedModel:
    """A best.pt trained in this session, its held-out top-1 (and the one it must reach) and, per class,
    the first held-out photo that the serving Predictor names correctly (None when there is none)."""

    checkpoint: Path
    top1: float
    min_top1: float
    examples: dict[str, Path | None]
    source: str


def flowers5_subset(flowers5: Path, root: Path) -> Path:
    """Link the first SUBSET[split] photos per class of each flowers5 split under root; return root."""
    for split, count in SUBSET.items():
        for folder in sorted((flowers5 / split).iterdir()):
            target = root / split / folder.name
            target.mkdir(parents=True)
            for photo in sorted(folder.iterdir())[:count]:
                os.symlink(photo, target / photo.name)
    return root


def generated_tree(root: Path) -> Path:
    """Write train/val/test trees of trivially separable solid-colour classes; return root."""
    for seed, (split, count) in enumerate(SUBSET.items()):
        make_image_tree(root / split, {name: count for name in GENERATED_CLASSES}, size=64, seed=seed)
    return root


def train_head(data: Path, output: Path) -> Path:
    """Train tf_efficientnet_lite0's head (ImageNet backbone, offline weights) on data; return best.pt."""
    from django.core.management import call_command

    call_command(
        "train",
        data=data,
        output=output,
        model="tf_efficientnet_lite0",
        pretrained=True,
        input_size=160,
        head_epochs=4,
        epochs=0,
        head_lr=1e-2,
        batch_size=8,
        mixup=0.0,
        cutmix=0.0,
        ema=False,
        workers=0,
        seed=0,
        register=False,
        stdout=StringIO(),
    )
    return output / "best.pt"


def held_out_photos(data: Path) -> dict[str, list[Path]]:
    """Return the test split's photos by class folder name."""
    return {folder.name: sorted(folder.iterdir()) for folder in sorted((data / "test").iterdir())}


def score_held_out(checkpoint: Path, held_out: dict[str, list[Path]]) -> tuple[float, dict[str, Path | None]]:
    """Return the serving Predictor's top-1 on the held-out photos and each class's first correctly named one."""
    from PIL import Image

    from plantml.predictor import Predictor

    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    examples: dict[str, Path | None] = dict.fromkeys(held_out)
    right = total = 0
    for label, paths in held_out.items():
        for path in paths:
            named = predictor.predict([Image.open(path)], top_k=1)[0].label
            total += 1
            if named == label:
                right += 1
                examples[label] = examples[label] or path
    return right / total, examples
