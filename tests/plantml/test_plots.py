"""Plots are written as real PNG files, also for many classes and incomplete histories."""

from __future__ import annotations

import numpy as np
from matplotlib.image import imread

from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.plots import (
    plot_confusion_matrix,
    plot_per_class_accuracy,
    plot_roc_curves,
    plot_training_curves,
    write_evaluation_plots,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    height, width = imread(path).shape[:2]
    assert height > 100 and width > 100


def _predictions(num_classes: int, per_class: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    targets = np.repeat(np.arange(num_classes), per_class)
    probs = rng.dirichlet(np.ones(num_classes), size=len(targets))
    return targets, probs, [f"species_{i}" for i in range(num_classes)]


def test_training_curves_tolerate_missing_keys(tmp_path):
    history = [
        {"epoch": 1, "train_loss": 1.2, "val_loss": 1.0, "val_top1": 0.4, "lr": 1e-4},
        {"epoch": 2, "train_loss": 0.9, "lr": 5e-5},  # no validation this epoch
        {"epoch": 3},
    ]
    path = plot_training_curves(history, tmp_path / "curves.png")
    _assert_png(path)


def test_training_curves_of_an_empty_history_still_write_a_png(tmp_path):
    _assert_png(plot_training_curves([], tmp_path / "curves.png"))


def test_evaluation_plots_write_three_pngs_and_the_per_class_csv(tmp_path):
    targets, probs, names = _predictions(4)
    metrics = compute_metrics(targets, probs, names)
    paths = write_evaluation_plots(targets, probs, metrics, names, tmp_path / "eval")
    assert [p.name for p in paths] == [
        "confusion_matrix.png",
        "per_class.csv",
        "per_class_accuracy.png",
        "roc_curves.png",
    ]
    for path in paths:
        if path.suffix == ".png":
            _assert_png(path)


def test_plots_for_many_classes_are_written(tmp_path):
    targets, probs, names = _predictions(80, per_class=2)
    metrics = compute_metrics(targets, probs, names)
    _assert_png(plot_confusion_matrix(metrics["confusion_matrix"], names, tmp_path / "cm.png"))
    _assert_png(plot_per_class_accuracy(metrics["per_class"], tmp_path / "acc.png"))
    _assert_png(plot_roc_curves(targets, probs, names, tmp_path / "roc.png"))


def test_a_confusion_matrix_with_an_empty_class_row_is_drawn(tmp_path):
    _assert_png(plot_confusion_matrix([[2, 0], [0, 0]], ["a", "b"], tmp_path / "cm.png"))
