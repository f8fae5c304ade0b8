"""Exact resumption: per-epoch seeding and the training state kept in last.pt."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from plantml.checkpoint import CheckpointError, load_checkpoint

RESUME_KEYS = ("optimizer", "lr_scheduler", "phase_index", "phase_epoch", "phase_done", "epoch", "sampler", "history")


def seed_epoch(seed: int, epoch: int, rank: int = 0) -> None:
    """Seed every RNG from (seed, epoch, rank), so an epoch's augmentation is the same whether resumed or not."""
    value = (seed * 1_000_003 + epoch * 9_973 + rank * 7_919) % (2**31)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def load_resume_state(path: Path) -> dict[str, Any]:
    """Return a last.pt checkpoint's payload, refusing checkpoints that hold no training state."""
    payload = load_checkpoint(path)
    missing = [key for key in RESUME_KEYS if key not in payload]
    if missing:
        raise CheckpointError(
            f"{path} holds no training state ({', '.join(missing)} missing): resume from RUN_DIR/last.pt, "
            "or start a new run from its weights with --weights FILE"
        )
    return payload
