"""Self-describing checkpoints: a plain dict with a format version, readable without Django."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .files import CheckpointError
from .modeling import create_model
from .open_set import Calibration
from .species_facts import SpeciesInfo
from .transforms import IMAGENET_MEAN, IMAGENET_STD

logger = logging.getLogger(__name__)
FORMAT_VERSION = 1


@dataclass
class ModelSpec:
    """Everything needed to rebuild a model and feed it images."""

    architecture: str
    class_names: list[str]
    display_names: list[str] = field(default_factory=list)
    input_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    crop_pct: float = 0.875
    head: str = "linear"
    head_hidden: int = 512
    species: list[dict] = field(default_factory=list)  # SpeciesInfo.to_dict() per class, when the data named them
    calibration: dict = field(default_factory=dict)  # Calibration.to_dict(); empty for an uncalibrated model

    def __post_init__(self) -> None:
        if not self.display_names:
            self.display_names = list(self.class_names)
        if len(self.display_names) != len(self.class_names):
            raise ValueError("display_names must have one entry per class")
        if self.species and len(self.species) != len(self.class_names):
            raise ValueError("species must be empty or have one entry per class")
        self.mean, self.std = tuple(self.mean), tuple(self.std)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def species_info(self) -> list[SpeciesInfo]:
        """Return the species facts per class ([] when the training data had none)."""
        return [SpeciesInfo.from_dict(data) for data in self.species]

    def calibration_info(self) -> Calibration:
        """Return the temperature, acceptance threshold and plant probe (an uncalibrated record when none)."""
        return Calibration.from_dict(self.calibration)

    def build_model(self) -> nn.Module:
        """Return an untrained model of this architecture and head."""
        return create_model(self.architecture, self.num_classes, head=self.head, head_hidden=self.head_hidden)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mean"], data["std"] = list(self.mean), list(self.std)
        return data


def unwrap(model: nn.Module) -> nn.Module:
    """Return the bare model inside DDP / torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


def save_checkpoint(path: str | Path, model: nn.Module, spec: ModelSpec, **extra: Any) -> Path:
    """Write the model, its spec and ``extra`` (config, metrics, optimizer, ...) atomically; return the path."""
    payload = {"format_version": FORMAT_VERSION, "spec": spec.to_dict(), "model": unwrap(model).state_dict(), **extra}
    return write_payload(path, payload)


def write_payload(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write a checkpoint dict (as ``load_checkpoint`` returns it) to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        torch.save(payload, handle)
    os.replace(handle.name, path)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Return the checkpoint dict, refusing files that are not ours or of another format version."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: check the path")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        raise CheckpointError(f"{path} is not a readable checkpoint ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(payload, dict) or "format_version" not in payload or "spec" not in payload:
        raise CheckpointError(
            f"{path} is not a plantsite checkpoint (no format version): train one with `manage.py train` "
            "or pass bare weights with `manage.py train --weights FILE`"
        )
    if payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {payload['format_version']}, this version of plantsite reads "
            f"format {FORMAT_VERSION}: retrain it or use a matching plantsite version"
        )
    return payload


def spec_of(payload: dict[str, Any]) -> ModelSpec:
    """Return the ModelSpec stored in a loaded checkpoint."""
    return ModelSpec(**payload["spec"])


def update_spec(path: str | Path, **changes: Any) -> ModelSpec:
    """Rewrite the checkpoint at ``path`` (atomically) with ``changes`` to its spec; return the new spec."""
    payload = load_checkpoint(path)
    spec = ModelSpec(**{**payload["spec"], **changes})
    payload["spec"] = spec.to_dict()
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        torch.save(payload, handle)
    os.replace(handle.name, path)
    return spec


def model_from_checkpoint(payload: dict[str, Any]) -> nn.Module:
    """Return the checkpoint's model with its weights loaded strictly, in eval mode."""
    model = spec_of(payload).build_model()
    model.load_state_dict(payload["model"], strict=True)
    return model.eval()
