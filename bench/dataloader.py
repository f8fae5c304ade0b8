"""Data path figures: training input pipeline img/s vs raw JPEG decode of the same files, and a 1,081-class scale check.

1. Pipeline: the training loader (ImageDataset + train transform + draft decode, N workers) over
   flowers5's train images, against a bare loop of Image.open + convert("RGB") on the same files.
2. Scale check: a generated PlantNet-300K v1.1 tree (default 1,081 species x 30 photos) is scanned
   twice (cold, then from the scan cache), then trained one epoch and evaluated (convnextv2_atto,
   random init, small input); prints wall time and peak memory (this process and its loader workers).
    python -m bench.dataloader [DATA] [--workers N --images N --classes 1081 --per-class 30 --skip-scale]
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.common import parser, quiet_logging, require_dataset
from plantml.data import ImageDataset, build_loader, resolve_splits, resolve_workers, scan_image_folder
from plantml.training import recipes
from plantml.transforms import train_transform

SPLIT_COUNTS = (("train", 2 / 3), ("val", 1 / 6), ("test", 1 / 6))


def raw_decode_rate(paths: list[Path]) -> float:
    """Return img/s of open + full decode to RGB, one process."""
    started = time.perf_counter()
    for path in paths:
        with Image.open(path) as image:
            image.convert("RGB").load()
    return len(paths) / (time.perf_counter() - started)


def pipeline_rate(paths: list[Path], workers: int, input_size: int, batch_size: int = 32, epochs: int = 2) -> float:
    """Return img/s of the training loader (decode, random crop, flip, tensor, normalise, batching)."""
    dataset = ImageDataset([(p, 0) for p in paths], train_transform(input_size), draft_size=round(input_size / 0.875))
    loader = build_loader(dataset, batch_size=batch_size, workers=workers, shuffle=True)
    next(iter(loader))  # workers started and warm, as in every epoch after the first
    started, seen = time.perf_counter(), 0
    for _ in range(epochs):
        for images, _ in loader:
            seen += len(images)
    return seen / (time.perf_counter() - started)


def make_plantnet_tree(root: Path, classes: int, per_class: int, size: int) -> Path:
    """Write a PlantNet-300K v1.1 tree of generated JPEGs with its species-name and metadata JSON."""
    names, metadata = {}, {}
    for c in range(classes):
        species_id = str(1_355_000 + c)
        names[species_id] = f"Genus{c % 97} species{c} L."
        start = 0
        for split, share in SPLIT_COUNTS:
            count = max(1, round(per_class * share))
            folder = root / "images" / split / species_id
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(start, start + count):
                image_id = f"{species_id}_{i}"
                Image.new("RGB", (size, size * 3 // 4), ((c * 7) % 256, (i * 40) % 256, 90)).save(
                    folder / f"{image_id}.jpg", quality=80
                )
                metadata[image_id] = {"species_id": species_id, "split": split}
            start += count
    (root / "plantnet300K_species_id_2_name.json").write_text(json.dumps(names))
    (root / "plantnet300K_metadata.json").write_text(json.dumps(metadata))
    return root


def peak_memory_mb() -> tuple[float, float]:
    """Return (this process, largest finished child) peak resident memory in MiB."""
    to_mb = 1 / 1024  # ru_maxrss is in KiB on Linux
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb,
    )


def scale_check(args) -> None:
    from plantml.training.config import resolve_config
    from plantml.training.run import train

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        root = make_plantnet_tree(Path(tmp) / "plantnet300K", args.classes, args.per_class, args.image_size)
        print(f"generated {args.classes} species x {args.per_class} photos in {time.perf_counter() - started:.1f} s")
        times = []
        for _ in range(2):
            started = time.perf_counter()
            splits = resolve_splits(root)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for path, _ in splits.train + splits.val + splits.test:
            with Image.open(path) as image:
                image.verify()
        verify = time.perf_counter() - started
        print(
            f"scan: open + verify every file (what the scan did before) {verify:.2f} s; "
            f"scan: first {times[0]:.2f} s, second (scan cache) {times[1]:.2f} s, ratio {times[0] / times[1]:.1f}x; "
            f"{len(splits.class_names)} species, {len(splits.train)}/{len(splits.val)}/{len(splits.test)} images"
        )
        config = resolve_config(
            recipes.tiny(
                data=root,
                output=Path(tmp) / "run",
                input_size=args.input_size,
                batch_size=args.batch_size,
                per_class_cap=args.per_class_cap,
                workers=args.workers,
                ema=False,
                mixup=0.0,
            )
        )
        started = time.perf_counter()
        result = train(config)
        wall = time.perf_counter() - started
        own, child = peak_memory_mb()
        report = json.loads((result.run_dir / "metrics.json").read_text())
        m = report["test"]
        print(
            f"train 1 epoch + evaluate at {args.classes} classes: {wall:.1f} s wall; peak memory {own:.0f} MiB "
            f"(main process), {child:.0f} MiB (largest loader worker)"
        )
        print(
            f"  {m['num_samples']} test images, top-1 {m['top1']:.4f}, macro top-1 {m['macro_top1']:.4f}, "
            f"average-5 {m.get('average_5', {}).get('accuracy', 0):.4f}; "
            f"outputs: {sorted(p.name for p in result.run_dir.iterdir() if p.suffix in ('.png', '.csv'))}"
        )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=None, help="loader workers (default: the cores, at most 8)")
    p.add_argument("--images", type=int, default=512, help="flowers5 train images for the pipeline figure")
    p.add_argument("--input-size", type=int, default=224, help="pipeline crop size (default 224)")
    p.add_argument("--classes", type=int, default=1081, help="scale check: species (default 1081, as PlantNet-300K)")
    p.add_argument("--per-class", type=int, default=30, help="scale check: photos per species (default 30)")
    p.add_argument("--image-size", type=int, default=96, help="scale check: generated photo width (default 96)")
    p.add_argument("--per-class-cap", type=int, default=2, help="scale check: training draws per species (default 2)")
    p.add_argument("--batch-size", type=int, default=64, help="scale check batch size (default 64)")
    p.add_argument("--skip-scale", action="store_true", help="only the pipeline figure")
    args = p.parse_args()
    args.scale_input_size = 32
    quiet_logging()
    require_dataset(args.data)
    workers = resolve_workers(args.workers)
    samples, _, _ = scan_image_folder(args.data / "train")
    paths = [path for path, _ in samples][: args.images]
    raw = raw_decode_rate(paths)
    piped = pipeline_rate(paths, workers, args.input_size)
    print(
        f"{len(paths)} flowers5 photos: raw decode {raw:.0f} img/s (1 process) | training pipeline {piped:.0f} img/s "
    )
    print(f"  ({workers} workers, {args.input_size}px crop) | ratio pipeline / raw {piped / raw:.2f}")
    if not args.skip_scale:
        args.input_size = args.scale_input_size
        scale_check(args)


if __name__ == "__main__":
    main()
