"""manage.py evaluate: metrics, plots and a table for a checkpoint on an ImageFolder split."""

from __future__ import annotations

from pathlib import Path

import torch
from django.core.management.base import BaseCommand, CommandError

from ml.registry import RegistryError, get_version, verify
from plantml.checkpoint import CheckpointError
from plantml.evaluation.evaluate import SPLITS, EvaluationError, evaluate_checkpoint, format_report


class Command(BaseCommand):
    help = (
        "Evaluate a checkpoint (or a registered model) on an ImageFolder split: top-1/top-5, "
        "macro top-K, per-class precision/recall/specificity/F1, confusion matrix and ROC/AUC. "
        "Writes evaluation.json and PNG plots and prints a table."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("checkpoint", help="checkpoint file (.pt) or a registered model's name (`models list`)")
        data = parser.add_argument_group("data")
        data.add_argument(
            "--data",
            required=True,
            type=Path,
            help="ImageFolder tree: train/ val/ test/ folders, or one folder per class",
        )
        data.add_argument("--split", default="test", help=f"images to evaluate: {', '.join(SPLITS)} (default test)")
        data.add_argument(
            "--split-file", type=Path, help="split.json saved by the training run, for a tree without train/ val/ test/"
        )
        data.add_argument(
            "--allow-missing-classes",
            action="store_true",
            help="evaluate even when some of the checkpoint's classes have no folder in the data",
        )
        data.add_argument("--batch-size", type=int, default=32, help="images per batch (default 32)")
        data.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (default 2; 0 = none)")
        tta = parser.add_argument_group("test-time augmentation")
        tta.add_argument("--tta", action="store_true", help="average predictions over horizontal flips and scales")
        tta.add_argument(
            "--tta-scales",
            type=float,
            nargs="+",
            default=[1.0],
            metavar="S",
            help="zoom factors for --tta, e.g. 1.0 1.15 (default 1.0)",
        )
        output = parser.add_argument_group("output")
        output.add_argument(
            "--output", type=Path, help="folder for evaluation.json and the plots (default: beside the checkpoint)"
        )
        output.add_argument("--top-k", type=int, default=5, help="K of the macro-average top-K accuracy (default 5)")
        output.add_argument("--rows", type=int, default=20, help="per-class rows to print: the worst N (default 20)")
        parser.add_argument("--device", help="cpu, cuda or cuda:N (default: the GPU when there is one)")

    def handle(self, *args, **options) -> None:
        self._validate(options)
        checkpoint = self._checkpoint_path(options["checkpoint"])
        try:
            result = evaluate_checkpoint(
                checkpoint,
                options["data"],
                split=options["split"],
                output_dir=options["output"],
                tta=options["tta"],
                tta_scales=options["tta_scales"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                top_k=options["top_k"],
                device=options["device"],
                split_file=options["split_file"],
                allow_missing_classes=options["allow_missing_classes"],
            )
        except (CheckpointError, EvaluationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        tta = f"TTA flips x scales {options['tta_scales']}" if options["tta"] else "no TTA"
        self.stdout.write(f"{checkpoint} on {options['data']} ({options['split']} split, {tta})")
        self.stdout.write(format_report(result.metrics, top_k=options["top_k"], rows=options["rows"]))
        if result.skipped:
            skipped = len(result.skipped)
            self.stdout.write(self.style.WARNING(f"skipped {skipped} unreadable files (see evaluation.json)"))
        written = ", ".join(path.name for path in result.files)
        self.stdout.write(self.style.SUCCESS(f"wrote {written} to {result.output_dir}"))

    def _validate(self, options: dict) -> None:
        checks = [
            (options["split"] in SPLITS, f"--split must be one of {', '.join(SPLITS)}, got {options['split']!r}"),
            (options["data"].is_dir(), f"--data {options['data']} is not a folder: pass the ImageFolder tree to use"),
            (options["batch_size"] >= 1, "--batch-size must be at least 1 (e.g. 32)"),
            (options["workers"] >= 0, "--workers must be 0 or more (0 loads images in the main process)"),
            (options["top_k"] >= 1, "--top-k must be at least 1 (e.g. 5)"),
            (options["rows"] >= 1, "--rows must be at least 1 (e.g. 20)"),
            (
                all(0.25 <= s <= 4.0 for s in options["tta_scales"]),
                "--tta-scales must lie between 0.25 and 4.0, e.g. 1.0 1.15",
            ),
            (options["tta"] or options["tta_scales"] == [1.0], "--tta-scales only applies with --tta: add --tta"),
            (
                options["split_file"] is None or options["split_file"].is_file(),
                f"--split-file {options['split_file']} does not exist: pass the training run's split.json",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise CommandError(message)
        device = options["device"]
        if device is not None:
            try:
                parsed = torch.device(device)
            except RuntimeError:
                raise CommandError(f"--device {device!r} is not a device: use cpu, cuda or cuda:N") from None
            if parsed.type == "cuda" and not torch.cuda.is_available():
                raise CommandError("--device cuda but no GPU is available here: use --device cpu or leave it out")
            if parsed.type not in ("cpu", "cuda"):
                raise CommandError(f"--device {device!r} is not supported: use cpu, cuda or cuda:N")

    def _checkpoint_path(self, value: str) -> Path:
        path = Path(value)
        if path.is_file():
            return path
        try:
            version = get_version(value)
            verify(version)
        except RegistryError as exc:
            raise CommandError(f"{value} is neither a checkpoint file nor a registered model: {exc}") from exc
        return Path(version.checkpoint_path)
