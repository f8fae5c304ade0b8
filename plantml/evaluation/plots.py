"""PNG plots of training curves and evaluation results (matplotlib, Agg backend); no Django here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .figures import plt
from .figures import save_figure as _save
from .fonts import use_fonts_for
from .many_classes import plot_confused_pairs, write_per_class_csv
from .metrics import roc_auc, roc_curve

logger = logging.getLogger(__name__)

CELL_TEXT_MAX_CLASSES = 30  # above this, numbers in the cells are unreadable
TICK_LABELS_MAX_CLASSES = 60
NAMED_BARS_MAX_CLASSES = 40
ROC_MAX_CURVES = 10
MATRIX_MAX_CLASSES = 100  # above this a matrix image is unreadable: the top confused pairs instead


def _series(history: Sequence[dict], key: str) -> tuple[list, list]:
    points = [(row.get("epoch", index + 1), row[key]) for index, row in enumerate(history) if row.get(key) is not None]
    return [x for x, _ in points], [y for _, y in points]


def _first(history: Sequence[dict], key: str):
    return next((row[key] for row in history if row.get(key) is not None), None)


def _plot_keys(axis: plt.Axes, history: Sequence[dict], keys: Sequence[str], ylabel: str) -> None:
    drawn = False
    for key in keys:
        xs, ys = _series(history, key)
        if xs:
            axis.plot(xs, ys, marker="o", markersize=3, label=key)
            drawn = True
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    if drawn:
        axis.legend(fontsize="small")
    else:
        axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)


def _learning_rate_keys(keys: set[str]) -> list[str]:
    """The per-part rates (lr_backbone, lr_head) when recorded, else the single ``lr``."""
    parts = sorted(k for k in keys if k.startswith("lr_"))
    return parts or sorted(k for k in keys if k == "lr")


def _mark_events(axes: Sequence[plt.Axes], history: Sequence[dict]) -> None:
    """Draw the phase boundaries, the best epoch and an early stop on every axis."""
    epochs = [row.get("epoch", index + 1) for index, row in enumerate(history)]
    boundaries = [
        (epochs[i], row["phase"])
        for i, row in enumerate(history)
        if row.get("phase") and (i == 0 or history[i - 1].get("phase") != row["phase"])
    ]
    best = [epochs[i] for i, row in enumerate(history) if row.get("is_best")]
    stops = [epochs[i] for i, row in enumerate(history) if row.get("early_stop")]
    for axis in axes:
        for index, (epoch, phase) in enumerate(boundaries):
            if index:
                axis.axvline(epoch - 0.5, color="grey", linestyle=":", linewidth=1)
            axis.text(epoch - 0.4, 1.0, phase, transform=axis.get_xaxis_transform(), va="top", fontsize="x-small")
        if best:
            axis.axvline(best[-1], color="tab:green", linestyle="--", linewidth=1, label=f"best epoch {best[-1]}")
        for epoch in stops:
            axis.axvline(epoch, color="tab:red", linestyle="-.", linewidth=1, label=f"early stop (epoch {epoch})")
        if best or stops:
            axis.legend(fontsize="small")


def training_curves_figure(history: Sequence[dict]) -> plt.Figure:
    """Return loss, accuracy and learning-rate curves per epoch, marked with phases, best epoch and early stop."""
    keys = {key for row in history for key in row if isinstance(_first(history, key), (int, float))}
    keys -= {"is_best", "early_stop"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    _plot_keys(axes[0], history, sorted(k for k in keys if k.endswith("loss")), "loss")
    _plot_keys(axes[1], history, sorted(k for k in keys if "top" in k or "acc" in k), "accuracy")
    _plot_keys(axes[2], history, _learning_rate_keys(keys), "learning rate")
    axes[0].set_title("loss")
    axes[1].set_title("accuracy")
    axes[2].set_title("learning rate (backbone and head)")
    _mark_events(axes, history)
    return fig


def plot_training_curves(history: Sequence[dict], path: Path) -> Path:
    """Write ``training_curves_figure(history)``; keys missing from the history are left out."""
    return _save(training_curves_figure(history), path)


def _normalised_rows(cm: np.ndarray) -> np.ndarray:
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros(cm.shape, dtype=np.float64), where=totals > 0)


def plot_confusion_matrix(cm: Sequence[Sequence[int]], class_names: Sequence[str], path: Path) -> Path:
    """Write the row-normalised confusion matrix (rows = true class); cell text only up to 30 classes."""
    use_fonts_for(class_names)
    cm = np.asarray(cm, dtype=np.float64)
    n = len(class_names)
    normalised = _normalised_rows(cm)
    side = min(4 + 0.35 * n, 24) if n <= TICK_LABELS_MAX_CLASSES else 12  # unlabelled: a heat map suffices
    fig, axis = plt.subplots(figsize=(side + 1.5, side))
    image = axis.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    fig.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="fraction of the true class")
    if n <= TICK_LABELS_MAX_CLASSES:
        axis.set_xticks(range(n), class_names, rotation=90, fontsize="small")
        axis.set_yticks(range(n), class_names, fontsize="small")
    if n <= CELL_TEXT_MAX_CLASSES:
        for (row, col), value in np.ndenumerate(normalised):
            if cm[row, col]:
                axis.text(
                    col,
                    row,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.5 else "black",
                )
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(f"confusion matrix ({n} classes, rows normalised)")
    return _save(fig, path)


def _label(row: dict) -> str:
    return row.get("display_name") or row["name"]


def plot_per_class_accuracy(per_class: Sequence[dict], path: Path) -> Path:
    """Write per-class top-1 accuracy, sorted; named bars up to 40 classes, else a sorted profile."""
    rows = sorted((row for row in per_class if row.get("accuracy") is not None), key=lambda row: row["accuracy"])
    use_fonts_for(_label(row) for row in rows)
    accuracies = [row["accuracy"] for row in rows]
    mean = float(np.mean(accuracies)) if accuracies else 0.0
    if len(rows) <= NAMED_BARS_MAX_CLASSES:
        fig, axis = plt.subplots(figsize=(8, 1.5 + 0.3 * max(len(rows), 1)))
        axis.barh(range(len(rows)), accuracies, color="tab:green")
        axis.set_yticks(range(len(rows)), [f"{_label(row)} (n={row['support']})" for row in rows], fontsize="small")
        axis.set_xlim(0, 1)
        axis.axvline(mean, color="black", linestyle="--", linewidth=1, label=f"macro top-1 {mean:.3f}")
        axis.set_xlabel("top-1 accuracy")
    else:
        fig, axis = plt.subplots(figsize=(10, 4))
        axis.bar(range(len(rows)), accuracies, width=1.0, color="tab:green")
        axis.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"macro top-1 {mean:.3f}")
        axis.set_ylim(0, 1)
        axis.set_xlabel(f"classes, sorted by accuracy (worst: {', '.join(_label(r) for r in rows[:3])})")
        axis.set_ylabel("top-1 accuracy")
    axis.legend(fontsize="small", loc="lower right")
    axis.set_title(f"per-class accuracy ({len(rows)} classes with samples)")
    return _save(fig, path)


def plot_roc_curves(
    targets: np.ndarray, probs: np.ndarray, class_names: Sequence[str], path: Path, max_curves: int = ROC_MAX_CURVES
) -> Path:
    """Write one-vs-rest ROC curves with AUC in the legend; above ``max_curves`` classes only the lowest-AUC ones."""
    use_fonts_for(class_names)
    targets, probs = np.asarray(targets), np.asarray(probs)
    aucs = [(roc_auc(targets == c, probs[:, c]), c) for c in range(len(class_names))]
    defined = sorted((auc, c) for auc, c in aucs if auc is not None)
    shown = defined[:max_curves]
    fig, axis = plt.subplots(figsize=(7, 6))
    for auc, c in shown:
        fpr, tpr = roc_curve(targets == c, probs[:, c])
        axis.plot(fpr, tpr, linewidth=1.2, label=f"{class_names[c]} (AUC {auc:.3f})")
    # micro average: every (sample, class) pair as one binary decision
    one_hot = np.eye(probs.shape[1], dtype=bool)[targets]
    fpr, tpr = roc_curve(one_hot.ravel(), probs.ravel())
    axis.plot(
        fpr,
        tpr,
        color="black",
        linestyle="--",
        linewidth=1.5,
        label=f"micro average (AUC {roc_auc(one_hot.ravel(), probs.ravel()) or 0:.3f})",
    )
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    title = "ROC curves, one class vs rest"
    if len(defined) > len(shown):
        title += f"\n{len(shown)} of {len(defined)} classes shown: those with the lowest AUC"
    axis.set_title(title)
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.01)
    axis.legend(fontsize="x-small", loc="lower right")
    return _save(fig, path)


def write_evaluation_plots(
    targets: np.ndarray, probs: np.ndarray, metrics: dict, class_names: Sequence[str], out_dir: Path
) -> list[Path]:
    """Write the confusion matrix (top confused pairs above 100 classes), per-class accuracy, ROC and per_class.csv."""
    out_dir = Path(out_dir)
    if len(class_names) > MATRIX_MAX_CLASSES:
        confusion = plot_confused_pairs(metrics["confusion_matrix"], class_names, out_dir / "confused_pairs.png")
    else:
        confusion = plot_confusion_matrix(metrics["confusion_matrix"], class_names, out_dir / "confusion_matrix.png")
    return [
        confusion,
        write_per_class_csv(metrics["per_class"], out_dir / "per_class.csv"),
        plot_per_class_accuracy(metrics["per_class"], out_dir / "per_class_accuracy.png"),
        plot_roc_curves(targets, probs, class_names, out_dir / "roc_curves.png"),
    ]
