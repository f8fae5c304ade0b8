"""Plots are written as real PNG files, also for many classes and incomplete histories."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.plots import (
    plot_confusion_matrix,
    plot_per_class_accuracy,
    plot_roc_curves,
    plot_training_curves,
    training_curves_figure,
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


PHASED_HISTORY = [
    {"epoch": 1, "phase": "head", "train_loss": 1.5, "val_top1": 0.3, "lr_head": 1e-3, "is_best": True},
    {"epoch": 2, "phase": "head", "train_loss": 1.2, "val_top1": 0.5, "lr_head": 5e-4, "is_best": True},
    {
        "epoch": 3,
        "phase": "full",
        "train_loss": 0.9,
        "val_top1": 0.7,
        "lr_backbone": 1e-4,
        "lr_head": 1e-3,
        "is_best": True,
    },
    {
        "epoch": 4,
        "phase": "full",
        "train_loss": 0.8,
        "val_top1": 0.6,
        "lr_backbone": 5e-5,
        "lr_head": 5e-4,
        "is_best": False,
    },
    {
        "epoch": 5,
        "phase": "full",
        "train_loss": 0.7,
        "val_top1": 0.6,
        "lr_backbone": 1e-5,
        "lr_head": 1e-4,
        "is_best": False,
        "early_stop": True,
    },
]


def _legend_labels(axis) -> list[str]:
    legend = axis.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def test_training_curves_mark_the_best_epoch_and_the_early_stop():
    fig = training_curves_figure(PHASED_HISTORY)
    labels = _legend_labels(fig.axes[1])
    assert "best epoch 3" in labels and "early stop (epoch 5)" in labels


def test_training_curves_name_each_phase_where_it_starts():
    fig = training_curves_figure(PHASED_HISTORY)
    assert [text.get_text() for text in fig.axes[0].texts] == ["head", "full"]


def test_training_curves_plot_the_backbone_and_head_learning_rates():
    fig = training_curves_figure(PHASED_HISTORY)
    assert {"lr_backbone", "lr_head"} <= set(_legend_labels(fig.axes[2]))


def test_chinese_class_names_are_drawn_with_an_installed_cjk_font(tmp_path):
    import warnings

    from plantml.evaluation.fonts import installed_cjk_family

    if installed_cjk_family() is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei)")
    targets, probs, _ = _predictions(3)
    names = ["金银花", "蒲公英", "Rosa canina"]
    metrics = compute_metrics(targets, probs, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _assert_png(plot_confusion_matrix(metrics["confusion_matrix"], names, tmp_path / "cm.png"))
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_without_a_cjk_font_one_sentence_says_how_to_get_one(caplog, monkeypatch):
    from plantml.evaluation import fonts

    monkeypatch.setitem(fonts._state, "warned", False)
    with caplog.at_level("WARNING", logger="plantml.evaluation.fonts"):
        fonts.use_fonts_for(["金银花"], families=["No Such Font"])
        fonts.use_fonts_for(["蒲公英"], families=["No Such Font"])
    assert [record.getMessage() for record in caplog.records] == [fonts.NO_CJK_FONT]
    assert "fonts-noto-cjk" in fonts.NO_CJK_FONT


def test_latin_class_names_need_no_cjk_font():
    from plantml.evaluation.fonts import needs_cjk

    assert not needs_cjk(["Rosa canina", "Bellis perennis", "Achillea millefolium"])
    assert needs_cjk(["Rosa canina", "金银花"])
