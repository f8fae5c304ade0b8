"""Where models run: the first CUDA device when there is one, else the CPU."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    """Return the first CUDA device when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
