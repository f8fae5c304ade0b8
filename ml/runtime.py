"""Serve a model version: the Predictor in the configured runtime (torch or ONNX), one per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from .models import ModelVersion
from .versions import RegistryError, export_command, onnx_path, verify

if TYPE_CHECKING:
    from plantml.predictor import Predictor


def _runtime_file(version: ModelVersion, runtime: str) -> Path | None:
    """Return the ONNX file that ``runtime`` serves (None for torch), or raise RegistryError naming the export."""
    if runtime == "torch":
        return None
    int8 = runtime == "onnx-int8"
    path = onnx_path(version, int8=int8)
    if not path.is_file():
        raise RegistryError(
            f"model {version.name} has no {'int8 ' if int8 else ''}ONNX file at {path}, which "
            f"RECOGNITION_RUNTIME={runtime} serves: run `{export_command(version, int8)}` "
            "(or set RECOGNITION_RUNTIME=torch)"
        )
    return path


def load_predictor(version: ModelVersion, runtime: str = "torch") -> Predictor:
    """Return a Predictor for ``version`` running in ``runtime`` (torch, onnx or onnx-int8), after verifying it."""
    from plantml.predictor import Predictor  # PyTorch: only in the processes that predict

    verify(version)
    path = _runtime_file(version, runtime)
    if path is None:
        return Predictor.from_checkpoint(version.checkpoint_path)
    from plantml.onnx_runtime import load_onnx_predictor

    return load_onnx_predictor(path)


class PredictorCache:
    """One Predictor per process in the RECOGNITION_RUNTIME, reloaded when another version becomes active."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._predictor: Predictor | None = None

    def get(self, version: ModelVersion) -> Predictor:
        """Return the Predictor for ``version``, loading it only when it (or its ONNX file) changed."""
        runtime = settings.RECOGNITION_RUNTIME
        path = _runtime_file(version, runtime)
        key = (version.pk, version.sha256, runtime, path.stat().st_mtime_ns if path else None)
        with self._lock:
            if key != self._key:
                self._predictor = None  # free the old model before loading the next
                self._predictor = load_predictor(version, runtime)
                self._key = key
            return self._predictor

    def clear(self) -> None:
        with self._lock:
            self._key, self._predictor = None, None


predictors = PredictorCache()
