"""``calibrate_checkpoint``: fit an existing checkpoint's temperature, threshold and plant probe; no Django here."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of
from plantml.device import resolve_device
from plantml.open_set import DEFAULT_ACCEPT_RATE, Calibration

from .calibration import CalibrationError, calibrate_and_store, folder_photos
from .evaluate import EvaluationError, evaluation_samples

logger = logging.getLogger(__name__)


def calibrate_checkpoint(
    checkpoint: Path,
    data_dir: Path,
    *,
    split_file: Path | None = None,
    reject_data: Path | None = None,
    unknown_data: Path | None = None,
    accept_rate: float = DEFAULT_ACCEPT_RATE,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    workers: int = 0,
) -> Calibration:
    """Fit ``checkpoint``'s calibration on the val split of ``data_dir`` (``reject_data``, ``unknown_data``, and the
    train split for the feature density); store it."""
    checkpoint = Path(checkpoint)
    payload = load_checkpoint(checkpoint)
    spec = spec_of(payload)
    try:
        val_samples, _ = evaluation_samples(
            data_dir, spec.class_names, "val", split_file=split_file, allow_missing=True
        )
    except EvaluationError as exc:
        raise CalibrationError(f"calibration needs the model's val split: {exc}") from exc
    if not val_samples:
        raise CalibrationError(
            f"{data_dir} has no val photos of this model's classes: calibration fits on photos the model did not "
            "train on; add a val/<class>/ folder, or pass the training run's --split-file"
        )
    try:
        train_samples, _ = evaluation_samples(
            data_dir, spec.class_names, "train", split_file=split_file, allow_missing=True
        )
    except EvaluationError as exc:
        logger.info("no training photos for the feature density (%s): the one fitted before, if any, stays", exc)
        train_samples = []
    device = device if isinstance(device, torch.device) else resolve_device(device)
    model = model_from_checkpoint(payload).to(device)
    reject = folder_photos(reject_data) if reject_data is not None else []
    unknown = folder_photos(unknown_data) if unknown_data is not None else []
    return calibrate_and_store(
        checkpoint,
        payload,
        model,
        val_samples,
        reject,
        device,
        unknown_photos=unknown,
        train_samples=train_samples,
        accept_rate=accept_rate,
        batch_size=batch_size,
        workers=workers,
    )
