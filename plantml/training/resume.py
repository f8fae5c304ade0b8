"""Exact resumption: per-epoch seeding and TrainingState, everything last.pt holds to continue a run."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from plantml.checkpoint import ModelSpec, load_checkpoint, save_checkpoint, unwrap
from plantml.files import CheckpointError

from .ema import WeightEma
from .phases import EarlyStopping
from .sampling import ClassBalancedSampler

logger = logging.getLogger(__name__)
PHASE_PARTS = ("optimizer", "lr_scheduler", "scaler", "early_stopping")
RESUME_KEYS = ("epoch", "phase_index", "phase_epoch", "phase_done", "history", "sampler", "rng", *PHASE_PARTS)


def seed_epoch(seed: int, epoch: int, rank: int = 0) -> None:
    """Seed every RNG from (seed, epoch, rank), so an epoch's augmentation is the same whether resumed or not."""
    value = (seed * 1_000_003 + epoch * 9_973 + rank * 7_919) % (2**31)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def rng_state() -> dict[str, Any]:
    """Return the Python, NumPy and torch CPU RNG states as values a weights-only checkpoint can hold."""
    name, keys, position, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [name, keys.tolist(), position, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the RNG states returned by ``rng_state``."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])


class TrainingState:
    """A run's whole resumable state: model, EMA, sampler, position, history, RNGs and the phase's optimisation.

    The optimizer, scheduler, scaler and early stopping belong to one phase: ``start_phase`` attaches a
    phase's fresh objects and, when the run was resumed inside that phase, restores them.
    """

    def __init__(self, model: nn.Module, ema: WeightEma | None, sampler: ClassBalancedSampler) -> None:
        self.model, self.ema, self.sampler = model, ema, sampler
        self.optimizer: torch.optim.Optimizer | None = None
        self.lr_scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
        self.scaler: torch.amp.GradScaler | None = None
        self.early_stopping: EarlyStopping | None = None
        self.epoch = 0  # epochs completed over all phases
        self.phase_index, self.phase_epoch, self.phase_done = 0, 0, False
        self.history: list[dict] = []
        self.best_score: float | None = None
        self._restored_phase: dict[str, Any] | None = None

    @property
    def next_phase(self) -> int:
        """Return the index of the first phase that still has epochs to run."""
        return self.phase_index + (1 if self.phase_done else 0)

    def start_phase(self, index: int, optimizer, lr_scheduler, scaler, early_stopping: EarlyStopping) -> int:
        """Attach phase ``index``'s objects (restored when resuming inside it); return the phase epoch to start at."""
        self.optimizer, self.lr_scheduler, self.scaler = optimizer, lr_scheduler, scaler
        self.early_stopping = early_stopping
        self.phase_index, self.phase_epoch, self.phase_done = index, 0, False
        restored, self._restored_phase = self._restored_phase, None
        if restored is not None and restored["phase_index"] == index:
            for name in PHASE_PARTS:
                if restored[name]:  # a disabled loss scaler (CPU, bf16) saves {}, which an enabled one refuses
                    getattr(self, name).load_state_dict(restored[name])
            self.phase_epoch = int(restored["phase_epoch"])
        return self.phase_epoch

    def end_epoch(self, row: dict, phase_done: bool) -> None:
        """Record a finished epoch: its history row, the position and the best score so far."""
        self.epoch += 1
        self.phase_epoch += 1
        self.phase_done = phase_done
        self.history.append(row)
        if row.get("is_best"):
            self.best_score = row["score"]

    def state_dict(self) -> dict[str, Any]:
        """Return the state as a plain dict (torchvision's checkpoint keys plus ours)."""
        return {
            "model": unwrap(self.model).state_dict(),
            "model_ema": self.ema.state_dict() if self.ema else None,
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "early_stopping": self.early_stopping.state_dict(),
            "sampler": self.sampler.state_dict(),
            "epoch": self.epoch,
            "phase_index": self.phase_index,
            "phase_epoch": self.phase_epoch,
            "phase_done": self.phase_done,
            "history": list(self.history),
            "best_score": self.best_score,
            "rng": rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything now, except the phase's optimisation, which ``start_phase`` restores."""
        unwrap(self.model).load_state_dict(state["model"])
        if self.ema is not None and state.get("model_ema"):
            self.ema.load_state_dict(state["model_ema"])
        self.sampler.load_state_dict(state["sampler"])
        self.epoch, self.best_score = int(state["epoch"]), state.get("best_score")
        self.phase_index, self.phase_epoch = int(state["phase_index"]), int(state["phase_epoch"])
        self.phase_done, self.history = bool(state["phase_done"]), list(state["history"])
        # a finished phase's optimizer is not carried into the next one
        self._restored_phase = (
            None if self.phase_done else {k: state[k] for k in (*PHASE_PARTS, "phase_index", "phase_epoch")}
        )
        set_rng_state(state["rng"])
        logger.info("resuming after epoch %d (phase %d)", self.epoch, self.phase_index)


def save_resume_checkpoint(path: Path, state: TrainingState, spec: ModelSpec, **extra: Any) -> Path:
    """Write last.pt: a checkpoint whose entries are ``state``'s (the model once) plus ``extra``; return the path."""
    entries = state.state_dict()
    del entries["model"]  # save_checkpoint stores the model's weights under the same key
    return save_checkpoint(path, state.model, spec, **entries, **extra)


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
