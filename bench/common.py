"""Helpers shared by the benchmark scripts: the dataset argument and linked subsets of an image tree."""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "flowers5"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# what the flowers5 benchmarks' recipes share: tf_efficientnet_lite0 from its offline ImageNet weights, a high
# head LR and a low backbone LR, no Mixup/CutMix, EMA, no early stopping; each adds its size, phases and loss
LITE0 = dict(
    model="tf_efficientnet_lite0",
    pretrained=True,
    batch_size=32,
    head_lr=3e-3,
    lr=2e-4,
    warmup_epochs=0.3,
    mixup=0.0,
    cutmix=0.0,
    ema=True,
    patience=0,
    workers=1,
    seed=0,
)
# --quick: a smoke run that proves a training benchmark still runs, in seconds per arm
QUICK = dict(input_size=64, batch_size=8, epochs=1, head_epochs=1)


def parser(description: str) -> argparse.ArgumentParser:
    """Return an argument parser with the dataset path (default ../shared/datasets/flowers5)."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "data", nargs="?", type=Path, default=DEFAULT_DATA, help=f"flowers5 folder (default {DEFAULT_DATA})"
    )
    return result


def require_dataset(data: Path) -> None:
    if not (data / "train").is_dir():
        sys.exit(f"no train/ folder under {data}: pass the flowers5 path (see ../shared/datasets/README.md)")


def link_subset(source: Path, target: Path, count: Callable[[str, str, int], int]) -> Path:
    """Symlink the first ``count(split, class, available)`` images of each split/class of ``source`` into ``target``."""
    for split_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            images = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            keep = images[: count(split_dir.name, class_dir.name, len(images))]
            folder = target / split_dir.name / class_dir.name
            folder.mkdir(parents=True, exist_ok=True)
            for image in keep:
                (folder / image.name).symlink_to(image.resolve())
    return target


def photo_argument(parser: argparse.ArgumentParser, image: Path | None) -> Path:
    """Return ``image`` (``--image``), else the first flowers5 test photo; stop with parser.error when there is none."""
    if image is None:
        found = sorted((DEFAULT_DATA / "test").glob("*/*.jpg"))
        if not found:
            parser.error(f"no photo found under {DEFAULT_DATA / 'test'}: pass --image")
        image = found[0]
    if not image.is_file():
        parser.error(f"--image {image} does not exist")
    return image


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# Two-sided 95% Student t quantiles for 1..9 degrees of freedom (then close to the normal 1.96).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Return the 95% Wilson score interval of a proportion such as top-1 on ``n`` test images."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Return (mean, low, high): the mean of repeated measurements and its 95% t interval."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, -math.inf, math.inf
    half = T95.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def verdict(target: str, low: float, threshold: float, judged: bool = True) -> int:
    """Print whether the 95% lower bound ``low`` meets ``threshold``; return the exit status (1 = not met)."""
    if not judged:
        print(f"target {target}: not judged on a --quick run (too few images to mean anything)")
        return 0
    met = low >= threshold
    print(f"target {target}: {'met' if met else 'NOT met'} (95% lower bound {low:.4f}, needs >= {threshold})")
    return 0 if met else 1


def random_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --model, --input-size, --classes and --threads: a random-init model whose cost a benchmark times."""
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = as set by default)")


def random_predictor(args: argparse.Namespace):
    """Return a CPU Predictor of ``args.model`` with random weights (their values do not change its cost)."""
    import torch

    from plantml.checkpoint import ModelSpec
    from plantml.predictor import Predictor

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    spec = ModelSpec(
        architecture=args.model,
        class_names=[f"species_{i}" for i in range(args.classes)],
        input_size=args.input_size,
    )
    return Predictor(spec.build_model(), spec, device="cpu")
