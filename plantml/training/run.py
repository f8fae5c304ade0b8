"""``train(config) -> RunResult``: the one service function behind ``manage.py train``; no Django here."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from plantml.checkpoint import ModelSpec, load_checkpoint, model_from_checkpoint, save_checkpoint
from plantml.data import (
    ImageDataset,
    add_extra_training_data,
    build_loader,
    load_display_names,
    resolve_splits,
    resolve_workers,
)
from plantml.datasets.provenance import load_provenance
from plantml.evaluation.calibration import calibrate_and_store, calibration_report, folder_photos, model_outputs
from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.plots import plot_training_curves, write_evaluation_plots
from plantml.evaluation.record import MetricsRecord
from plantml.evaluation.reliability import plot_reliability
from plantml.evaluation.runner import predict_loader
from plantml.evaluation.set_valued import average_k_metrics
from plantml.modeling import create_model
from plantml.open_set import Calibration
from plantml.references import (
    REFERENCES,
    choose_references,
    reference_candidates,
    reference_sources,
    save_reference_features,
    write_reference_photos,
)
from plantml.species_facts import load_species_file
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
from .other_class import OTHER_ROW, split_other_class, with_other_class
from .phases import EarlyStopping, Phase, plan_phases
from .resume import TrainingState, load_resume_state, save_resume_checkpoint, seed_epoch
from .sampling import ClassBalancedSampler

logger = logging.getLogger(__name__)
CROP_PCT = 0.875  # the resize before the centre crop, as ModelSpec.crop_pct


@dataclass
class RunResult:
    """What a run produced; on ranks other than 0 there is no best checkpoint and the metrics record is empty."""

    run_dir: Path
    best_checkpoint: Path | None
    metrics: MetricsRecord = field(default_factory=MetricsRecord)
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
    """One run across phases and epochs; its resumable state is ``self.state`` (a TrainingState)."""

    def __init__(self, config: TrainConfig, context: distributed.DistContext, on_epoch_end: Callable | None) -> None:
        self.c, self.context, self.on_epoch_end = config, context, on_epoch_end
        self.device = context.device
        self.out = Path(config.output)
        self.precision = default_precision(self.device) if config.precision == "auto" else config.precision
        check_precision(self.precision, self.device)
        self.datasets: list[ImageDataset] = []  # every loader's dataset, for the count of unreadable files

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
        # reference photos are shown to every user: only the data set's own photos, never --extra-data (users'
        # feedback photos, kept under their consent and removed when it is withdrawn)
        own_photos = {path for path, _ in self.splits.train}
        if c.extra_data:
            self.splits = add_extra_training_data(self.splits, c.extra_data)
        # checked before training: a wrong --reject-data must not cost a whole run
        self.reject_photos = folder_photos(c.reject_data) if c.reject_data is not None and self.context.is_main else []
        # every rank trains on the unknown-data photos with the "other plant" class; rank 0 also calibrates with them
        self.unknown_photos = folder_photos(c.unknown_data) if c.unknown_data is not None else []
        self.other_class = bool(self.unknown_photos) and c.unknown_training == "other-class"
        self.holdout_photos: list[Path] = []  # val and test photos of --holdout-classes: unknown species
        if c.held_out:
            self.splits, self.holdout_photos = self.splits.hold_out(c.held_out)
        if not self.splits.train:
            raise ValueError(f"no training images under {c.data}: put images in one sub-folder per class")
        if c.species:
            species = load_species_file(c.species, self.splits.class_names, self.splits.species)
            self.splits = dataclasses.replace(self.splits, species=species)
        # the pool the reference photos are chosen from at the end, by the trained model's features
        self.reference_provenance = load_provenance([folder for folder in (c.data, *c.extra_data) if folder])
        self.reference_pool: list[tuple[Path, int]] = []
        if self.context.is_main and c.reference_photos:
            own_train = [(path, label) for path, label in self.splits.train if path in own_photos]
            self.reference_pool = reference_candidates(
                own_train, len(self.splits.class_names), c.reference_photos, self.reference_provenance
            )
        self.display_names = (
            load_display_names(c.class_names, self.splits.class_names) if c.class_names else self.splits.display_names()
        )
        self.unreadable: dict[str, str] = {str(path): reason for path, reason in self.splits.skipped}
        self.mean, self.std = pretrained_normalisation(c.model)
        self.num_species = len(self.splits.class_names)
        num_classes = self.num_species + self.other_class  # the "other plant" class comes last, never shown
        self.train_samples = (
            with_other_class(self.splits.train, self.unknown_photos, self.num_species)
            if self.other_class
            else self.splits.train
        )
        torch.manual_seed(c.seed)  # the same head initialisation on every rank and every re-run
        self.model = create_model(
            c.model, num_classes, head=c.head, drop_path_rate=c.drop_path, head_hidden=c.head_hidden
        )
        if c.resume:
            resumed = load_resume_state(c.resume)
            self.weights_source = f"resumed from {c.resume}"
        else:
            resumed = None
            self.weights_source = load_pretrained(self.model, c.model, weights=c.weights, pretrained=c.pretrained)
        logger.info("model %s (%d classes) from %s", c.model, num_classes, self.weights_source)
        self.model.to(self.device)
        self.ema = WeightEma(self.model, c.ema_decay) if c.ema else None
        targets = [label for _, label in self.train_samples]
        self.sampler = ClassBalancedSampler(
            targets,
            mode=c.sampling,
            per_class_cap=c.per_class_cap,
            seed=c.seed,
            num_replicas=self.context.world_size,
            rank=self.context.rank,
        )
        self.state = TrainingState(self.model, self.ema, self.sampler)
        if resumed is not None:
            self.state.load_state_dict(resumed)
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
            species=[info.to_dict() for info in self.splits.species],
        )

    def loader(self, samples: list, transform, size: int, *, sampler=None, drop_last: bool = False, train=True):
        # JPEGs are decoded at about the resize size; evaluation leaves unreadable files out instead of replacing them
        dataset = ImageDataset(samples, transform, draft_size=round(size / CROP_PCT), replace_bad=train)
        self.datasets.append(dataset)
        return build_loader(
            dataset,
            batch_size=self.c.batch_size,
            workers=resolve_workers(self.c.workers),
            sampler=sampler,
            drop_last=drop_last,
            device=self.device,
        )

    def count_unreadable(self) -> int:
        """Collect the files the loaders found unreadable so far; return how many there are."""
        for dataset in self.datasets:
            self.unreadable.update({str(path): reason for path, reason in dataset.bad_files()})
        return len(self.unreadable)

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
            if index >= self.state.next_phase:
                self.run_phase(index, phase)
        result = RunResult(self.out, None, history=self.state.history, is_main=self.context.is_main)
        if self.context.is_main:
            result.best_checkpoint = self.out / "best.pt"
            result.metrics = self.final_evaluation()
        distributed.barrier(self.context)
        return result

    def run_phase(self, index: int, phase: Phase) -> None:
        c, size = self.c, phase.input_size
        optimizer = create_optimizer(
            self.model,
            lr=c.lr * phase.lr_scale,
            head_lr=c.head_lr * phase.lr_scale,
            weight_decay=c.weight_decay,
            train_backbone=phase.train_backbone,
        )
        train_loader = self.loader(
            self.train_samples,
            train_transform(size, self.mean, self.std),
            size,
            sampler=self.sampler,
            drop_last=len(self.sampler) >= 2 * c.batch_size,
        )
        val_loader = (
            self.loader(self.splits.val, eval_transform(size, self.mean, self.std), size, train=False)
            if self.splits.val
            else None
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
        start = self.state.start_phase(index, optimizer, scheduler, scaler, stopper)
        if self.device.type == "cuda":
            self.model.to(memory_format=torch.channels_last)  # faster convolutions on tensor cores
        model = distributed.wrap(self.model, self.context)
        if c.compile:
            model = torch.compile(model)
        for phase_epoch in range(start, phase.epochs):
            epoch = self.state.epoch
            seed_epoch(c.seed, epoch, self.context.rank)
            self.sampler.set_epoch(epoch)
            mixer = self.mixup.for_epoch(epoch) if phase.use_mixup else None
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
                description=f"epoch {epoch + 1} [{phase.name}]",
                progress=self.context.is_main,
            )
            stats["train_loss"] = distributed.mean_across(stats["train_loss"], self.context)
            stats["unreadable_images"] = self.count_unreadable()
            row, kept_model, kept_metrics = self.validate(val_loader, phase, stats)
            stop = stopper.step(row["score"]) if row["score"] is not None else False
            if stop:
                row["early_stop"] = True  # marked on the training curves
            self.state.end_epoch(row, phase_done=stop or phase_epoch + 1 == phase.epochs)
            if self.context.is_main:
                self.save(phase, row, kept_model, kept_metrics)
            logger.info(format_epoch(row))
            if self.on_epoch_end is not None and self.context.is_main:
                self.on_epoch_end(row)
            distributed.barrier(self.context)
            if stop:
                logger.info("early stopping %s after %d epochs without improvement", phase.name, stopper.bad_epochs)
                break

    def validate(self, val_loader, phase: Phase, stats: dict) -> tuple[dict, torch.nn.Module, dict]:
        """Evaluate raw and EMA weights; return the epoch's history row, the better model and its figures."""
        row: dict[str, Any] = {
            "epoch": self.state.epoch + 1,
            "phase": phase.name,
            **stats,
            "kept": "raw",
            "score": None,
        }
        kept, kept_metrics = self.model, {}
        if val_loader is None:
            return row, kept, kept_metrics
        raw = kept_metrics = evaluate(self.model, val_loader, device=self.device, precision=self.precision)
        row.update({f"val_{k}": v for k, v in raw.items()})
        row["score"] = raw["macro_top1"]
        if self.ema is not None:
            averaged = evaluate(self.ema.module, val_loader, device=self.device, precision=self.precision)
            row.update({f"val_{k}_ema": v for k, v in averaged.items()})
            if averaged["macro_top1"] > raw["macro_top1"]:
                row["kept"], row["score"], kept, kept_metrics = "ema", averaged["macro_top1"], self.ema.module, averaged
        best = self.state.best_score
        row["is_best"] = best is None or row["score"] > best
        return row, kept, {**kept_metrics, "num_samples": len(self.splits.val)}

    def save(self, phase: Phase, row: dict, kept_model: torch.nn.Module, kept_metrics: dict) -> None:
        """Write best.pt when the epoch improved (or there is no validation set), last.pt and metrics.json."""
        spec, config = self.spec(phase.input_size), self.c.to_dict()
        if row["score"] is None or row["is_best"]:
            split = "val" if kept_metrics else None
            record = MetricsRecord.from_metrics(
                kept_metrics, split, epoch=row["epoch"], kept=row["kept"], train_counts=self.splits.train_counts()
            )
            extra = {}
            if self.other_class:  # best.pt answers the species only; the extra row goes beside it
                kept_model, extra[OTHER_ROW] = split_other_class(kept_model, self.num_species)
            save_checkpoint(
                self.out / "best.pt",
                kept_model,
                spec,
                **extra,
                config=config,
                metrics=record.to_dict(),
                phase=phase.name,
                weights_source=self.weights_source,
            )
        save_resume_checkpoint(
            self.out / "last.pt", self.state, spec, config=config, weights_source=self.weights_source
        )
        (self.out / "metrics.json").write_text(json.dumps({"history": self.state.history}, indent=1))

    def average_k(self, model, spec: ModelSpec, targets, probs) -> dict[str, dict]:
        """Return PlantNet-300K's average-K figures on the test split, thresholds fitted on val."""
        transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
        loader = self.loader(self.splits.val, transform, spec.input_size, train=False)
        with autocast(self.device, self.precision):
            _, val_probs = predict_loader(model, loader, self.device, description="fit average-K on val")
        return average_k_metrics(val_probs, targets, probs)

    def calibrate(self, model, payload: dict, options: dict) -> Calibration:
        """Fit temperature, threshold (and the probes with --reject-data / --unknown-data) on val; store them in best.pt."""
        if not self.splits.val:
            logger.warning("no val split: the model stays uncalibrated (`manage.py calibrate` can do it later)")
            return Calibration()
        return calibrate_and_store(
            self.out / "best.pt",
            payload,
            model,
            self.splits.val,
            self.reject_photos,
            self.device,
            unknown_photos=self.unknown_photos,
            train_samples=self.splits.train,
            **options,
        )

    # -- the end --------------------------------------------------------------------------------
    def write_references(self, model: torch.nn.Module, spec: ModelSpec, options: dict[str, Any]) -> None:
        """Keep the reference photos that cover each class in the best model's features, with those features."""
        if not self.reference_pool:
            return
        folder, per_class = self.out / REFERENCES, self.c.reference_photos
        outputs = model_outputs(
            model, spec, self.reference_pool, self.device, description="reference photos", **options
        )
        unreadable = {str(path) for path, _ in outputs.unreadable}
        readable = [sample for sample in self.reference_pool if str(sample[0]) not in unreadable]
        features = outputs.features
        if features is None or len(features) != len(readable):
            logger.warning("no features of the reference photos: they are spread over each class's photos instead")
            write_reference_photos(
                readable, len(spec.class_names), folder, per_class, provenance=self.reference_provenance
            )
            return
        chosen, rows = choose_references(readable, features, per_class)
        write_reference_photos(
            chosen, len(spec.class_names), folder, per_class, provenance=self.reference_provenance, ordered=True
        )
        row_of = {Path(path).resolve(): row for (path, _), row in zip(chosen, rows)}
        sources = reference_sources(folder)
        save_reference_features(
            folder,
            [index for index, _, _ in sources],
            [number for _, number, _ in sources],
            features[[row_of[path] for _, _, path in sources]],
        )

    def final_evaluation(self) -> MetricsRecord:
        """Calibrate best.pt on val, evaluate it on the test split (else val); write metrics.json and plots."""
        history = self.state.history
        split = "test" if self.splits.test else "val" if self.splits.val else None
        plot_training_curves(history, self.out / "training_curves.png")
        payload = load_checkpoint(self.out / "best.pt")
        kept = MetricsRecord.from_dict(payload["metrics"])
        model, spec = model_from_checkpoint(payload).to(self.device), self.spec(payload["spec"]["input_size"])
        options = dict(batch_size=self.c.batch_size, workers=resolve_workers(self.c.workers))
        with autocast(self.device, self.precision):
            self.write_references(model, spec, options)
        if split is None:
            logger.warning("no test or val images: the run has no held-out metrics")
            return MetricsRecord()
        with autocast(self.device, self.precision):
            calibration = self.calibrate(model, payload, options)
            outputs = model_outputs(
                model, spec, getattr(self.splits, split), self.device, description=f"evaluate {split}", **options
            )
            unknown = {}
            if self.holdout_photos:
                unknown["held-out classes"] = model_outputs(
                    model,
                    spec,
                    [(p, 0) for p in self.holdout_photos],
                    self.device,
                    labelled=False,
                    description="held-out classes",
                    **options,
                )
        del payload
        self.unreadable.update({str(path): reason for path, reason in outputs.unreadable})
        targets, probs = outputs.targets, outputs.probabilities(calibration.temperature)
        metrics = compute_metrics(targets, probs, self.display_names)
        if split == "test" and self.splits.val:
            metrics.update(self.average_k(model, spec, targets, probs))
        write_evaluation_plots(targets, probs, metrics, self.display_names, self.out)
        if calibration.is_calibrated:
            metrics["open_set"] = calibration_report(outputs, calibration, unknown)
            plot_reliability(outputs.targets, outputs.logits, calibration.temperature, self.out / "reliability.png")
        record = MetricsRecord.from_metrics(
            metrics,
            split,
            epoch=kept.epoch,
            kept=kept.kept,
            unreadable_images=self.count_unreadable(),
            train_counts=self.splits.train_counts(),
        )
        report = {
            "history": history,
            "summary": record.to_dict(),
            "unreadable_files": [[path, reason] for path, reason in sorted(self.unreadable.items())],
            split: metrics,
        }
        (self.out / "metrics.json").write_text(json.dumps(report, indent=1))
        return record
