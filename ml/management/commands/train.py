"""manage.py train: fine-tune a timm model on an image folder, then register its best checkpoint."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.versions import RegistryError, register_checkpoint
from plantml.files import CheckpointError
from plantml.options import CONFIG_HELP, ConfigError, add_arguments
from plantml.training.config import TrainConfig, resolve_config
from plantml.training.engine import format_epoch
from plantml.training.run import RunResult, train
from plantml.weights import WeightsError


class Command(BaseCommand):
    help = (
        "Fine-tune a timm classifier on an ImageFolder tree (train/ val/ test/ sub-folders, or one folder "
        "split for you) with the long-tail recipe; writes RUN_DIR/{best,last}.pt, metrics.json, config.yaml "
        "and plots, then registers best.pt. Data-parallel: torchrun --nproc_per_node=N manage.py train ..."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
        add_arguments(parser, TrainConfig)

    def handle(self, *args, **options) -> None:
        try:
            config = resolve_config(options, options.get("config"))
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        logging.getLogger("ml").setLevel(logging.INFO if options["verbosity"] > 1 else logging.WARNING)
        try:
            result = train(config, on_epoch_end=self.print_epoch)
        except (WeightsError, CheckpointError, ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if not result.is_main:
            return  # under torchrun only rank 0 reports and registers
        record = result.metrics.to_dict()
        summary = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float))
        self.stdout.write(f"best checkpoint {result.best_checkpoint} ({record['split'] or 'no'} split: {summary})")
        if config.register:
            self.register(result, config)

    def print_epoch(self, row: dict) -> None:
        self.stdout.write(format_epoch(row))

    def register(self, result: RunResult, config: TrainConfig) -> None:
        name = config.name or _default_name(Path(config.output))
        try:
            version = register_checkpoint(
                result.best_checkpoint,
                name=name,
                title=config.title or "",
                activate=config.activate,
                metrics=result.metrics.to_dict(),
            )
        except RegistryError as exc:
            raise CommandError(
                f"trained, but not registered: {exc}; register later with `manage.py models import {result.best_checkpoint}`"
            ) from exc
        state = "active" if version.is_active else "not active: `manage.py models activate " + version.name + "`"
        self.stdout.write(self.style.SUCCESS(f"registered model {version.name} ({state})"))


def _default_name(run_dir: Path) -> str | None:
    """Return the run directory's name for the registry, or None (the registry then picks one) when taken."""
    name = re.sub(r"[^-a-zA-Z0-9_]+", "-", run_dir.resolve().name).strip("-")
    return name if name and not ModelVersion.objects.filter(name=name).exists() else None
