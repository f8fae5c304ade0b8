"""Export registered model versions to ONNX beside their checkpoints (the service behind `models export`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plantml.files import CheckpointError

from .versions import RegistryError, get_version, onnx_path, verify

if TYPE_CHECKING:
    from plantml.onnx_export import Int8Report

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and measured."""

    path: Path
    max_abs_diff: float
    checked_on: str
    int8_path: Path | None = None
    int8: Int8Report | None = None


def export_version(
    name: str, *, int8: bool = False, data: Path | None = None, max_drop: float | None = None
) -> ExportResult:
    """Write NAME's ONNX file (and its int8 file with ``int8``), each refused unless it matches PyTorch closely."""
    from plantml.evaluation.evaluate import EvaluationError  # PyTorch: only when exporting
    from plantml.onnx_export import (
        DEFAULT_MAX_DROP,
        OnnxExportError,
        check_photos,
        export_onnx,
        model_inputs,
        quantize_checked,
        synthetic_images,
    )

    if int8 and data is None:
        raise RegistryError("--int8 needs --data DIR (a tree with val/ and test/) to calibrate and measure its top-1")
    from plantml.checkpoint import load_checkpoint, spec_of

    version = get_version(name)
    verify(version)
    spec = spec_of(load_checkpoint(version.checkpoint_path))
    try:
        if data is not None:
            photos, checked_on = check_photos(data, spec), f"photos of {data}"
        else:
            photos, checked_on = synthetic_images(8, spec.input_size * 2), "synthetic images (pass --data for photos)"
        path = onnx_path(version)
        difference = export_onnx(version.checkpoint_path, path, model_inputs(spec, photos))
        if not int8:
            return ExportResult(path, difference, f"{len(photos)} {checked_on}")
        int8_path = onnx_path(version, int8=True)
        report = quantize_checked(
            version.checkpoint_path, path, int8_path, data, max_drop=DEFAULT_MAX_DROP if max_drop is None else max_drop
        )
    except (OnnxExportError, EvaluationError, CheckpointError) as exc:
        raise RegistryError(str(exc)) from exc
    return ExportResult(path, difference, f"{len(photos)} {checked_on}", int8_path, report)
