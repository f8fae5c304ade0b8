"""Test-time augmentation: extra views of a batch whose predictions are averaged."""
from __future__ import annotations

import torch


def tta_views(batch: torch.Tensor, flips: bool = True) -> list[torch.Tensor]:
    """Return the batch itself plus its horizontal flip (when ``flips``)."""
    views = [batch]
    if flips:
        views.append(torch.flip(batch, dims=[3]))
    return views
