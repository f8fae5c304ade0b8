"""manage.py evaluate: metrics, plots and a table for a checkpoint on an ImageFolder split."""

from __future__ import annotations

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.versions import RegistryError, checkpoint_of
from plantml.evaluation.calibration import CalibrationError
from plantml.evaluation.config import EvaluateConfig
from plantml.evaluation.evaluate import EvaluationError, evaluate_checkpoint, format_report
from plantml.files import CheckpointError
from plantml.options import CONFIG_HELP, ConfigError, add_arguments, resolve


class Command(BaseCommand):
    help = (
        "Evaluate a checkpoint (or a registered model) on an ImageFolder split: top-1/top-5, "
        "macro top-K, per-class precision/recall/specificity/F1, confusion matrix and ROC/AUC. "
        "Writes evaluation.json and PNG plots and prints a table."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
        add_arguments(parser, EvaluateConfig)

    def handle(self, *args, **options) -> None:
        try:
            c = resolve(EvaluateConfig, options, options.get("config"))
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        try:
            checkpoint, _ = checkpoint_of(c.checkpoint)
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc
        try:
            result = evaluate_checkpoint(
                checkpoint,
                c.data,
                split=c.split,
                output_dir=c.output,
                tta=c.tta,
                tta_scales=c.tta_scales,
                batch_size=c.batch_size,
                workers=c.workers,
                top_k=c.top_k,
                device=c.device,
                split_file=c.split_file,
                allow_missing_classes=c.allow_missing_classes,
                ood=c.ood,
            )
        except (CheckpointError, EvaluationError, CalibrationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        tta = f"TTA flips x scales {c.tta_scales}" if c.tta else "no TTA"
        self.stdout.write(f"{checkpoint} on {c.data} ({c.split} split, {tta})")
        self.stdout.write(format_report(result.metrics, top_k=c.top_k, rows=c.rows))
        if result.skipped:
            skipped = len(result.skipped)
            self.stdout.write(self.style.WARNING(f"skipped {skipped} unreadable files (see evaluation.json)"))
        written = ", ".join(path.name for path in result.files)
        self.stdout.write(self.style.SUCCESS(f"wrote {written} to {result.output_dir}"))
