"""Image folders, splits, datasets and loaders for training and evaluation; no Django here."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from .datasets.imagefolder import scan_image_folder
from .datasets.plantnet300k import find_plantnet, load_plantnet
from .datasets.scan import ScanCache
from .datasets.splits import SPLIT_NAMES, Sample, Splits
from .species_facts import SpeciesInfo

__all__ = ["SPLIT_NAMES", "Sample", "Splits", "scan_image_folder"]  # re-exported: where callers have always found them

logger = logging.getLogger(__name__)


class ImageDataset(Dataset):
    """(image tensor, label) pairs from (path, label) samples, each file checked as it is read.

    A file that cannot be read is marked in ``bad`` (shared with loader workers) and then either
    replaced by another image of its class (training) or returned with label -1 (evaluation,
    ``replace_bad=False``) so the caller can leave it out. ``draft_size`` lets Pillow decode a
    large JPEG at a reduced scale whose shorter side is still at least that many pixels.
    """

    def __init__(
        self,
        samples: list[Sample],
        transform: Callable | None = None,
        *,
        draft_size: int | None = None,
        replace_bad: bool = True,
    ) -> None:
        self.samples = list(samples)
        self.targets: list[int] = [label for _, label in self.samples]
        self.transform = transform
        self.draft_size = draft_size
        self.replace_bad = replace_bad
        self.bad = torch.zeros(len(self.samples), dtype=torch.bool).share_memory_()
        self._by_class: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(self.targets):
            self._by_class[label].append(index)

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> Image.Image:
        """Return sample ``index`` as an RGB PIL image (raises OSError when unreadable)."""
        with Image.open(self.samples[index][0]) as image:
            if self.draft_size and image.format == "JPEG":
                image.draft("RGB", (self.draft_size, self.draft_size))
            return image.convert("RGB")

    def bad_files(self) -> list[tuple[Path, str]]:
        """Return (path, reason) of every file found unreadable so far, in any worker."""
        return [(self.samples[i][0], "not a readable image") for i in self.bad.nonzero().flatten().tolist()]

    def _read(self, index: int) -> Image.Image | None:
        if self.bad[index]:
            return None
        try:
            return self.load(index)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            logger.warning("skipping unreadable %s (%s)", self.samples[index][0], exc)
            self.bad[index] = True
            return None

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = self.targets[index]
        image = self._read(index)
        if image is None and not self.replace_bad:
            placeholder = Image.new("RGB", (self.draft_size or 32, self.draft_size or 32))
            return (self.transform(placeholder) if self.transform else placeholder), -1
        if image is None:
            for other in self._by_class[label]:  # only walked when a read fails
                if other != index and (image := self._read(other)) is not None:
                    logger.info("using another image of the same class instead of %s", self.samples[index][0])
                    break
        if image is None:
            raise RuntimeError(
                f"no readable image of class {label} near {self.samples[index][0]}: check the data folder"
            )
        return (self.transform(image) if self.transform else image), label


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
    cache: ScanCache | None = None,
) -> Splits:
    """Return the data's splits: PlantNet-300K's own, train/ val/ test/ folders, else a stratified split.

    The stratified split is saved to ``split_file`` and reused from it. The folder listing is kept in
    a scan cache (``ScanCache.beside(data_dir)`` unless given) so the next run does not list again.
    """
    data_dir = Path(data_dir)
    cache = cache if cache is not None else ScanCache.beside(data_dir)
    try:
        return _resolve_splits(data_dir, seed, val_fraction, test_fraction, split_file, cache)
    finally:
        cache.save()


def _resolve_splits(data_dir, seed, val_fraction, test_fraction, split_file, cache) -> Splits:
    layout = find_plantnet(data_dir)
    if layout is not None:
        return load_plantnet(layout, cache)
    if (data_dir / "train").is_dir():
        train, class_names, skipped = scan_image_folder(data_dir / "train", cache=cache)
        parts = {"train": train}
        for name in ("val", "test"):
            parts[name] = []
            if (data_dir / name).is_dir():
                parts[name], _, bad = scan_image_folder(data_dir / name, class_names, cache)
                skipped += bad
        return Splits(class_names=class_names, skipped=skipped, **parts)
    if split_file is not None and Path(split_file).is_file():
        logger.info("reusing the split in %s", split_file)
        return _load_split(Path(split_file), data_dir)
    samples, class_names, skipped = scan_image_folder(data_dir, cache=cache)
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
    class_names, species = list(splits.class_names), list(splits.species)
    index = {name: i for i, name in enumerate(class_names)}
    train, skipped = list(splits.train), list(splits.skipped)
    for extra in extra_dirs:
        for root in _image_roots(Path(extra)):
            samples, names, bad = scan_image_folder(root)
            for name in names:
                if name not in index:
                    index[name] = len(class_names)
                    class_names.append(name)
                    if species:  # the dataset names its species: a new class is known by its folder name
                        species.append(SpeciesInfo(scientific_name=""))
            train += [(path, index[names[label]]) for path, label in samples]
            skipped += bad
            logger.info("added %d training images from %s", len(samples), root)
    return dataclasses.replace(splits, train=train, class_names=class_names, skipped=skipped, species=species)


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


MAX_DEFAULT_WORKERS = 8  # beyond this, decoding rarely limits one GPU and memory grows per worker


def resolve_workers(workers: int | None) -> int:
    """Return ``workers``, or when None the cores this process may use (at most MAX_DEFAULT_WORKERS)."""
    if workers is not None:
        return workers
    return min(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, MAX_DEFAULT_WORKERS
    )


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
    """Return a DataLoader with persistent workers when there are any, pinned memory and prefetch on CUDA."""
    cuda = torch.device(device).type == "cuda"
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=shuffle if sampler is None else False,
        num_workers=workers,
        pin_memory=cuda,
        drop_last=drop_last,
        persistent_workers=workers > 0,
        prefetch_factor=(4 if cuda else 2) if workers > 0 else None,
    )
