"""Run a model over a loader and collect targets, logits, pooled features and class probabilities; no Django here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from plantml.open_set import softmax
from plantml.progress import progress
from plantml.tta import DEFAULT_SCALES, tta_outputs


@dataclass
class Outputs:
    """A model's raw answers on one split: targets (N,), logits (N, C) and pooled features (N, D) or None."""

    targets: np.ndarray
    logits: np.ndarray
    features: np.ndarray | None
    unreadable: list = field(default_factory=list)  # (path, reason) of files left out, when the caller knows them

    def probabilities(self, temperature: float = 1.0) -> np.ndarray:
        """Return softmax(logits / temperature)."""
        return softmax(self.logits, temperature)


def predict_outputs(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str,
    tta: bool = False,
    *,
    tta_scales: Sequence[float] = DEFAULT_SCALES,
    description: str = "evaluate",
    features: bool = False,
    labelled: bool = True,
) -> Outputs:
    """Return ``model``'s Outputs in eval mode over (images, labels) batches, logits TTA-averaged with ``tta``.

    The model's train/eval mode is restored afterwards, so training loops can call this. Samples
    labelled -1 (files the dataset could not read) are left out; with ``labelled=False`` the labels
    only mark readability (photos with no class, e.g. of things that are not plants).
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    targets, logits, pooled = [], [], []
    try:
        with torch.inference_mode():
            for images, labels in progress(loader, description):
                images = images.to(device, non_blocking=True)
                views = dict(flips=True, scales=tta_scales) if tta else dict(flips=False)
                batch_logits, batch_features = tta_outputs(model, images, features=features, **views)
                if features:
                    pooled.append(batch_features.float().cpu().numpy())
                logits.append(batch_logits.float().cpu().numpy())
                targets.append(np.asarray(labels, dtype=np.int64))
    finally:
        model.train(was_training)
    if not logits:
        raise ValueError("the loader yielded no images: check that the data folder has images for this split")
    all_targets = np.concatenate(targets)
    readable = all_targets >= 0
    if not readable.any():
        raise ValueError("no image of this split could be read: check the data folder")
    return Outputs(
        targets=all_targets[readable] if labelled else np.full(int(readable.sum()), -1),
        logits=np.concatenate(logits)[readable],
        features=np.concatenate(pooled)[readable] if features else None,
    )


def predict_loader(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str,
    tta: bool = False,
    *,
    tta_scales: Sequence[float] = DEFAULT_SCALES,
    description: str = "evaluate",
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (targets (N,), softmax(logits / temperature) (N, C)) of ``model`` over a loader (see predict_outputs)."""
    outputs = predict_outputs(model, loader, device, tta, tta_scales=tta_scales, description=description)
    return outputs.targets, outputs.probabilities(temperature)
