"""Test-time augmentation: extra views of a batch whose predictions are averaged."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .modeling import forward_with_features

DEFAULT_SCALES: tuple[float, ...] = (1.0,)


def zoom(batch: torch.Tensor, scale: float) -> torch.Tensor:
    """Return the (N, C, H, W) batch zoomed by ``scale`` about its centre, at the same H x W.

    Above 1 the enlarged image is centre-cropped; below 1 the shrunken image is padded with
    zeros, which after normalisation is the dataset's mean colour. Keeping the size fixed
    lets any architecture (also those with a fixed input size) take every view.
    """
    if scale <= 0:
        raise ValueError(f"a TTA scale must be positive, got {scale}")
    if scale == 1.0:
        return batch
    height, width = batch.shape[-2:]
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    resized = F.interpolate(batch, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=scale < 1)
    if scale > 1:
        top, left = (new_h - height) // 2, (new_w - width) // 2
        return resized[..., top : top + height, left : left + width]
    top, left = (height - new_h) // 2, (width - new_w) // 2
    return F.pad(resized, (left, width - new_w - left, top, height - new_h - top))


def tta_views(batch: torch.Tensor, flips: bool = True, scales: Sequence[float] = DEFAULT_SCALES) -> list[torch.Tensor]:
    """Return one view per scale (1.0 is the batch itself), each followed by its horizontal flip with ``flips``."""
    views = []
    for scale in scales:
        view = zoom(batch, scale)
        views.append(view)
        if flips:
            views.append(torch.flip(view, dims=[3]))
    return views


def tta_probabilities(
    model: nn.Module, batch: torch.Tensor, flips: bool = True, scales: Sequence[float] = DEFAULT_SCALES
) -> torch.Tensor:
    """Return the (N, C) softmax probabilities averaged over the batch's TTA views."""
    views = tta_views(batch, flips=flips, scales=scales)
    return torch.stack([torch.softmax(model(view).float(), dim=1) for view in views]).mean(dim=0)


def tta_outputs(
    model: nn.Module,
    batch: torch.Tensor,
    flips: bool = True,
    scales: Sequence[float] = DEFAULT_SCALES,
    features: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return (logits, pooled features) averaged over the batch's TTA views.

    Features are None without ``features`` (the plain forward runs) or when the model gives none.
    """
    views = tta_views(batch, flips=flips, scales=scales)
    outputs = [forward_with_features(model, view) if features else (model(view), None) for view in views]
    logits = torch.stack([out[0].float() for out in outputs]).mean(dim=0)
    if any(out[1] is None for out in outputs):
        return logits, None
    return logits, torch.stack([out[1].float() for out in outputs]).mean(dim=0)
