"""Top-K predictions for plants from one or several photos each, several plants in one forward pass."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image
from torch import nn

from .checkpoint import ModelSpec, load_checkpoint, model_from_checkpoint, spec_of
from .decode import open_image
from .device import default_device
from .open_set import LEGACY_THRESHOLD, Decision, decide
from .transforms import eval_transform
from .tta import tta_outputs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """One ranked candidate: class label, its display name and probability in [0, 1]."""

    label: str
    display_name: str
    probability: float


@dataclass(frozen=True)
class Answer:
    """What the model says about one plant: ranked candidates and the outcome (identified or no match, why)."""

    candidates: list[Prediction]
    outcome: str
    reason: str
    plant_probability: float | None = None  # P(plant) from the probe, when the model has one
    known_probability: float | None = None  # P(one of the model's species) from its probe, when it has one
    typicality: float | None = None  # how far inside its species' spread in features, when it has a density
    # pooled features of the plant's photos (averaged), to find the reference photos most like them
    features: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def decision(self) -> Decision:
        return Decision(self.outcome, self.reason)


# The eval transform scales the short side to the model's size and keeps only the centre square, so the long
# side beyond twice the short one never reaches the model; cropped before the resize, a 1 x 20000 strip
# cannot be scaled into a strip of millions of pixels (gigabytes of memory in the worker).
DECODE_MAX_ASPECT = 2.0


class Predictor:
    """A loaded model that turns PIL images of plants into ranked predictions.

    ``model`` is any module mapping a normalised (N, 3, H, W) batch to logits: the PyTorch
    network, or an ONNX Runtime session wrapped by ``plantml.onnx_runtime.OnnxModule``.
    """

    def __init__(self, model: nn.Module, spec: ModelSpec, device: torch.device | str | None = None) -> None:
        self.spec = spec
        self.device = torch.device(device) if device is not None else default_device()
        self.model = model.to(self.device).eval()
        self.transform = eval_transform(spec.input_size, spec.mean, spec.std, spec.crop_pct)
        self.decode_side = round(spec.input_size / spec.crop_pct)  # the shorter side the transform resizes to
        self.calibration = spec.calibration_info()

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: torch.device | str | None = None) -> Predictor:
        """Load a checkpoint written by ``manage.py train`` (raises CheckpointError with the fix)."""
        payload = load_checkpoint(path)
        predictor = cls(model_from_checkpoint(payload), spec_of(payload), device)
        logger.info("loaded %s (%d classes) on %s", path, predictor.spec.num_classes, predictor.device)
        return predictor

    @torch.inference_mode()
    def scaled_logits(
        self, images: Sequence[Image.Image], tta: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (logits / temperature (n_images, n_classes), pooled features or None), TTA-averaged."""
        batch = torch.stack([self.transform(image.convert("RGB")) for image in images]).to(self.device)
        logits, features = tta_outputs(self.model, batch, flips=tta)
        return logits / self.calibration.temperature, features

    def outputs(self, images: Sequence[Image.Image], tta: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (calibrated log-probabilities (n_images, n_classes), pooled features or None), TTA-averaged."""
        scaled, features = self.scaled_logits(images, tta=tta)
        return torch.log_softmax(scaled, dim=1), features

    def log_probabilities(self, images: Sequence[Image.Image], tta: bool = False) -> torch.Tensor:
        """Return an (n_images, n_classes) tensor of calibrated log-probabilities, TTA-averaged when asked."""
        return self.outputs(images, tta=tta)[0]

    def open_image(self, source: str | Path | BinaryIO) -> Image.Image:
        """Return a photo file decoded as upright RGB at about the size this model needs (see ``open_image``)."""
        return open_image(source, self.decode_side, max_aspect=DECODE_MAX_ASPECT)

    def predict(self, images: Sequence[Image.Image], top_k: int = 5, tta: bool = False) -> list[Prediction]:
        """Return the top-K classes for one plant; several photos are fused by averaging log-probabilities."""
        if not images:
            raise ValueError("predict() needs at least one image")
        return self.predict_many([images], top_k=top_k, tta=tta)[0]

    def predict_many(
        self, plants: Sequence[Sequence[Image.Image]], top_k: int = 5, tta: bool = False
    ) -> list[list[Prediction]]:
        """Return one top-K list per plant (each fused as ``predict`` does) from a single forward pass."""
        return [answer.candidates for answer in self.identify_many(plants, top_k=top_k, tta=tta)]

    @property
    def threshold(self) -> float:
        """Return the stored acceptance threshold (0.5 for a model trained before calibration existed)."""
        stored = self.calibration.threshold
        return LEGACY_THRESHOLD if stored is None else stored

    def identify_many(
        self,
        plants: Sequence[Sequence[Image.Image]],
        top_k: int = 5,
        tta: bool = False,
        threshold: float | None = None,
    ) -> list[Answer]:
        """Return one Answer per plant from a single forward pass; ``threshold`` overrides the stored one.

        Several photos of a plant are fused by averaging log-probabilities (and features, for the probe).
        """
        if not plants:
            return []
        empty = [index for index, images in enumerate(plants) if not images]
        if empty:
            raise ValueError(f"identify_many() needs at least one image per plant; plants {empty} have none")
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        threshold = self.threshold if threshold is None else threshold
        sizes = [len(images) for images in plants]
        scaled, features = self.scaled_logits([image for images in plants for image in images], tta=tta)
        log_probabilities = torch.log_softmax(scaled, dim=1)
        fused = torch.stack([part.mean(dim=0) for part in log_probabilities.split(sizes)])
        probabilities = torch.softmax(fused, dim=1)
        pooled = None if features is None else torch.stack([part.mean(dim=0) for part in torch.split(features, sizes)])
        lse = torch.stack([part.mean() for part in torch.split(torch.logsumexp(scaled, dim=1), sizes)])
        plant, known, typical = self._probe_factors(pooled, lse)
        fused_features = pooled.float().cpu().numpy() if pooled is not None else [None] * len(sizes)
        values, indices = probabilities.topk(min(top_k, self.spec.num_classes), dim=1)
        answers = []
        for row, (row_values, row_indices) in enumerate(zip(values.tolist(), indices.tolist())):
            candidates = [
                Prediction(self.spec.class_names[i], self.spec.display_names[i], float(p))
                for p, i in zip(row_values, row_indices)
            ]
            decision = decide(candidates[0].probability, plant[row], threshold, known[row], typical[row])
            answers.append(
                Answer(
                    candidates,
                    decision.outcome,
                    decision.reason,
                    plant[row],
                    known_probability=known[row],
                    typicality=typical[row],
                    features=fused_features[row],
                )
            )
        return answers

    def _probe_factors(
        self, pooled: torch.Tensor | None, logsumexp: torch.Tensor
    ) -> tuple[list[float | None], list[float | None], list[float | None]]:
        """Return per plant P(plant), P(one of the model's species) and typicality from its (plants, D) fused pooled
        features and fused calibrated logsumexp; a part the model lacks (or an export without features) gives None."""
        c = self.calibration
        none: list[float | None] = [None] * len(logsumexp)
        if pooled is None:
            return none, none, none
        plant: list[float | None] = (
            none if c.plant_probe is None else [float(p) for p in c.plant_probe.plant_probability(pooled)]
        )
        known: list[float | None] = (
            none if c.other_class is None else [float(p) for p in c.other_class.known_probability(pooled, logsumexp)]
        )
        typical: list[float | None] = none if c.density is None else [float(p) for p in c.density.typicality(pooled)]
        return plant, known, typical
