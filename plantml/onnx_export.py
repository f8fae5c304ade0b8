"""Export a checkpoint to ONNX (logits and pooled features) with timm's exporter, checked against PyTorch; int8 only
when it costs little."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from .checkpoint import FORMAT_VERSION, ModelSpec, load_checkpoint, model_from_checkpoint, spec_of
from .data import ImageDataset, build_loader
from .evaluation.evaluate import EvaluationError, evaluation_samples
from .evaluation.runner import predict_loader
from .modeling import forward_with_features
from .onnx_runtime import FEATURES, FORMAT_KEY, LOGITS, SPEC_KEY, OnnxModule, open_session
from .transforms import eval_transform

logger = logging.getLogger(__name__)
DEFAULT_ATOL = 1e-3  # on logits and features: the 3 decimals that timm's own export check compares
DEFAULT_MAX_DROP = 0.5  # top-1 points that int8 may cost on the test split


class OnnxExportError(Exception):
    """An export or quantization that was refused; the message gives the measured figures and the fix."""


def model_inputs(spec: ModelSpec, images: Sequence[Image.Image]) -> torch.Tensor:
    """Return the normalised (N, 3, S, S) batch the model sees for ``images``."""
    transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
    return torch.stack([transform(image.convert("RGB")) for image in images])


def synthetic_images(count: int, size: int, seed: int = 0) -> list[Image.Image]:
    """Return ``count`` seeded noise photos of ``size`` px, for checks when no real photos are given."""
    generator = np.random.default_rng(seed)
    return [Image.fromarray(generator.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)]


class LogitsAndFeatures(nn.Module):
    """A classifier whose forward returns (logits, pooled pre-logit features): the two outputs an export carries."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return forward_with_features(self.model, batch)


def max_abs_diff(reference: nn.Module, candidate: nn.Module, inputs: torch.Tensor) -> float:
    """Return the largest absolute difference between the two models' logits and, where both give them, features."""
    with torch.inference_mode():
        pairs = zip(forward_with_features(reference, inputs), forward_with_features(candidate, inputs))
        return max(
            float((ours.float() - theirs.float()).abs().max())
            for ours, theirs in pairs
            if ours is not None and theirs is not None
        )


def _save_with_spec(model_proto, spec: ModelSpec, path: Path) -> None:
    import onnx

    metadata = {SPEC_KEY: json.dumps(spec.to_dict()), FORMAT_KEY: str(FORMAT_VERSION)}
    kept = [entry for entry in model_proto.metadata_props if entry.key not in metadata]
    del model_proto.metadata_props[:]
    model_proto.metadata_props.extend(kept)
    for key, value in metadata.items():
        model_proto.metadata_props.add(key=key, value=value)
    onnx.save(model_proto, str(path))


def _replace(source: Path, target: Path, spec: ModelSpec) -> None:
    """Write ``source`` with the spec in its metadata to ``target`` atomically."""
    import onnx

    partial = target.with_name(f".{target.name}.partial")
    _save_with_spec(onnx.load(str(source)), spec, partial)
    os.replace(partial, target)


def export_onnx(checkpoint: str | Path, output: str | Path, inputs: torch.Tensor, atol: float = DEFAULT_ATOL) -> float:
    """Write ``checkpoint`` as ONNX at ``output`` and return its max abs difference to PyTorch on ``inputs``.

    The file has two outputs: ``logits`` and ``features`` (pooled pre-logit, for the plant probe); both are checked.

    Nothing is written when the difference exceeds ``atol`` (OnnxExportError says by how much).
    """
    from timm.utils.onnx import onnx_export

    output = Path(output)
    payload = load_checkpoint(checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".export-") as folder:
        exported = Path(folder) / "model.onnx"
        # the batch axis is dynamic (ONNX shape inference carries it to both outputs); H x W stay fixed,
        # which also fixes TF-style "same" padding
        onnx_export(
            LogitsAndFeatures(model),
            str(exported),
            example_input=inputs[:2],
            check=True,
            input_size=(3,) + inputs.shape[2:],
            output_names=[LOGITS, FEATURES],
        )
        difference = max_abs_diff(model, OnnxModule(open_session(exported)), inputs)
        if difference > atol:
            raise OnnxExportError(
                f"the ONNX export of {checkpoint} differs from PyTorch by {difference:.2e} in logits or features "
                f"on {len(inputs)} inputs (allowed {atol:g}): not written; check the onnx/onnxruntime versions in "
                "requirements.txt"
            )
        _replace(exported, output, spec)
    logger.info("exported %s to %s (max abs difference %.2e)", checkpoint, output, difference)
    return difference


@dataclass(frozen=True)
class Int8Report:
    """Top-1 of the PyTorch model and of its int8 ONNX file on one split, and how often they agree."""

    images: int
    reference_top1: float
    int8_top1: float
    agreement: float

    @property
    def drop_points(self) -> float:
        return (self.reference_top1 - self.int8_top1) * 100


def _calibration_reader(batches: Iterable[torch.Tensor], input_name: str):
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[torch.Tensor] = iter(batches)

        def get_next(self) -> dict | None:
            batch = next(self._batches, None)
            return None if batch is None else {input_name: batch.numpy()}

    return Reader()


def quantize_static_int8(source: Path, output: Path, calibration: Iterable[torch.Tensor]) -> None:
    """Write ``source`` statically quantized (QDQ, int8 weights per channel, uint8 activations) to ``output``."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = output.with_name(f"{output.stem}.prepared.onnx")
    # ONNX shape inference suffices for these CNNs; the symbolic one trips on ReduceMean axes given as inputs
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    input_name = open_session(source).get_inputs()[0].name
    quantize_static(
        str(prepared),
        str(output),
        _calibration_reader(calibration, input_name),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def split_samples(data_dir: str | Path, spec: ModelSpec, splits: Sequence[str]) -> list[tuple[Path, int]]:
    """Return the labelled images of the first of ``splits`` that ``data_dir`` has (EvaluationError if none)."""
    for split in splits:
        try:
            return evaluation_samples(data_dir, spec.class_names, split)[0]
        except EvaluationError:
            if split == splits[-1]:
                raise
    raise AssertionError("unreachable")


def check_photos(data_dir: str | Path, spec: ModelSpec, count: int = 16) -> list[Image.Image]:
    """Return up to ``count`` photos spread over the test split (else the whole tree) of ``data_dir``."""
    samples = split_samples(data_dir, spec, ("test", "all"))
    return [Image.open(path).convert("RGB") for path, _ in samples[:: max(1, len(samples) // count)][:count]]


def compare_top1(reference: nn.Module, candidate: nn.Module, loader) -> Int8Report:
    """Return both models' top-1 on ``loader`` and the fraction of images where their top-1 agree."""
    targets, reference_probs = predict_loader(reference, loader, "cpu", description="reference")
    _, candidate_probs = predict_loader(candidate, loader, "cpu", description="candidate")
    reference_top1, candidate_top1 = reference_probs.argmax(1), candidate_probs.argmax(1)
    return Int8Report(
        images=len(targets),
        reference_top1=float((reference_top1 == targets).mean()),
        int8_top1=float((candidate_top1 == targets).mean()),
        agreement=float((reference_top1 == candidate_top1).mean()),
    )


def quantize_checked(
    checkpoint: str | Path,
    onnx_path: str | Path,
    output: str | Path,
    data_dir: str | Path,
    *,
    max_drop: float = DEFAULT_MAX_DROP,
    calibration_images: int = 64,
    batch_size: int = 32,
) -> Int8Report:
    """Quantize ``onnx_path`` to int8 at ``output``, calibrated on the val (else train) split of ``data_dir``.

    The int8 file is written only when its top-1 on the test split is at most ``max_drop`` points
    below the PyTorch model's; otherwise OnnxExportError gives the measured figures.
    """
    output, data_dir = Path(output), Path(data_dir)
    payload = load_checkpoint(checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
    calibration = split_samples(data_dir, spec, ("val", "train"))
    calibration = calibration[:: max(1, len(calibration) // calibration_images)][:calibration_images]
    test = split_samples(data_dir, spec, ("test",))
    if not calibration or not test:
        raise OnnxExportError(f"{data_dir} needs images in val/ (or train/) and test/ to calibrate and measure int8")
    calibration_loader = build_loader(ImageDataset(calibration, transform), batch_size=batch_size, workers=0)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".int8-") as folder:
        quantized = Path(folder) / "model.int8.onnx"
        quantize_static_int8(Path(onnx_path), quantized, (images for images, _ in calibration_loader))
        test_loader = build_loader(ImageDataset(test, transform), batch_size=batch_size, workers=0)
        report = compare_top1(model, OnnxModule(open_session(quantized)), test_loader)
        logger.info("int8 %s: %s", output, report)
        if report.drop_points > max_drop:
            raise OnnxExportError(
                f"int8 refused: top-1 on the {report.images} test images of {data_dir} drops from "
                f"{report.reference_top1:.2%} to {report.int8_top1:.2%} ({report.drop_points:.2f} points, "
                f"allowed {max_drop:g}); serve the float ONNX file (RECOGNITION_RUNTIME=onnx) instead"
            )
        _replace(quantized, output, spec)
    return report
