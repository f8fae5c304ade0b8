"""Evaluation outputs at many classes (plantml/evaluation/many_classes.py)."""

from __future__ import annotations

import csv

import numpy as np

from plantml.evaluation.many_classes import top_confused_pairs, write_per_class_csv
from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.plots import write_evaluation_plots


def test_confused_pairs_are_the_largest_off_diagonal_cells():
    cm = [[5, 3, 0], [1, 4, 0], [0, 6, 2]]
    assert top_confused_pairs(cm, 2) == [(2, 1, 6, 0.75), (0, 1, 3, 0.375)]


def test_per_class_csv_lists_the_worst_classes_first(tmp_path):
    rows = [
        {"name": "a", "support": 2, "accuracy": 1.0, "precision": 1.0},
        {"name": "b", "support": 3, "accuracy": 0.0, "display_name": "Bellis perennis"},
    ]
    with write_per_class_csv(rows, tmp_path / "per_class.csv").open() as handle:
        read = list(csv.DictReader(handle))
    assert [r["name"] for r in read] == ["b", "a"] and read[0]["display_name"] == "Bellis perennis"


def test_above_a_hundred_classes_the_plots_show_confused_pairs_instead_of_the_matrix(tmp_path):
    rng = np.random.default_rng(0)
    targets = np.repeat(np.arange(120), 2)
    probs = rng.dirichlet(np.ones(120), size=len(targets))
    names = [f"species {i}" for i in range(120)]
    files = write_evaluation_plots(targets, probs, compute_metrics(targets, probs, names), names, tmp_path)
    assert {f.name for f in files} == {
        "confused_pairs.png",
        "per_class.csv",
        "per_class_accuracy.png",
        "roc_curves.png",
    }
