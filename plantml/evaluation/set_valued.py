"""PlantNet-300K's set-valued metric, average-K: one global probability threshold that returns K classes on average."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

AVERAGE_KS = (1, 3, 5)


def fit_average_k_threshold(probs: np.ndarray, k: float) -> float:
    """Return the threshold t such that the classes with probability >= t number ``k`` per sample on average."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or not len(probs):
        raise ValueError(f"need (N, C) probabilities with N > 0, got shape {probs.shape}")
    if not 0 < k <= probs.shape[1]:
        raise ValueError(f"average K must be in (0, {probs.shape[1]}], got {k}")
    count = int(round(k * len(probs)))
    # the count-th largest probability of all (sample, class) pairs
    return float(np.partition(probs.ravel(), probs.size - count)[probs.size - count])


def average_k_metrics(
    fit_probs: np.ndarray, targets: np.ndarray, probs: np.ndarray, ks: Sequence[float] = AVERAGE_KS
) -> dict[str, dict]:
    """Return {"average_{k}": threshold (fitted on ``fit_probs``), accuracy, macro accuracy, mean set size}.

    Only K below the number of classes are reported: returning every class on average says nothing.
    """
    targets, probs = np.asarray(targets, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    result = {}
    for k in (k for k in ks if k < probs.shape[1]):
        threshold = fit_average_k_threshold(fit_probs, k)
        hit = probs[np.arange(len(targets)), targets] >= threshold
        support = np.bincount(targets, minlength=probs.shape[1])
        per_class = np.bincount(targets, weights=hit.astype(np.float64), minlength=probs.shape[1])
        present = support > 0
        result[f"average_{k}"] = {
            "threshold": threshold,
            "accuracy": float(hit.mean()) if len(hit) else 0.0,
            "macro_accuracy": float((per_class[present] / support[present]).mean()) if present.any() else 0.0,
            "mean_set_size": float((probs >= threshold).sum(axis=1).mean()) if len(probs) else 0.0,
        }
    return result
