"""manage.py train: fine-tune a timm model on an image folder, then register its best checkpoint."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.registry import RegistryError, register_checkpoint
from plantml.checkpoint import CheckpointError
from plantml.training.config import ConfigError, TrainConfig, resolve_config
from plantml.training.engine import format_epoch
from plantml.training.run import RunResult, train
from plantml.weights import WeightsError

S = argparse.SUPPRESS  # options not given stay absent, so --config values are not overwritten by defaults
D = TrainConfig()


class Command(BaseCommand):
    help = (
        "Fine-tune a timm classifier on an ImageFolder tree (train/ val/ test/ sub-folders, or one folder "
        "split for you) with the long-tail recipe; writes RUN_DIR/{best,last}.pt, metrics.json, config.yaml "
        "and plots, then registers best.pt. Data-parallel: torchrun --nproc_per_node=N manage.py train ..."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--config", type=Path, default=S, help="YAML file of option defaults (command-line options win)"
        )
        data = parser.add_argument_group("data")
        data.add_argument("--data", type=Path, default=S, help="image folder: class sub-folders, or train/ val/ test/")
        data.add_argument(
            "--extra-data",
            type=Path,
            action="append",
            default=S,
            help="more training images (e.g. from export-feedback), merged by class name, new classes allowed; "
            "val/test stay --data's; repeat for several folders",
        )
        data.add_argument("--output", type=Path, default=S, help="run directory for checkpoints, metrics, plots")
        data.add_argument("--class-names", type=Path, default=S, help="JSON {folder name: display name}")
        data.add_argument(
            "--val-fraction",
            type=float,
            default=S,
            help=f"share held out for validation without val/ (default {D.val_fraction})",
        )
        data.add_argument(
            "--test-fraction",
            type=float,
            default=S,
            help=f"share held out for testing without test/ (default {D.test_fraction})",
        )
        data.add_argument("--workers", type=int, default=S, help=f"DataLoader worker processes (default {D.workers})")
        model = parser.add_argument_group("model")
        model.add_argument("--model", default=S, help=f"timm architecture (default {D.model})")
        model.add_argument(
            "--input-size", type=int, default=S, help=f"training resolution in pixels (default {D.input_size})"
        )
        model.add_argument("--head", choices=("linear", "mlp"), default=S, help="classifier head (default linear)")
        model.add_argument("--head-hidden", type=int, default=S, help=f"MLP head width (default {D.head_hidden})")
        model.add_argument("--drop-path", type=float, default=S, help="stochastic depth rate (default 0)")
        model.add_argument("--weights", type=Path, default=S, help="start from this state dict or plantsite checkpoint")
        model.add_argument(
            "--pretrained",
            action=argparse.BooleanOptionalAction,
            default=S,
            help="start from ImageNet weights (timm hub; offline package for tf_efficientnet_lite0); default on",
        )
        recipe = parser.add_argument_group("recipe")
        recipe.add_argument(
            "--sampling", choices=("balanced", "sqrt", "uniform"), default=S, help="epoch sampling (default balanced)"
        )
        recipe.add_argument(
            "--per-class-cap",
            type=int,
            default=S,
            help=f"at most this many images per class per epoch (default {D.per_class_cap})",
        )
        recipe.add_argument(
            "--tau", type=float, default=S, help=f"logit adjustment strength, 0 = plain CE (default {D.tau})"
        )
        recipe.add_argument(
            "--class-weights", action=argparse.BooleanOptionalAction, default=S, help="effective-number class weights"
        )
        recipe.add_argument(
            "--class-weights-beta",
            type=float,
            default=S,
            help=f"beta of the effective number (default {D.class_weights_beta})",
        )
        recipe.add_argument("--label-smoothing", type=float, default=S, help=f"(default {D.label_smoothing})")
        recipe.add_argument("--mixup", type=float, default=S, help=f"Mixup alpha, 0 = off (default {D.mixup})")
        recipe.add_argument("--cutmix", type=float, default=S, help=f"CutMix alpha, 0 = off (default {D.cutmix})")
        recipe.add_argument(
            "--mixup-off-epoch", type=int, default=S, help="epoch (0-based, whole run) at which Mixup stops"
        )
        recipe.add_argument(
            "--cutmix-off-epoch", type=int, default=S, help="epoch (0-based, whole run) at which CutMix stops"
        )
        recipe.add_argument(
            "--ema", action=argparse.BooleanOptionalAction, default=S, help="keep an EMA of the weights (default on)"
        )
        recipe.add_argument("--ema-decay", type=float, default=S, help=f"(default {D.ema_decay})")
        optim = parser.add_argument_group("optimisation")
        optim.add_argument("--batch-size", type=int, default=S, help=f"per process (default {D.batch_size})")
        optim.add_argument("--lr", type=float, default=S, help=f"backbone learning rate (default {D.lr})")
        optim.add_argument("--head-lr", type=float, default=S, help=f"head learning rate (default {D.head_lr})")
        optim.add_argument(
            "--weight-decay", type=float, default=S, help=f"AdamW decay, not on bias/norm (default {D.weight_decay})"
        )
        optim.add_argument(
            "--warmup-epochs",
            type=float,
            default=S,
            help=f"linear warm-up per phase, then cosine (default {D.warmup_epochs})",
        )
        optim.add_argument(
            "--min-lr-ratio",
            type=float,
            default=S,
            help=f"cosine floor as a share of the lr (default {D.min_lr_ratio})",
        )
        optim.add_argument(
            "--clip-grad", type=float, default=S, help=f"gradient norm clip, 0 = off (default {D.clip_grad})"
        )
        phases = parser.add_argument_group("phases")
        phases.add_argument("--epochs", type=int, default=S, help=f"full fine-tune epochs (default {D.epochs})")
        phases.add_argument(
            "--head-epochs", type=int, default=S, help=f"head-only warm-up epochs first (default {D.head_epochs})"
        )
        phases.add_argument(
            "--hires-epochs", type=int, default=S, help="higher-resolution epochs last, lr x0.1, no mixup/smoothing"
        )
        phases.add_argument(
            "--hires-size", type=int, default=S, help="resolution of the hires phase (default --input-size)"
        )
        phases.add_argument(
            "--patience", type=int, default=S, help=f"early stopping per phase, 0 = off (default {D.patience})"
        )
        phases.add_argument(
            "--min-epochs", type=int, default=S, help=f"never stop a phase before this (default {D.min_epochs})"
        )
        runtime = parser.add_argument_group("runtime")
        runtime.add_argument("--seed", type=int, default=S, help="seed of splits, sampling and augmentation")
        runtime.add_argument("--device", default=S, help="auto, cpu or cuda[:N] (default auto)")
        runtime.add_argument(
            "--precision",
            choices=("auto", "fp32", "bf16", "fp16"),
            default=S,
            help="auto: bf16/fp16 on GPU, fp32 on CPU (bf16 on CPU is much slower)",
        )
        runtime.add_argument("--resume", type=Path, default=S, help="continue exactly from RUN_DIR/last.pt")
        registry = parser.add_argument_group("registry")
        registry.add_argument("--name", default=S, help="model version name (default: from the run directory)")
        registry.add_argument(
            "--activate", action=argparse.BooleanOptionalAction, default=S, help="make the new version live"
        )
        registry.add_argument(
            "--register", action=argparse.BooleanOptionalAction, default=S, help="register best.pt (default on)"
        )

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
        summary = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items() if isinstance(v, float))
        self.stdout.write(
            f"best checkpoint {result.best_checkpoint} ({result.metrics.get('split', 'no')} split: {summary})"
        )
        if config.register:
            self.register(result, config)

    def print_epoch(self, row: dict) -> None:
        self.stdout.write(format_epoch(row))

    def register(self, result: RunResult, config: TrainConfig) -> None:
        name = config.name or _default_name(Path(config.output))
        try:
            version = register_checkpoint(
                result.best_checkpoint, name=name, activate=config.activate, metrics=result.metrics
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
