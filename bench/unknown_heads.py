"""Ways to reject plants a model does not know, compared on one model's pooled features (bench/open_set.py).

Each approach gives a score per photo; the threshold accepts 95% of the val photos, as the served model's:
    none       the model's own head; the plant probe only (its plant side: val + unknown-data photos)
    (a) OE     a linear head refitted with outlier exposure: cross-entropy on known photos plus a term that
               pushes the softmax toward uniform on the unknown-data photos
    (b) other  a linear head refitted with one more class, "other plant", for the unknown-data photos; the
               score is the largest probability of a known class (the extra class is never shown)
    (c) probe  the model's own head times a logistic probe P(known species) on the pooled features (known
               val photos against the unknown-data and non-plant photos), its val scores out of fold
    (b') beside the model's own head, one "other plant" logit fitted on val against the unknown-data and
               non-plant photos with the class logits fixed (plantml.open_set.fit_other_class), val scores out
               of fold: what ``calibrate --unknown-data`` serves for a model trained without that class
``train --unknown-data`` (the default ``--unknown-training other-class``) serves (b) trained end to end.
Heads (a) and (b) are refitted on frozen features (the training photos at the evaluation transform), which
is what a head-only training run does; the served model fine-tunes the whole network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from plantml.open_set import (
    PlantProbe,
    auroc,
    expected_calibration_error,
    fit_other_class,
    fit_plant_probe,
    fit_temperature,
    fit_threshold,
    logsumexp,
    out_of_fold_known,
    softmax,
)

HEAD_STEPS = 300
OE_WEIGHT = 0.5


@dataclass
class Sets:
    """Pooled features (and targets) of every photo set the comparison needs."""

    train: np.ndarray
    train_targets: np.ndarray
    val: np.ndarray
    val_targets: np.ndarray
    test: np.ndarray
    test_targets: np.ndarray
    unknown_fit: np.ndarray
    reject_fit: np.ndarray
    measured: dict[str, np.ndarray]  # name -> features of photos the model must not identify


def linear_head(sets: Sets, mode: str = "plain", oe_weight: float = OE_WEIGHT) -> Callable[[np.ndarray], np.ndarray]:
    """Return logits(features) of a linear head fitted on the training features ('plain', 'oe' or 'other')."""
    classes = int(sets.train_targets.max()) + 1
    x = torch.as_tensor(sets.train, dtype=torch.float32)
    y = torch.as_tensor(sets.train_targets, dtype=torch.long)
    u = torch.as_tensor(sets.unknown_fit, dtype=torch.float32)
    if mode == "other":
        x, y = torch.cat([x, u]), torch.cat([y, torch.full((len(u),), classes)])
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], classes + (mode == "other"))
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(HEAD_STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(head(x), y, label_smoothing=0.1)
        if mode == "oe":
            loss = loss - oe_weight * F.log_softmax(head(u), dim=1).mean()  # CE to the uniform distribution
        loss.backward()
        optimizer.step()
    return lambda features: head(torch.as_tensor(features, dtype=torch.float32)).detach().double().numpy()


def plant_probe(sets: Sets) -> PlantProbe:
    """Return the plant probe every approach shares: val and unknown-data photos against non-plant photos."""
    return fit_plant_probe(np.concatenate([sets.val, sets.unknown_fit]), sets.reject_fit)


def out_of_fold_probe(known: np.ndarray, others: np.ndarray, folds: int = 5) -> np.ndarray:
    """Return P(known) per ``known`` row from logistic probes fitted without that row's fold."""
    fold = np.arange(len(known)) % folds
    result = np.zeros(len(known))
    for k in range(folds):
        probe = fit_plant_probe(known[fold != k], others)
        result[fold == k] = probe.plant_probability(torch.as_tensor(known[fold == k])).double().numpy()
    return result


def figures(
    sets: Sets,
    logits: Callable[[np.ndarray], np.ndarray],
    probe: PlantProbe,
    known_by: str = "",
) -> dict[str, float]:
    """Return one approach's open-set figures: shares identified per set, 'not a plant' share, ECE, AUROC.

    ``known_by``: '' (no P(known)), 'probe' (one logistic probe) or 'other' (an "other plant" logit).
    """
    known_classes = int(sets.val_targets.max()) + 1
    temperature = fit_temperature(logits(sets.val), sets.val_targets)
    others = np.concatenate([sets.unknown_fit, sets.reject_fit])
    lse = lambda features: logsumexp(logits(features)[:, :known_classes], temperature)  # noqa: E731
    if known_by == "probe":
        known_probe = fit_plant_probe(sets.val, others)
        known = lambda f: known_probe.plant_probability(torch.as_tensor(f)).double().numpy()  # noqa: E731
        val_known = out_of_fold_probe(sets.val, others)
    elif known_by == "other":
        other = fit_other_class(sets.val, lse(sets.val), others, lse(others))
        known = lambda f: other.known_probability(torch.as_tensor(f), torch.as_tensor(lse(f))).double().numpy()  # noqa: E731
        val_known = out_of_fold_known(sets.val, lse(sets.val), others, lse(others))

    def plant(features: np.ndarray) -> np.ndarray:
        return probe.plant_probability(torch.as_tensor(features)).double().numpy()

    def score(features: np.ndarray, with_known: bool = True) -> np.ndarray:
        top = softmax(logits(features), temperature)[:, :known_classes].max(axis=1)
        result = top * plant(features)
        return result * known(features) if known_by and with_known else result

    val_scores = score(sets.val, with_known=False) * (val_known if known_by else 1.0)
    threshold = fit_threshold(val_scores, 0.95)
    test_probs = softmax(logits(sets.test), temperature)[:, :known_classes]
    test_scores = score(sets.test)
    result = {
        "known": float((test_scores >= threshold).mean()),
        "ece": expected_calibration_error(test_probs / test_probs.sum(1, keepdims=True), sets.test_targets),
    }
    for name, features in sets.measured.items():
        scores = score(features)
        result[name] = float((scores >= threshold).mean())
        result[f"{name} not a plant"] = float(((scores < threshold) & (plant(features) < 0.5)).mean())
        result[f"{name} auroc"] = auroc(test_scores, scores)
    return result


def compare(sets: Sets, served: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Return the figures of each approach on ``sets`` (and the served model's, when given), by approach name."""
    probe = plant_probe(sets)
    plain = linear_head(sets)
    rows = {
        "none: plant probe only (refitted head)": figures(sets, plain, probe),
        "(a) outlier exposure (refitted head)": figures(sets, linear_head(sets, "oe"), probe),
        "(b) 'other plant' class (refitted head)": figures(sets, linear_head(sets, "other"), probe),
        "(c) known-vs-unknown probe (refitted head)": figures(sets, plain, probe, known_by="probe"),
        "(b') other logit beside the head (refitted)": figures(sets, plain, probe, known_by="other"),
    }
    if served is not None:
        rows = {"served model (as trained, see its config)": served, **rows}
    return rows
