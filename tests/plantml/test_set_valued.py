"""Average-K (plantml/evaluation/set_valued.py)."""

from __future__ import annotations

import numpy as np
import pytest

from plantml.evaluation.set_valued import average_k_metrics, fit_average_k_threshold


def test_the_threshold_returns_k_classes_per_sample_on_average():
    probs = np.random.default_rng(0).dirichlet(np.ones(20), size=200)
    threshold = fit_average_k_threshold(probs, 3)
    assert (probs >= threshold).sum(axis=1).mean() == pytest.approx(3, abs=0.01)


def test_accuracy_counts_samples_whose_class_is_in_the_returned_set():
    fit = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])  # K=1: threshold 0.7
    probs = np.array([[0.75, 0.2, 0.05], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    result = average_k_metrics(fit, np.array([0, 1, 2]), probs, ks=(1,))["average_1"]
    assert result["threshold"] == 0.7
    assert result["accuracy"] == pytest.approx(2 / 3) and result["macro_accuracy"] == pytest.approx(2 / 3)
    assert result["mean_set_size"] == pytest.approx(2 / 3)


def test_an_impossible_k_is_refused():
    with pytest.raises(ValueError, match="average K must be in"):
        fit_average_k_threshold(np.full((2, 3), 1 / 3), 4)


def test_k_values_not_below_the_number_of_classes_are_left_out():
    probs = np.full((4, 3), 1 / 3)
    assert list(average_k_metrics(probs, np.array([0, 1, 2, 0]), probs)) == ["average_1"]
