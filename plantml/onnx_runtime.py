"""Serve an exported ONNX file through ONNX Runtime behind the same Predictor interface as PyTorch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoint import FORMAT_VERSION, ModelSpec
from .files import CheckpointError
from .predictor import Predictor

logger = logging.getLogger(__name__)
SPEC_KEY = "plantsite_spec"  # ONNX metadata: the ModelSpec as JSON, so the file describes itself
FORMAT_KEY = "plantsite_format_version"
LOGITS, FEATURES = "logits", "features"  # the exported outputs; files exported before features carry only logits


def providers() -> list[str]:
    """Return ONNX Runtime's execution providers to use: CUDA first when this build has it, then the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]


class OnnxModule(nn.Module):
    """An ONNX Runtime session as a module: (N, 3, H, W) float tensor in, logits (and pooled features) out."""

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.input_name = session.get_inputs()[0].name
        outputs = [output.name for output in session.get_outputs()]
        self.logits_name = outputs[0]
        self.has_features = FEATURES in outputs

    def _run(self, batch: torch.Tensor, names: list[str]) -> list[torch.Tensor]:
        array = np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32)
        return [torch.from_numpy(out).to(batch.device) for out in self.session.run(names, {self.input_name: array})]

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self._run(batch, [self.logits_name])[0]

    def forward_with_features(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (logits, pooled pre-logit features); features are None for a file exported without them."""
        if not self.has_features:
            return self.forward(batch), None
        logits, features = self._run(batch, [self.logits_name, FEATURES])
        return logits, features


def open_session(path: str | Path, threads: int | None = None):
    """Return an ONNX Runtime InferenceSession for ``path`` using ``threads`` CPU threads (default: ONNX Runtime's).

    Raises CheckpointError with the fix for a missing or unreadable file.
    """
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no ONNX file at {path}: export it with `manage.py models export NAME`")
    try:
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        return onnxruntime.InferenceSession(str(path), options, providers=providers())
    except Exception as exc:  # ONNX Runtime raises its own types for a damaged or foreign file
        raise CheckpointError(f"{path} is not a readable ONNX model ({exc.__class__.__name__}: {exc})") from exc


def spec_of_session(session, path: str | Path) -> ModelSpec:
    """Return the ModelSpec stored in an exported file's metadata, refusing files we did not export."""
    metadata = session.get_modelmeta().custom_metadata_map
    if SPEC_KEY not in metadata:
        raise CheckpointError(
            f"{path} is not a plantsite ONNX export (no model spec in its metadata): "
            "export it with `manage.py models export NAME`"
        )
    if metadata.get(FORMAT_KEY) != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path} was exported from checkpoint format {metadata.get(FORMAT_KEY)}, this version reads "
            f"format {FORMAT_VERSION}: export it again with `manage.py models export NAME`"
        )
    return ModelSpec(**json.loads(metadata[SPEC_KEY]))


def load_onnx_predictor(path: str | Path) -> Predictor:
    """Return a Predictor that runs the exported ONNX file at ``path`` in ONNX Runtime."""
    session = open_session(path)
    module = OnnxModule(session)
    predictor = Predictor(module, spec_of_session(session, path), device="cpu")
    calibration = predictor.calibration
    probes = (calibration.plant_probe, calibration.other_class, calibration.density)
    if any(part is not None for part in probes) and not module.has_features:
        logger.warning(
            "%s was exported without pooled features, so 'not a plant' cannot be answered with it (nor its 'other "
            "plant' class and feature density used): "
            "export it again with `manage.py models export NAME`",
            path,
        )
    logger.info("loaded %s (%d classes) with %s", path, predictor.spec.num_classes, session.get_providers()[0])
    return predictor
