"""Metrics against numbers computed by hand on tiny arrays."""

from __future__ import annotations

import numpy as np
import pytest

from plantml.evaluation.metrics import (
    compute_metrics,
    confusion_matrix,
    macro_top_k,
    per_class_top_k,
    roc_auc,
    roc_curve,
    top_k_accuracy,
)

NAMES = ["a", "b", "c"]
# true-class ranks: 0, 1, 0, 2
TARGETS = np.array([0, 1, 2, 0])
PROBS = np.array([[0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.2, 0.3, 0.5]])


def one_hot(predictions: list[int], num_classes: int = 3) -> np.ndarray:
    return np.eye(num_classes)[predictions]


def test_top_k_counts_the_true_class_among_the_k_most_probable():
    assert top_k_accuracy(TARGETS, PROBS, 1) == pytest.approx(2 / 4)
    assert top_k_accuracy(TARGETS, PROBS, 2) == pytest.approx(3 / 4)
    assert top_k_accuracy(TARGETS, PROBS, 3) == pytest.approx(1.0)


def test_top_k_is_capped_at_the_number_of_classes():
    assert top_k_accuracy(TARGETS, PROBS, 5) == 1.0
    assert compute_metrics(TARGETS, PROBS, NAMES)["top5"] == 1.0


def test_ties_go_to_the_lower_class_index_as_argmax_does():
    uniform = np.full((3, 3), 1 / 3)
    assert top_k_accuracy(np.array([0, 1, 2]), uniform, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(np.array([0, 1, 2]), uniform, 2) == pytest.approx(2 / 3)


def test_macro_top1_averages_per_class_accuracy_so_it_differs_from_micro_on_unbalanced_data():
    # class 0: 4 samples, all right; class 1: 1 sample, wrong
    targets = np.array([0, 0, 0, 0, 1])
    probs = one_hot([0, 0, 0, 0, 0], 2)
    assert top_k_accuracy(targets, probs, 1) == pytest.approx(0.8)
    assert macro_top_k(targets, probs, 1) == pytest.approx(0.5)
    metrics = compute_metrics(targets, probs, ["x", "y"], ks=(1,))
    assert (metrics["top1"], metrics["macro_top1"]) == (pytest.approx(0.8), pytest.approx(0.5))


def test_macro_top_k_leaves_out_classes_without_samples():
    per_class = per_class_top_k(np.array([0, 0]), one_hot([0, 1]), 1)
    assert per_class[0] == pytest.approx(0.5)
    assert np.isnan(per_class[1]) and np.isnan(per_class[2])
    assert macro_top_k(np.array([0, 0]), one_hot([0, 1]), 1) == pytest.approx(0.5)


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_per_class_precision_recall_specificity_f1_match_hand_computation():
    # confusion matrix [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    targets = np.array([0, 0, 0, 1, 1, 2])
    metrics = compute_metrics(targets, one_hot([0, 0, 1, 1, 2, 2]), NAMES)
    a, b, c = metrics["per_class"]
    assert metrics["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert (a["support"], a["precision"], a["recall"], a["specificity"], a["f1"]) == (
        3,
        pytest.approx(1.0),
        pytest.approx(2 / 3),
        pytest.approx(1.0),
        pytest.approx(0.8),
    )
    assert (b["precision"], b["recall"], b["specificity"], b["f1"]) == (
        pytest.approx(0.5),
        pytest.approx(0.5),
        pytest.approx(3 / 4),
        pytest.approx(0.5),
    )
    assert (c["precision"], c["recall"], c["specificity"], c["f1"]) == (
        pytest.approx(0.5),
        pytest.approx(1.0),
        pytest.approx(4 / 5),
        pytest.approx(2 / 3),
    )
    assert a["accuracy"] == a["recall"]
    assert metrics["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_a_class_never_predicted_has_precision_zero_and_one_without_samples_has_no_recall():
    metrics = compute_metrics(np.array([0, 0, 1]), one_hot([0, 0, 0]), NAMES)
    b, c = metrics["per_class"][1], metrics["per_class"][2]
    assert b["precision"] == 0.0 and b["f1"] == 0.0
    assert c["support"] == 0 and c["recall"] is None and c["f1"] is None and c["auc"] is None


def test_auc_is_one_for_perfect_separation_and_zero_when_reversed():
    positive = np.array([False, False, True, True])
    assert roc_auc(positive, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert roc_auc(positive, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)


def test_auc_is_one_half_for_constant_scores():
    assert roc_auc(np.array([True, False, True, False, False]), np.full(5, 0.3)) == pytest.approx(0.5)


def test_auc_counts_pairs_and_half_for_ties():
    # positives 0.9, 0.4 vs negatives 0.5, 0.1: 3 of 4 pairs ordered right
    assert roc_auc(np.array([True, True, False, False]), np.array([0.9, 0.4, 0.5, 0.1])) == pytest.approx(0.75)
    # positive 0.5 vs negatives 0.5 (tie: half) and 0.1 (right)
    assert roc_auc(np.array([True, False, False]), np.array([0.5, 0.5, 0.1])) == pytest.approx(0.75)


def test_auc_is_none_without_positives():
    assert roc_auc(np.array([False, False]), np.array([0.1, 0.2])) is None


def test_roc_curve_runs_from_origin_to_one_one_and_never_goes_down():
    fpr, tpr = roc_curve(np.array([True, False, True, False]), np.array([0.9, 0.7, 0.6, 0.2]))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert list(zip(fpr, tpr))[1:3] == [(0.0, 0.5), (0.5, 0.5)]


def test_macro_auc_averages_the_classes_where_it_is_defined():
    metrics = compute_metrics(np.array([0, 0, 1]), np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.3, 0.7, 0.0]]), NAMES)
    assert metrics["roc_auc"]["per_class"] == [pytest.approx(1.0), pytest.approx(1.0), None]
    assert metrics["roc_auc"]["macro"] == pytest.approx(1.0)


def test_compute_metrics_refuses_mismatched_class_names():
    with pytest.raises(ValueError, match="2 class names"):
        compute_metrics(TARGETS, PROBS, ["a", "b"])
