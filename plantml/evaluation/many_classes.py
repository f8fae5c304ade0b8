"""Evaluation outputs that stay readable at 1,000+ classes: top confused pairs and per-class results as CSV."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .figures import plt, save_figure

logger = logging.getLogger(__name__)

PER_CLASS_COLUMNS = (
    "name",
    "display_name",
    "support",
    "accuracy",
    "top5",
    "precision",
    "recall",
    "specificity",
    "f1",
    "auc",
)


def top_confused_pairs(cm: Sequence[Sequence[int]], count: int = 25) -> list[tuple[int, int, int, float]]:
    """Return up to ``count`` (true, predicted, images, share of the true class) off-diagonal cells, most first."""
    cm = np.asarray(cm, dtype=np.int64)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = np.flatnonzero(off)
    if not len(flat):
        return []
    order = flat[np.argsort(-off.ravel()[flat], kind="stable")][:count]
    totals = cm.sum(axis=1)
    pairs = []
    for index in order:
        true, predicted = divmod(int(index), cm.shape[1])
        pairs.append((true, predicted, int(cm[true, predicted]), float(cm[true, predicted] / max(totals[true], 1))))
    return pairs


def plot_confused_pairs(cm: Sequence[Sequence[int]], class_names: Sequence[str], path: Path, count: int = 25) -> Path:
    """Write a bar chart of the most frequent confusions (true -> predicted), in place of a huge matrix image."""
    pairs = top_confused_pairs(cm, count)
    fig, axis = plt.subplots(figsize=(9, 1.5 + 0.3 * max(len(pairs), 1)))
    labels = [f"{class_names[t]} → {class_names[p]} ({share:.0%})" for t, p, _, share in pairs]
    axis.barh(range(len(pairs)), [n for _, _, n, _ in pairs], color="tab:red")
    axis.set_yticks(range(len(pairs)), labels, fontsize="small")
    axis.invert_yaxis()
    axis.set_xlabel("images (share of the true class)")
    axis.set_title(f"top {len(pairs)} confused pairs of {len(class_names)} classes (true → predicted)")
    if not pairs:
        axis.text(0.5, 0.5, "no confusions", ha="center", va="center", transform=axis.transAxes)
    return save_figure(fig, path)


def write_per_class_csv(per_class: Sequence[dict], path: Path) -> Path:
    """Write one row per class (worst top-1 first) with its support and figures; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(per_class, key=lambda r: (r["accuracy"] is None, r["accuracy"] or 0.0, r["name"]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=PER_CLASS_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({"display_name": row["name"], **row})
    logger.info("wrote %s", path)
    return path
