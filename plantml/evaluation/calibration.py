"""Fit a model's calibration on its val split (and photos that show no plant) and measure open-set rejection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from plantml.checkpoint import ModelSpec, write_payload
from plantml.data import ImageDataset, Sample, build_loader
from plantml.datasets.scan import list_images
from plantml.open_set import (
    DEFAULT_ACCEPT_RATE,
    OTHER_ROW,
    Calibration,
    expected_calibration_error,
    fit_calibration,
    open_set_report,
    threshold_rank,
)
from plantml.references import spread
from plantml.transforms import eval_transform

from .runner import Outputs, predict_outputs

logger = logging.getLogger(__name__)
# fewer val photos than this give a rough threshold: at 30 it is the second-lowest val score, and on the small
# model of tests/recognition/test_unknown_species.py it identified 86% of new known photos, not 95%
MIN_RELIABLE = 100
# training photos whose features fit the feature density, spread over the classes (at least DENSITY_MIN_PER_CLASS
# each): more photos fit it better (on flowers5, 100 a class instead of all 560 cut its tulip AUROC from 0.91 to
# 0.88), and the budget keeps the extra pass over a thousand species' photos to minutes
DENSITY_PHOTOS = 5000
DENSITY_MIN_PER_CLASS = 20


class CalibrationError(ValueError):
    """Data that cannot calibrate this checkpoint; the message says what to do."""


def folder_photos(folder: Path) -> list[Sample]:
    """Return every image under ``folder`` (any depth) as unlabelled samples; CalibrationError when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationError(f"{folder} is not a folder: pass a folder of photos")
    images, _ = list_images(folder)
    if not images:
        raise CalibrationError(f"no photos under {folder}: pass a folder of JPEG or PNG photos")
    return [(path, 0) for path in images]


def model_outputs(
    model: nn.Module,
    spec: ModelSpec,
    samples: Sequence[Sample],
    device: torch.device,
    *,
    labelled: bool = True,
    batch_size: int = 32,
    workers: int = 0,
    description: str = "",
) -> Outputs:
    """Return logits and pooled features of ``model`` on ``samples`` at the spec's evaluation transform."""
    transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
    dataset = ImageDataset(
        list(samples), transform, draft_size=round(spec.input_size / spec.crop_pct), replace_bad=False
    )
    loader = build_loader(dataset, batch_size=batch_size, workers=workers, device=device)
    outputs = predict_outputs(model, loader, device, features=True, labelled=labelled, description=description)
    outputs.unreadable = dataset.bad_files()
    return outputs


def fit_from_outputs(
    val: Outputs,
    reject: Outputs | None = None,
    accept_rate: float = DEFAULT_ACCEPT_RATE,
    unknown: Outputs | None = None,
    other_row: dict | None = None,
    kept: Calibration | None = None,
    train: Outputs | None = None,
) -> Calibration:
    """Return the calibration fitted on val outputs and, when given, outputs of photos of no plant / unknown plants
    and of training photos (without them, ``kept``'s plant probe, fitted "other plant" class and density stay)."""
    if len(val.targets) == 0:
        raise CalibrationError("no val photo could be read: check the val/ folder")
    if len(val.targets) < MIN_RELIABLE:
        logger.warning(
            "calibrating on only %d val photos: the threshold is the score of the %s lowest of them, so the share "
            "of new photos it identifies can be far from %.0f%%; add val photos (%d or more)",
            len(val.targets),
            _ordinal(threshold_rank(len(val.targets), accept_rate)),
            100 * accept_rate,
            MIN_RELIABLE,
        )
    return fit_calibration(
        val.logits,
        val.targets,
        val.features,
        reject.features if reject is not None else None,
        accept_rate,
        unknown.features if unknown is not None else None,
        unknown.logits if unknown is not None else None,
        reject.logits if reject is not None else None,
        other_row,
        kept,
        train.features if train is not None else None,
        train.targets if train is not None else None,
    )


def _ordinal(n: int) -> str:
    """Return 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def accepted(outputs: Outputs, calibration: Calibration, threshold: float | None = None) -> np.ndarray:
    """Return, per photo, whether the model answers *identified* under ``calibration`` (or ``threshold``)."""
    limit = calibration.threshold if threshold is None else threshold
    if limit is None:
        raise CalibrationError("the model has no stored threshold: calibrate it first (`manage.py calibrate`)")
    return scores(outputs, calibration) >= limit  # decide()'s rule for *identified*, over every photo at once


def scores(outputs: Outputs, calibration: Calibration) -> np.ndarray:
    """Return the open-set score per photo: the calibrated top probability, times P(plant) and P(known) with probes."""
    return calibration.score(outputs.logits, outputs.features)


def answered_not_a_plant(outputs: Outputs, calibration: Calibration) -> np.ndarray:
    """Return, per photo, whether the model answers *no match* because it does not look like a plant."""
    if calibration.plant_probe is None or outputs.features is None:
        return np.zeros(len(outputs.logits), dtype=bool)
    plant = calibration.plant_probe.plant_probability(torch.as_tensor(outputs.features)).numpy()
    return ~accepted(outputs, calibration) & (plant < 0.5)  # decide()'s rule for the reason


def calibration_report(known: Outputs, calibration: Calibration, unknown: dict[str, Outputs]) -> dict:
    """Return ECE before/after and acceptance on ``known`` photos, and per ``unknown`` set AUROC, FPR@95, accepted."""
    known_scores = scores(known, calibration)
    report: dict[str, Any] = {
        "temperature": calibration.temperature,
        "threshold": calibration.threshold,
        "ece_before": expected_calibration_error(known.probabilities(), known.targets),
        "ece_after": expected_calibration_error(known.probabilities(calibration.temperature), known.targets),
        "accepted": float(accepted(known, calibration).mean()),
        "ood": {},
    }
    for name, outputs in unknown.items():
        report["ood"][name] = open_set_report(
            known_scores, scores(outputs, calibration), accepted(outputs, calibration)
        )
        report["ood"][name]["not_a_plant"] = float(answered_not_a_plant(outputs, calibration).mean())
    return report


def calibrate_and_store(
    path: Path,
    payload: dict[str, Any],
    model: nn.Module,
    val_samples: Sequence[Sample],
    reject_photos: Sequence[Sample],
    device: torch.device,
    *,
    unknown_photos: Sequence[Sample] = (),
    train_samples: Sequence[Sample] = (),
    accept_rate: float = DEFAULT_ACCEPT_RATE,
    batch_size: int = 32,
    workers: int = 0,
) -> Calibration:
    """Fit ``model``'s calibration on ``val_samples`` (photos of no plant, of unknown plants, the training photos
    for the feature density); write it at ``path``."""
    spec = ModelSpec(**payload["spec"])
    options = dict(batch_size=batch_size, workers=workers)
    val = model_outputs(model, spec, val_samples, device, description="calibrate on val", **options)
    reject = None
    if reject_photos:
        reject = model_outputs(
            model, spec, reject_photos, device, labelled=False, description="photos of no plant", **options
        )
    unknown = None
    if unknown_photos:
        unknown = model_outputs(
            model, spec, unknown_photos, device, labelled=False, description="plants it must not claim", **options
        )
    train = None
    if train_samples:
        train = model_outputs(
            model,
            spec,
            per_class(train_samples, max(DENSITY_MIN_PER_CLASS, -(-DENSITY_PHOTOS // len(spec.class_names)))),
            device,
            description="training photos",
            batch_size=batch_size,
            workers=workers,
        )
    # a model trained with the "other plant" class (plantml.training.other_class) stores its row beside the weights
    # recalibrating without --reject-data / --unknown-data keeps what was fitted with them, not drops it unsaid
    calibration = fit_from_outputs(
        val, reject, accept_rate, unknown, payload.get(OTHER_ROW), spec.calibration_info(), train
    )
    payload["spec"] = {**payload["spec"], "calibration": calibration.to_dict()}
    write_payload(path, payload)
    return calibration


def per_class(samples: Sequence[Sample], cap: int) -> list[Sample]:
    """Return at most ``cap`` samples of each label, evenly spread over each label's photos (``references.spread``)."""
    by_label: dict[int, list[Path]] = {}
    for path, label in samples:
        by_label.setdefault(label, []).append(path)
    return [(path, label) for label, paths in by_label.items() for path in spread(paths, cap)[:cap]]
