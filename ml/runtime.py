"""Serve a model version: the Predictor in the configured runtime (torch or ONNX), one per process."""

from __future__ import annotations

import threading
import time
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


def warm_up(predictor: Predictor) -> None:
    """Run the network once on a blank photo: the first identification's forward pass is then as fast as any."""
    import torch
    from PIL import Image

    side = predictor.decode_side
    batch = predictor.transform(Image.new("RGB", (side, side), (90, 140, 60))).unsqueeze(0).to(predictor.device)
    with torch.inference_mode():
        predictor.model(batch)


RETRY_FAILED_LOAD_SECONDS = 30.0
"""How long a version that failed to load is not tried again (each task would otherwise pay for the failure)."""


class PredictorCache:
    """One Predictor per process in the RECOGNITION_RUNTIME, reloaded when another version becomes active.

    A new version is loaded before the old one is let go: when the load fails, the old one keeps serving.
    One lock covers loading, so a background load and a task never load at the same time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._version: ModelVersion | None = None
        self._predictor: Predictor | None = None
        self._failed: tuple[tuple[object, ...], float, Exception] | None = None
        self._serving: tuple[ModelVersion, Predictor] | None = None

    def get(self, version: ModelVersion) -> Predictor:
        """Return the Predictor for ``version``, loading it only when it (or its ONNX file) changed."""
        runtime = settings.RECOGNITION_RUNTIME
        path = _runtime_file(version, runtime)
        key = (version.pk, version.sha256, runtime, path.stat().st_mtime_ns if path else None)
        with self._lock:
            if key != self._key or self._predictor is None:
                if self._failed and self._failed[0] == key and time.monotonic() < self._failed[1]:
                    raise self._failed[2]
                try:
                    predictor = load_predictor(version, runtime)
                    warm_up(predictor)
                except Exception as exc:
                    self._failed = (key, time.monotonic() + RETRY_FAILED_LOAD_SECONDS, exc)
                    raise
                self._predictor, self._key, self._version, self._failed = predictor, key, version, None
                self._serving = (version, predictor)  # one assignment: read without the lock
            return self._predictor

    def loaded(self) -> tuple[ModelVersion, Predictor] | None:
        """Return the version this process has loaded and its Predictor (None before the first load), without
        waiting for a load in progress."""
        return self._serving

    def loaded_key(self) -> tuple[int, str] | None:
        """Return (primary key, SHA-256) of the loaded version without waiting for a load in progress."""
        version = self._version
        return (version.pk, version.sha256) if version is not None else None

    def clear(self) -> None:
        with self._lock:
            self._key, self._version, self._predictor, self._failed = None, None, None, None
            self._serving = None


predictors = PredictorCache()
