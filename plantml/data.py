"""Image folders, splits, datasets and loaders for training and evaluation; no Django here."""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, Sampler

logger = logging.getLogger(__name__)

Sample = tuple[Path, int]
SPLIT_NAMES = ("train", "val", "test")


def check_image(path: Path) -> str | None:
    """Return why ``path`` is not a usable image, or None when it is (cheap: header + verify)."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return f"not a readable image ({exc.__class__.__name__}: {exc})"
    return None


def scan_image_folder(
    root: Path, class_names: list[str] | None = None
) -> tuple[list[Sample], list[str], list[tuple[Path, str]]]:
    """Return (samples, class names, skipped files) of an ImageFolder tree; bad files are logged and skipped."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no image folder at {root}: pass a directory with one sub-folder per class")
    if class_names is None:
        class_names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_names:
        raise ValueError(f"{root} has no class sub-folders: put each class's images in root/<class name>/")
    samples: list[Sample] = []
    skipped: list[tuple[Path, str]] = []
    for label, name in enumerate(class_names):
        folder = root / name
        if not folder.is_dir():
            continue  # a split may lack a class (e.g. a small val/); the class index still holds
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            reason = check_image(path)
            if reason is None:
                samples.append((path, label))
            else:
                logger.warning("skipping %s: %s", path, reason)
                skipped.append((path, reason))
    return samples, list(class_names), skipped


class ImageDataset(Dataset):
    """(image tensor, label) pairs from (path, label) samples; an unreadable image is replaced, not fatal."""

    def __init__(self, samples: list[Sample], transform: Callable | None = None) -> None:
        self.samples = list(samples)
        self.targets: list[int] = [label for _, label in self.samples]
        self.transform = transform
        self._by_class: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(self.targets):
            self._by_class[label].append(index)

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> Image.Image:
        """Return sample ``index`` as an RGB PIL image (raises OSError when unreadable)."""
        with Image.open(self.samples[index][0]) as image:
            return image.convert("RGB")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = self.targets[index]
        fallbacks = (i for i in self._by_class[label] if i != index)  # only walked when a read fails
        attempt, image = index, None
        for _ in range(5):
            try:
                image = self.load(attempt)
                break
            except (OSError, ValueError, SyntaxError) as exc:
                logger.warning(
                    "cannot read %s (%s): using another image of the same class", self.samples[attempt][0], exc
                )
                attempt = next(fallbacks, None)
                if attempt is None:
                    break
        if image is None:
            raise RuntimeError(
                f"no readable image of class {label} near {self.samples[index][0]}: check the data folder"
            )
        return (self.transform(image) if self.transform else image), label


@dataclass
class Splits:
    """Train / val / test samples of one data folder and its class names."""

    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    class_names: list[str]
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def stratified_split(
    samples: list[Sample], *, seed: int, val_fraction: float, test_fraction: float
) -> tuple[list[Sample], list[Sample], list[Sample]]:
    """Return (train, val, test) with each class split by the fractions, seeded."""
    rng = random.Random(seed)
    by_class: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_class[sample[1]].append(sample)
    train, val, test = [], [], []
    for label in sorted(by_class):
        items = sorted(by_class[label])
        rng.shuffle(items)
        n_val, n_test = round(len(items) * val_fraction), round(len(items) * test_fraction)
        if len(items) - n_val - n_test < 1:
            n_val, n_test = 0, 0  # too few images: keep them all for training
        val += items[:n_val]
        test += items[n_val : n_val + n_test]
        train += items[n_val + n_test :]
    return train, val, test


def _save_split(path: Path, root: Path, splits: Splits) -> None:
    data = {"class_names": splits.class_names}
    for name in SPLIT_NAMES:
        data[name] = [[str(p.relative_to(root)), label] for p, label in getattr(splits, name)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def _load_split(path: Path, root: Path) -> Splits:
    try:
        data = json.loads(path.read_text())
        lists = {name: [(root / rel, int(label)) for rel, label in data[name]] for name in SPLIT_NAMES}
        class_names = list(data["class_names"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"split file {path} is damaged ({exc}): delete it to make a new split") from exc
    missing = [p for samples in lists.values() for p, _ in samples if not p.is_file()]
    if missing:
        raise ValueError(
            f"split file {path} names {len(missing)} missing images (e.g. {missing[0]}): delete it to re-split"
        )
    return Splits(class_names=class_names, **lists)


def resolve_splits(
    data_dir: Path,
    *,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    split_file: Path | None = None,
) -> Splits:
    """Return the data's splits: its train/ val/ test/ folders, else a stratified split saved to split_file."""
    data_dir = Path(data_dir)
    if (data_dir / "train").is_dir():
        train, class_names, skipped = scan_image_folder(data_dir / "train")
        parts = {"train": train}
        for name in ("val", "test"):
            parts[name] = []
            if (data_dir / name).is_dir():
                parts[name], _, bad = scan_image_folder(data_dir / name, class_names)
                skipped += bad
        return Splits(class_names=class_names, skipped=skipped, **parts)
    if split_file is not None and Path(split_file).is_file():
        logger.info("reusing the split in %s", split_file)
        return _load_split(Path(split_file), data_dir)
    samples, class_names, skipped = scan_image_folder(data_dir)
    train, val, test = stratified_split(samples, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)
    splits = Splits(train, val, test, class_names, skipped)
    if split_file is not None:
        _save_split(Path(split_file), data_dir, splits)
    return splits


def _image_roots(data_dir: Path) -> list[Path]:
    """Return the class-folder roots of a data folder: its train/ val/ test/ folders when it has them, else itself."""
    if (data_dir / "train").is_dir():
        return [data_dir / name for name in SPLIT_NAMES if (data_dir / name).is_dir()]
    return [data_dir]


def add_extra_training_data(splits: Splits, extra_dirs: Sequence[Path]) -> Splits:
    """Return ``splits`` with every image of ``extra_dirs`` added to train, matched to classes by folder name.

    Classes only the extra folders have are appended after the existing ones (their indices stay put);
    val and test are left as they are, so they still measure the same thing.
    """
    class_names = list(splits.class_names)
    index = {name: i for i, name in enumerate(class_names)}
    train, skipped = list(splits.train), list(splits.skipped)
    for extra in extra_dirs:
        extra = Path(extra)
        for root in _image_roots(extra):
            samples, names, bad = scan_image_folder(root)
            for name in names:
                if name not in index:
                    index[name] = len(class_names)
                    class_names.append(name)
            train += [(path, index[names[label]]) for path, label in samples]
            skipped += bad
            logger.info("added %d training images from %s", len(samples), root)
    return Splits(train=train, val=splits.val, test=splits.test, class_names=class_names, skipped=skipped)


def load_display_names(path: Path | None, class_names: list[str]) -> list[str]:
    """Return one display name per class from a JSON {folder name: display name}; missing ones keep the folder name."""
    if path is None:
        return list(class_names)
    path = Path(path)
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"class-names file {path} does not exist: check the --class-names path") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"class-names file {path} is not valid JSON ({exc}): it must map folder names to display names"
        ) from exc
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValueError(f"class-names file {path} must be a JSON object of folder name -> display name (strings)")
    return [mapping.get(name, name) for name in class_names]


def build_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    workers: int,
    sampler: Sampler | None = None,
    shuffle: bool = False,
    drop_last: bool = False,
    device: torch.device | str = "cpu",
) -> DataLoader:
    """Return a DataLoader with pinned memory on CUDA and persistent workers when there are any."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=shuffle if sampler is None else False,
        num_workers=workers,
        pin_memory=torch.device(device).type == "cuda",
        drop_last=drop_last,
        persistent_workers=workers > 0,
    )
