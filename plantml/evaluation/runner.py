"""Run a model over a loader and collect targets and class probabilities; no Django here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from plantml.progress import progress
from plantml.tta import DEFAULT_SCALES, tta_probabilities


def predict_loader(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str,
    tta: bool = False,
    *,
    tta_scales: Sequence[float] = DEFAULT_SCALES,
    description: str = "evaluate",
) -> tuple[np.ndarray, np.ndarray]:
    """Return (targets (N,), softmax probabilities (N, C)) of ``model`` in eval mode over (images, labels) batches.

    With ``tta`` the probabilities are averaged over horizontal flips at each of ``tta_scales``.
    The model's train/eval mode is restored afterwards, so training loops can call this. Samples
    labelled -1 (files the dataset could not read) are left out.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    targets, probabilities = [], []
    try:
        with torch.inference_mode():
            for images, labels in progress(loader, description):
                images = images.to(device, non_blocking=True)
                if tta:
                    probs = tta_probabilities(model, images, flips=True, scales=tta_scales)
                else:
                    probs = torch.softmax(model(images).float(), dim=1)
                probabilities.append(probs.cpu().numpy())
                targets.append(np.asarray(labels, dtype=np.int64))
    finally:
        model.train(was_training)
    if not probabilities:
        raise ValueError("the loader yielded no images: check that the data folder has images for this split")
    targets, probabilities = np.concatenate(targets), np.concatenate(probabilities)
    readable = targets >= 0
    if not readable.any():
        raise ValueError("no image of this split could be read: check the data folder")
    return targets[readable], probabilities[readable]
