"""Where models run: one parser of the --device option for training, evaluation and prediction."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    """Return the first CUDA device when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """Return the device for ``name`` (auto: this rank's GPU when there is one, else the CPU).

    Raises ValueError naming the fix for a name that is not a device or a GPU that is not there.
    """
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {name!r} is not supported: use cpu, cuda or cuda:N (or auto)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no GPU is visible here: use --device cpu or auto")
    return device


def is_device(name: str) -> bool:
    """Return True when ``name`` resolves to a device here; ValueError with the fix otherwise (an option check)."""
    return resolve_device(name) is not None
