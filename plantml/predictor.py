"""Top-K predictions for one plant from one or several photos."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from .checkpoint import ModelSpec, load_checkpoint, model_from_checkpoint, spec_of
from .device import default_device
from .transforms import eval_transform
from .tta import tta_probabilities

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """One ranked candidate: class label, its display name and probability in [0, 1]."""

    label: str
    display_name: str
    probability: float


class Predictor:
    """A loaded model that turns PIL images of one plant into ranked predictions."""

    def __init__(self, model: nn.Module, spec: ModelSpec, device: torch.device | str | None = None) -> None:
        self.spec = spec
        self.device = torch.device(device) if device is not None else default_device()
        self.model = model.to(self.device).eval()
        self.transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: torch.device | str | None = None) -> Predictor:
        """Load a checkpoint written by ``manage.py train`` (raises CheckpointError with the fix)."""
        payload = load_checkpoint(path)
        predictor = cls(model_from_checkpoint(payload), spec_of(payload), device)
        logger.info("loaded %s (%d classes) on %s", path, predictor.spec.num_classes, predictor.device)
        return predictor

    @torch.inference_mode()
    def log_probabilities(self, images: Sequence[Image.Image], tta: bool = False) -> torch.Tensor:
        """Return an (n_images, n_classes) tensor of log-probabilities, TTA-averaged when asked."""
        batch = torch.stack([self.transform(image.convert("RGB")) for image in images]).to(self.device)
        probabilities = tta_probabilities(self.model, batch, flips=tta)
        # clamped so that a vanishing probability stays finite when photos are fused in log space
        return probabilities.clamp_min(torch.finfo(probabilities.dtype).tiny).log()

    def predict(self, images: Sequence[Image.Image], top_k: int = 5, tta: bool = False) -> list[Prediction]:
        """Return the top-K classes for one plant; several photos are fused by averaging log-probabilities."""
        if not images:
            raise ValueError("predict() needs at least one image")
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        fused = self.log_probabilities(images, tta=tta).mean(dim=0)
        probabilities = torch.softmax(fused, dim=0)
        values, indices = probabilities.topk(min(top_k, self.spec.num_classes))
        return [
            Prediction(self.spec.class_names[i], self.spec.display_names[i], float(p))
            for p, i in zip(values.tolist(), indices.tolist())
        ]
