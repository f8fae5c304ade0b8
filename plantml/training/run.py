"""``train(config) -> RunResult``: the one service function behind ``manage.py train``; no Django here."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from plantml.checkpoint import ModelSpec, load_checkpoint, model_from_checkpoint, save_checkpoint
from plantml.data import ImageDataset, add_extra_training_data, build_loader, load_display_names, resolve_splits
from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.plots import plot_training_curves, write_evaluation_plots
from plantml.evaluation.runner import predict_loader
from plantml.modeling import create_model
from plantml.transforms import eval_transform, train_transform
from plantml.weights import load_pretrained, pretrained_normalisation

from . import distributed
from .amp import autocast, check_precision, default_precision, grad_scaler
from .config import TrainConfig, save_config
from .ema import WeightEma
from .engine import evaluate, format_epoch, train_one_epoch
from .losses import LogitAdjustedLoss, effective_number_weights
from .mixup import MixupSchedule
from .optim import create_optimizer, warmup_cosine
from .phases import EarlyStopping, Phase, plan_phases
from .resume import load_resume_state, seed_epoch
from .sampling import ClassBalancedSampler

logger = logging.getLogger(__name__)
SUMMARY_KEYS = ("top1", "top5", "macro_top1", "macro_top5", "macro_f1", "num_samples")


@dataclass
class RunResult:
    """What a run produced; checkpoints and metrics are None on ranks other than 0."""

    run_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    is_main: bool = True


def train(config: TrainConfig, on_epoch_end: Callable[[dict], None] | None = None) -> RunResult:
    """Train ``config``'s model through its phases, write RUN_DIR outputs on rank 0 and return the result."""
    context = distributed.init_distributed(config.device)
    try:
        return TrainingRun(config, context, on_epoch_end).execute()
    finally:
        distributed.shutdown(context)


class TrainingRun:
    """The state of one run across phases and epochs (everything last.pt needs to resume)."""

    def __init__(self, config: TrainConfig, context: distributed.DistContext, on_epoch_end: Callable | None) -> None:
        self.c, self.context, self.on_epoch_end = config, context, on_epoch_end
        self.device = context.device
        self.out = Path(config.output)
        self.precision = default_precision(self.device) if config.precision == "auto" else config.precision
        check_precision(self.precision, self.device)
        self.history: list[dict] = []
        self.best_score: float | None = None
        self.epoch = 0  # epochs completed over all phases
        self.phase_index, self.resume_state, self.phase_state = 0, None, None

    # -- set-up ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        c = self.c
        if self.context.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            save_config(c, self.out / "config.yaml")
        split_file = self.out / "split.json" if self.context.is_main else None
        self.splits = resolve_splits(
            c.data, seed=c.seed, val_fraction=c.val_fraction, test_fraction=c.test_fraction, split_file=split_file
        )
        if c.extra_data:
            self.splits = add_extra_training_data(self.splits, c.extra_data)
        if not self.splits.train:
            raise ValueError(f"no training images under {c.data}: put images in one sub-folder per class")
        self.display_names = load_display_names(c.class_names, self.splits.class_names)
        self.mean, self.std = pretrained_normalisation(c.model)
        num_classes = len(self.splits.class_names)
        torch.manual_seed(c.seed)  # the same head initialisation on every rank and every re-run
        self.model = create_model(
            c.model, num_classes, head=c.head, drop_path_rate=c.drop_path, head_hidden=c.head_hidden
        )
        if c.resume:
            self.restore(load_resume_state(c.resume))
            self.weights_source = f"resumed from {c.resume}"
        else:
            self.weights_source = load_pretrained(self.model, c.model, weights=c.weights, pretrained=c.pretrained)
        logger.info("model %s (%d classes) from %s", c.model, num_classes, self.weights_source)
        self.model.to(self.device)
        self.ema = WeightEma(self.model, c.ema_decay) if c.ema else None
        if self.ema and self.resume_state and self.resume_state.get("model_ema"):
            self.ema.load_state_dict(self.resume_state["model_ema"])
        targets = [label for _, label in self.splits.train]
        self.sampler = ClassBalancedSampler(
            targets,
            mode=c.sampling,
            per_class_cap=c.per_class_cap,
            seed=c.seed,
            num_replicas=self.context.world_size,
            rank=self.context.rank,
        )
        self.mixup = MixupSchedule(
            num_classes,
            mixup_alpha=c.mixup,
            cutmix_alpha=c.cutmix,
            mixup_off_epoch=c.mixup_off_epoch,
            cutmix_off_epoch=c.cutmix_off_epoch,
            label_smoothing=c.label_smoothing,
        )
        # the priors are those of the epochs the loss sees, so resampling and adjustment do not correct twice
        weights = (
            effective_number_weights(self.sampler.draws_per_class(), c.class_weights_beta) if c.class_weights else None
        )
        self.loss_parts = {"class_prior": self.sampler.class_frequencies(), "tau": c.tau, "class_weights": weights}

    def restore(self, state: dict) -> None:
        """Take weights, history and position from a last.pt so the run continues where it stopped."""
        self.model.load_state_dict(state["model"])
        self.history, self.best_score, self.epoch = list(state["history"]), state.get("best_score"), int(state["epoch"])
        self.phase_index = int(state["phase_index"]) + (1 if state["phase_done"] else 0)
        self.resume_state = state
        self.phase_state = None if state["phase_done"] else state  # a finished phase's optimizer is not carried over
        logger.info("resuming after epoch %d (phase %d)", self.epoch, self.phase_index)

    def spec(self, input_size: int) -> ModelSpec:
        c = self.c
        return ModelSpec(
            c.model,
            self.splits.class_names,
            self.display_names,
            input_size,
            self.mean,
            self.std,
            head=c.head,
            head_hidden=c.head_hidden,
        )

    def loader(self, samples: list, transform, *, sampler=None, drop_last: bool = False):
        dataset = ImageDataset(samples, transform)
        return build_loader(
            dataset,
            batch_size=self.c.batch_size,
            workers=self.c.workers,
            sampler=sampler,
            drop_last=drop_last,
            device=self.device,
        )

    # -- phases ---------------------------------------------------------------------------------
    def execute(self) -> RunResult:
        self.prepare()
        c = self.c
        phases = plan_phases(
            epochs=c.epochs,
            input_size=c.input_size,
            head_epochs=c.head_epochs,
            hires_epochs=c.hires_epochs,
            hires_size=c.hires_size,
        )
        for index, phase in enumerate(phases):
            if index >= self.phase_index:
                self.phase_index = index
                self.run_phase(phase)
                self.phase_state = None
        result = RunResult(self.out, None, None, history=self.history, is_main=self.context.is_main)
        if self.context.is_main:
            result.best_checkpoint, result.last_checkpoint = self.out / "best.pt", self.out / "last.pt"
            result.metrics = self.final_evaluation()
        distributed.barrier(self.context)
        return result

    def run_phase(self, phase: Phase) -> None:
        c, size = self.c, phase.input_size
        optimizer = create_optimizer(
            self.model,
            lr=c.lr * phase.lr_scale,
            head_lr=c.head_lr * phase.lr_scale,
            weight_decay=c.weight_decay,
            train_backbone=phase.train_backbone,
        )
        train_loader = self.loader(
            self.splits.train,
            train_transform(size, self.mean, self.std),
            sampler=self.sampler,
            drop_last=len(self.sampler) >= 2 * c.batch_size,
        )
        val_loader = (
            self.loader(self.splits.val, eval_transform(size, self.mean, self.std)) if self.splits.val else None
        )
        steps = len(train_loader)
        total = phase.epochs * steps
        scheduler = warmup_cosine(
            optimizer,
            warmup_steps=min(round(c.warmup_epochs * steps), total // 2),
            total_steps=total,
            min_ratio=c.min_lr_ratio,
        )
        scaler = grad_scaler(self.device, self.precision)
        stopper = EarlyStopping(c.patience, c.min_epochs)
        smoothing = c.label_smoothing if phase.label_smoothing else 0.0
        criterion = LogitAdjustedLoss(label_smoothing=smoothing, **self.loss_parts).to(self.device)
        start = 0
        if self.phase_state is not None:
            state = self.phase_state
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["lr_scheduler"])
            if state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            stopper.load_state_dict(state["early_stopping"])
            start = int(state["phase_epoch"])
        model = distributed.wrap(self.model, self.context)
        for phase_epoch in range(start, phase.epochs):
            seed_epoch(c.seed, self.epoch, self.context.rank)
            self.sampler.set_epoch(self.epoch)
            mixer = self.mixup.for_epoch(self.epoch) if phase.use_mixup else None
            stats = train_one_epoch(
                model,
                train_loader,
                criterion,
                optimizer,
                scheduler,
                device=self.device,
                precision=self.precision,
                scaler=scaler,
                mixer=mixer,
                ema=self.ema,
                clip_grad=c.clip_grad,
                train_backbone=phase.train_backbone,
                description=f"epoch {self.epoch + 1} [{phase.name}]",
                progress=self.context.is_main,
            )
            stats["train_loss"] = distributed.mean_across(stats["train_loss"], self.context)
            row, kept_model = self.validate(val_loader, phase, stats)
            self.epoch += 1
            stop = stopper.step(row["score"]) if row["score"] is not None else False
            done = stop or phase_epoch + 1 == phase.epochs
            if self.context.is_main:
                self.save(phase, phase_epoch + 1, done, row, kept_model, optimizer, scheduler, scaler, stopper)
            logger.info(format_epoch(row))
            if self.on_epoch_end is not None and self.context.is_main:
                self.on_epoch_end(row)
            distributed.barrier(self.context)
            if stop:
                logger.info("early stopping %s after %d epochs without improvement", phase.name, stopper.bad_epochs)
                break

    def validate(self, val_loader, phase: Phase, stats: dict) -> tuple[dict, torch.nn.Module]:
        """Evaluate raw and EMA weights; return the epoch's history row and the better model."""
        row: dict[str, Any] = {"epoch": self.epoch + 1, "phase": phase.name, **stats, "kept": "raw", "score": None}
        kept = self.model
        if val_loader is None:
            return row, kept
        raw = evaluate(self.model, val_loader, device=self.device, precision=self.precision)
        row.update({f"val_{k}": v for k, v in raw.items()})
        row["score"] = raw["macro_top1"]
        if self.ema is not None:
            averaged = evaluate(self.ema.module, val_loader, device=self.device, precision=self.precision)
            row.update({f"val_{k}_ema": v for k, v in averaged.items()})
            if averaged["macro_top1"] > raw["macro_top1"]:
                row["kept"], row["score"], kept = "ema", averaged["macro_top1"], self.ema.module
        row["is_best"] = self.best_score is None or row["score"] > self.best_score
        return row, kept

    def save(self, phase, phase_epoch, done, row, kept_model, optimizer, scheduler, scaler, stopper) -> None:
        """Write best.pt when the epoch improved (or there is no validation set), last.pt and metrics.json."""
        spec, config = self.spec(phase.input_size), self.c.to_dict()
        metrics = {k: v for k, v in row.items() if k.startswith("val_")}
        if row["score"] is None or row["is_best"]:
            self.best_score = row["score"]
            save_checkpoint(
                self.out / "best.pt",
                kept_model,
                spec,
                config=config,
                metrics=metrics,
                epoch=self.epoch,
                phase=phase.name,
                kept=row["kept"],
                weights_source=self.weights_source,
            )
        self.history.append(row)
        save_checkpoint(
            self.out / "last.pt",
            self.model,
            spec,
            config=config,
            metrics=metrics,
            epoch=self.epoch,
            phase_index=self.phase_index,
            phase_epoch=phase_epoch,
            phase_done=done,
            optimizer=optimizer.state_dict(),
            lr_scheduler=scheduler.state_dict(),
            model_ema=self.ema.state_dict() if self.ema else None,
            scaler=scaler.state_dict(),
            sampler=self.sampler.state_dict(),
            early_stopping=stopper.state_dict(),
            history=self.history,
            best_score=self.best_score,
            weights_source=self.weights_source,
        )
        (self.out / "metrics.json").write_text(json.dumps({"history": self.history}, indent=1))

    # -- the end --------------------------------------------------------------------------------
    def final_evaluation(self) -> dict[str, Any]:
        """Evaluate best.pt on the test split (else val), write metrics.json and the plots; return a summary."""
        split = "test" if self.splits.test else "val" if self.splits.val else None
        plot_training_curves(self.history, self.out / "training_curves.png")
        if split is None:
            logger.warning("no test or val images: the run has no held-out metrics")
            return {}
        payload = load_checkpoint(self.out / "best.pt")
        model, spec = model_from_checkpoint(payload).to(self.device), self.spec(payload["spec"]["input_size"])
        loader = self.loader(
            getattr(self.splits, split), eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
        )
        with autocast(self.device, self.precision):
            targets, probs = predict_loader(model, loader, self.device, description=f"evaluate {split}")
        metrics = compute_metrics(targets, probs, self.display_names)
        write_evaluation_plots(targets, probs, metrics, self.display_names, self.out)
        summary = {
            "split": split,
            **{k: metrics[k] for k in SUMMARY_KEYS if k in metrics},
            **payload.get("metrics", {}),
        }
        extra = {k: v for k, v in payload.items() if k not in ("format_version", "spec", "model", "metrics")}
        save_checkpoint(self.out / "best.pt", model, spec, metrics=summary, **extra)
        report = {"history": self.history, "best_epoch": payload.get("epoch"), "summary": summary, split: metrics}
        (self.out / "metrics.json").write_text(json.dumps(report, indent=1))
        return summary
