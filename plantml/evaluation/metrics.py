"""Classification metrics from targets and class probabilities, in numpy; no Django here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(targets: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    targets, probs = np.asarray(targets, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or targets.ndim != 1 or len(targets) != len(probs):
        raise ValueError(f"need targets (N,) and probs (N, C); got {targets.shape} and {probs.shape}")
    if len(targets) and (targets.min() < 0 or targets.max() >= probs.shape[1]):
        raise ValueError(f"targets must be class indices in [0, {probs.shape[1]})")
    return targets, probs


def true_class_ranks(targets: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Return each sample's 0-based rank of its true class (ties go to the lower class index, as argmax)."""
    targets, probs = _check(targets, probs)
    true = probs[np.arange(len(targets)), targets][:, None]
    lower_index = np.arange(probs.shape[1])[None, :] < targets[:, None]
    return ((probs > true) | ((probs == true) & lower_index)).sum(axis=1)


def _hit_rate(ranks: np.ndarray, k: int) -> float:
    return float(np.mean(ranks < k)) if len(ranks) else 0.0


def _class_hit_rates(targets: np.ndarray, ranks: np.ndarray, k: int, num_classes: int) -> np.ndarray:
    support = np.bincount(targets, minlength=num_classes)
    hits = np.bincount(targets, weights=(ranks < k).astype(np.float64), minlength=num_classes)
    return np.where(support > 0, hits / np.maximum(support, 1), np.nan)


def _nanmean(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else 0.0


def top_k_accuracy(targets: np.ndarray, probs: np.ndarray, k: int) -> float:
    """Return the fraction of samples whose true class is among the k most probable (k capped at C)."""
    return _hit_rate(true_class_ranks(targets, probs), k)


def per_class_top_k(targets: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    """Return each class's top-k accuracy over its own samples; NaN for a class without samples."""
    targets, probs = _check(targets, probs)
    return _class_hit_rates(targets, true_class_ranks(targets, probs), k, probs.shape[1])


def macro_top_k(targets: np.ndarray, probs: np.ndarray, k: int) -> float:
    """Return the mean over classes (with samples) of per-class top-k accuracy: PlantNet-300K's metric."""
    return _nanmean(per_class_top_k(targets, probs, k))


def confusion_matrix(targets: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Return the (C, C) count matrix; rows are true classes, columns predicted ones."""
    flat = np.asarray(targets, dtype=np.int64) * num_classes + np.asarray(predictions, dtype=np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float | None:
    """Return the ROC AUC (Mann-Whitney, ties count half); None without both positives and negatives."""
    is_positive = np.asarray(is_positive, dtype=bool)
    n_pos = int(is_positive.sum())
    n_neg = len(is_positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(np.asarray(scores), return_inverse=True, return_counts=True)
    # average 1-based rank of each group of tied scores
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0
    rank_sum = average_rank[inverse][is_positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_curve(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (false positive rates, true positive rates) from the highest threshold down, starting at (0, 0)."""
    is_positive = np.asarray(is_positive, dtype=bool)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    sorted_scores, sorted_positive = np.asarray(scores)[order], is_positive[order]
    # one point per distinct threshold: the last index of each run of equal scores
    last_of_run = np.r_[np.nonzero(np.diff(sorted_scores))[0], len(sorted_scores) - 1]
    true_positives = np.cumsum(sorted_positive)[last_of_run]
    false_positives = last_of_run + 1 - true_positives
    n_pos, n_neg = max(int(is_positive.sum()), 1), max(int((~is_positive).sum()), 1)
    return np.r_[0.0, false_positives / n_neg], np.r_[0.0, true_positives / n_pos]


def _ratio(numerator: float, denominator: float, undefined: float | None) -> float | None:
    return float(numerator / denominator) if denominator else undefined


def _per_class_rows(
    cm: np.ndarray, class_names: Sequence[str], aucs: list[float | None], top_k_rows: dict[int, np.ndarray]
) -> list[dict]:
    total = int(cm.sum())
    rows = []
    for index, name in enumerate(class_names):
        tp = int(cm[index, index])
        support, predicted = int(cm[index].sum()), int(cm[:, index].sum())
        fp, fn = predicted - tp, support - tp
        tn = total - tp - fp - fn
        # precision is 0 for a class never predicted (sklearn's zero_division=0); recall is
        # undefined (None) for a class without samples, so it stays out of macro averages
        precision = _ratio(tp, predicted, 0.0)
        recall = _ratio(tp, support, None)
        f1 = None if recall is None else (_ratio(2 * precision * recall, precision + recall, 0.0))
        row = {
            "name": name,
            "support": support,
            "accuracy": recall,
            "precision": precision,
            "recall": recall,
            "specificity": _ratio(tn, tn + fp, None),
            "f1": f1,
            "auc": aucs[index],
        }
        for k, values in top_k_rows.items():
            row[f"top{k}"] = None if np.isnan(values[index]) else float(values[index])
        rows.append(row)
    return rows


def _mean_defined(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def compute_metrics(targets: np.ndarray, probs: np.ndarray, class_names: list[str], ks: Sequence[int] = (1, 5)) -> dict:
    """Return top-k, macro top-k, per-class figures, the confusion matrix and one-vs-rest ROC AUC.

    Keys: ``top{k}`` and ``macro_top{k}`` for each k (k capped at the number of classes),
    ``per_class`` (name, support, accuracy, precision, recall, specificity, f1, auc, top{k}),
    ``confusion_matrix`` (rows = true class), ``roc_auc`` ({"macro", "per_class"}),
    ``macro_precision``, ``macro_recall``, ``macro_f1``, ``num_samples``, ``num_classes``.
    """
    targets, probs = _check(targets, probs)
    num_classes = probs.shape[1]
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for probabilities over {num_classes} classes")
    if any(k < 1 for k in ks):
        raise ValueError(f"top-k values must be at least 1, got {list(ks)}")
    ks = sorted(set(ks))
    ranks = true_class_ranks(targets, probs)
    cm = confusion_matrix(targets, probs.argmax(axis=1), num_classes)
    aucs = [roc_auc(targets == c, probs[:, c]) for c in range(num_classes)]
    top_k_rows = {k: _class_hit_rates(targets, ranks, k, num_classes) for k in ks}
    metrics: dict = {"num_samples": int(len(targets)), "num_classes": int(num_classes)}
    for k in ks:
        metrics[f"top{k}"] = _hit_rate(ranks, k)
        metrics[f"macro_top{k}"] = _nanmean(top_k_rows[k])
    per_class = _per_class_rows(cm, class_names, aucs, top_k_rows)
    supported = [row for row in per_class if row["support"] > 0]
    for key in ("precision", "recall", "f1"):
        metrics[f"macro_{key}"] = _mean_defined([row[key] for row in supported])
    metrics["per_class"] = per_class
    metrics["confusion_matrix"] = cm.tolist()
    metrics["roc_auc"] = {"macro": _mean_defined(aucs), "per_class": aucs}
    return metrics
