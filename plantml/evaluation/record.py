"""The headline figures of a model: one typed record written by training and evaluation, read by the registry."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class MetricsRecord:
    """A model's figures on one split; None where a figure was not measured (e.g. top-5 during validation).

    Training writes it into best.pt (the validation figures of the kept epoch) and into metrics.json (the
    held-out test figures); evaluation writes it into evaluation.json; ``manage.py models`` reads it.
    """

    split: str | None = None
    num_samples: int | None = None
    top1: float | None = None
    top5: float | None = None
    macro_top1: float | None = None
    macro_top5: float | None = None
    macro_f1: float | None = None
    epoch: int | None = None  # the training epoch whose weights were measured
    kept: str | None = None  # "raw" or "ema": which weights of that epoch
    tta: bool = False
    unreadable_images: int | None = None  # files the loaders could not read (skipped, not fatal)
    train_counts: list[int] | None = None  # training photos per class, in class order (the species page shows them)

    @classmethod
    def from_metrics(cls, metrics: dict[str, Any], split: str, **extra: Any) -> MetricsRecord:
        """Return the record of a ``compute_metrics`` (or validation) dict on ``split``; ``extra`` sets other fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(split=split, **{k: v for k, v in metrics.items() if k in names}, **extra)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON values, every field present."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MetricsRecord:
        """Return the record written by ``to_dict``; fields it lacks are None (e.g. a hand-made checkpoint)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})
