"""Calibrated confidence and open-set rejection: temperature, acceptance threshold and a plant / not-a-plant probe.

Calibration and rejection are two jobs with two numbers. The temperature (fitted on val by NLL) makes
the probabilities a user sees honest; a threshold (fitted so that 95% of val photos are accepted) on
the calibrated top probability decides *identified* or *no match*. With photos that show no plant, a
logistic probe on the backbone's pooled features gives P(plant): the threshold then applies to the top
probability times P(plant), and the probe tells "not a plant" apart from "not a species this model
knows". No Django here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

IDENTIFIED, NO_MATCH = "identified", "no_match"
NOT_A_PLANT, UNKNOWN_SPECIES = "not_a_plant", "unknown_species"
DEFAULT_ACCEPT_RATE = 0.95
LEGACY_THRESHOLD = 0.5  # for checkpoints trained before calibration existed
ECE_BINS = 15


@dataclass(frozen=True)
class PlantProbe:
    """Logistic regression on L2-normalised pooled features: P(plant) = sigmoid(w . f + b)."""

    weight: list[float]
    bias: float

    def plant_probability(self, features: torch.Tensor) -> torch.Tensor:
        """Return P(plant) per row of an (N, D) feature tensor."""
        weight = torch.tensor(self.weight, dtype=torch.float32, device=features.device)
        return torch.sigmoid(F.normalize(features.float(), dim=1) @ weight + self.bias)


@dataclass(frozen=True)
class Calibration:
    """What a checkpoint stores about its confidence; the defaults describe an uncalibrated model."""

    temperature: float = 1.0
    threshold: float | None = None  # minimum calibrated top probability (times P(plant)) for "identified"
    plant_probe: PlantProbe | None = None
    report: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, ECE before and after

    @property
    def is_calibrated(self) -> bool:
        return self.threshold is not None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON values (the checkpoint and the ONNX metadata store them)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Calibration:
        """Return the record stored by ``to_dict``; an empty dict is an uncalibrated model."""
        data = dict(data or {})
        probe = data.pop("plant_probe", None)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, plant_probe=PlantProbe(**probe) if probe else None)


@dataclass(frozen=True)
class Decision:
    """The outcome of one plant: ``identified`` or ``no_match`` with its reason ('' when identified)."""

    outcome: str
    reason: str = ""


def open_set_score(top_probability: float, plant_probability: float | None) -> float:
    """Return the score the threshold applies to: the calibrated top probability, times P(plant) with a probe."""
    return top_probability * (1.0 if plant_probability is None else plant_probability)


def decide(top_probability: float, plant_probability: float | None, threshold: float) -> Decision:
    """Return the outcome for a plant's calibrated top probability and, when a probe exists, its P(plant).

    One score decides *identified* (measured on flowers5 it rejects photos of no plant better than two
    separate cuts); the reason for *no match* is the probe's verdict.
    """
    if open_set_score(top_probability, plant_probability) >= threshold:
        return Decision(IDENTIFIED)
    if plant_probability is not None and plant_probability < 0.5:
        return Decision(NO_MATCH, NOT_A_PLANT)
    return Decision(NO_MATCH, UNKNOWN_SPECIES)


# -- fitting ------------------------------------------------------------------------------------
def fit_temperature(logits: np.ndarray | torch.Tensor, targets: np.ndarray | torch.Tensor) -> float:
    """Return the temperature T > 0 minimising the NLL of softmax(logits / T) on (logits, targets)."""
    logits = torch.as_tensor(logits, dtype=torch.float64)
    targets = torch.as_tensor(targets, dtype=torch.long)
    if len(logits) == 0:
        raise ValueError("fitting a temperature needs at least one labelled photo")
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(0.01, 100.0))


def fit_threshold(scores: np.ndarray, accept_rate: float = DEFAULT_ACCEPT_RATE) -> float:
    """Return the score threshold that accepts ``accept_rate`` of ``scores`` (in-distribution photos)."""
    scores = np.asarray(scores, dtype=np.float64)
    if not 0 < accept_rate <= 1:
        raise ValueError(f"accept_rate must lie in (0, 1], got {accept_rate}")
    if scores.size == 0:
        raise ValueError("fitting a threshold needs the scores of at least one in-distribution photo")
    return float(np.quantile(scores, 1.0 - accept_rate, method="lower"))


def fit_plant_probe(plant_features: np.ndarray, other_features: np.ndarray, l2: float = 1e-3) -> PlantProbe:
    """Return a class-balanced logistic probe separating plant photos' features from other photos' features."""
    plants = F.normalize(torch.as_tensor(plant_features, dtype=torch.float64), dim=1)
    others = F.normalize(torch.as_tensor(other_features, dtype=torch.float64), dim=1)
    if len(plants) == 0 or len(others) == 0:
        raise ValueError("the plant probe needs photos of plants and photos that show no plant")
    x = torch.cat([plants, others])
    y = torch.cat([torch.ones(len(plants)), torch.zeros(len(others))]).double()
    # each side weighs half, whatever its count
    w = torch.cat([torch.full((len(plants),), 0.5 / len(plants)), torch.full((len(others),), 0.5 / len(others))])
    weight = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=0.5, max_iter=500, line_search_fn="strong_wolfe")
    scale = 10.0  # normalised features have small dot products: a fixed gain keeps the optimum well inside range

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = scale * (x @ weight) + bias
        loss = (F.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum()
        loss = loss + l2 * (scale * weight).pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return PlantProbe(weight=(scale * weight.detach()).tolist(), bias=float(bias.detach()))


def fit_calibration(
    val_logits: np.ndarray,
    val_targets: np.ndarray,
    val_features: np.ndarray | None = None,
    reject_features: np.ndarray | None = None,
    accept_rate: float = DEFAULT_ACCEPT_RATE,
) -> Calibration:
    """Return the temperature, threshold and (with photos that show no plant) the plant probe, fitted on val."""
    temperature = fit_temperature(val_logits, val_targets)
    probs = softmax(val_logits, temperature)
    probe = None
    top = probs.max(axis=1)
    if reject_features is not None and len(reject_features):
        if val_features is None:
            raise ValueError("the plant probe needs the val photos' features")
        probe = fit_plant_probe(val_features, reject_features)
        top = top * probe.plant_probability(torch.as_tensor(val_features)).numpy()
    threshold = fit_threshold(top, accept_rate)
    before = expected_calibration_error(softmax(val_logits), val_targets)
    after = expected_calibration_error(probs, val_targets)
    report = {
        "val_photos": int(len(val_targets)),
        "reject_photos": int(len(reject_features)) if reject_features is not None else 0,
        "accept_rate": accept_rate,
        "val_ece_before": before,
        "val_ece_after": after,
    }
    logger.info("temperature %.3f (val ECE %.3f -> %.3f), threshold %.3f", temperature, before, after, threshold)
    return Calibration(temperature=temperature, threshold=threshold, plant_probe=probe, report=report)


# -- measuring ----------------------------------------------------------------------------------
def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return softmax(logits / temperature) row-wise as float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def reliability_bins(probs: np.ndarray, targets: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Return per confidence bin: its range, photo count, mean confidence and accuracy (empty bins included)."""
    probs, targets = np.asarray(probs), np.asarray(targets)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high) if low > 0 else confidence <= high
        count = int(inside.sum())
        rows.append(
            {
                "low": float(low),
                "high": float(high),
                "count": count,
                "confidence": float(confidence[inside].mean()) if count else math.nan,
                "accuracy": float(correct[inside].mean()) if count else math.nan,
            }
        )
    return rows


def expected_calibration_error(probs: np.ndarray, targets: np.ndarray, bins: int = ECE_BINS) -> float:
    """Return the ECE: the photo-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    rows = reliability_bins(probs, targets, bins)
    total = sum(row["count"] for row in rows)
    if total == 0:
        raise ValueError("ECE needs at least one photo")
    return float(sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in rows if row["count"]) / total)


def auroc(in_scores: np.ndarray, out_scores: np.ndarray) -> float:
    """Return the probability that an in-distribution photo scores above an out-of-distribution one (ties: half)."""
    in_scores, out_scores = np.asarray(in_scores, np.float64), np.asarray(out_scores, np.float64)
    if in_scores.size == 0 or out_scores.size == 0:
        raise ValueError("AUROC needs in-distribution and out-of-distribution scores")
    ranks = _average_ranks(np.concatenate([in_scores, out_scores]))
    rank_sum = ranks[: in_scores.size].sum()
    return float((rank_sum - in_scores.size * (in_scores.size + 1) / 2) / (in_scores.size * out_scores.size))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Return 1-based ranks of ``values``, ties sharing their mean rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # the highest rank of each distinct value
    return (upper - (counts - 1) / 2.0)[inverse]


def fpr_at_tpr(in_scores: np.ndarray, out_scores: np.ndarray, tpr: float = 0.95) -> float:
    """Return the share of out-of-distribution photos accepted at the threshold accepting ``tpr`` of in-distribution."""
    threshold = fit_threshold(in_scores, tpr)
    return float((np.asarray(out_scores) >= threshold).mean())


def open_set_report(in_scores: np.ndarray, out_scores: np.ndarray, out_accepted: np.ndarray) -> dict[str, float]:
    """Return AUROC, FPR at 95% TPR and the share accepted at the stored threshold for one out-of-distribution set."""
    return {
        "photos": int(len(out_scores)),
        "auroc": auroc(in_scores, out_scores),
        "fpr_at_95_tpr": fpr_at_tpr(in_scores, out_scores),
        "accepted": float(np.asarray(out_accepted, dtype=bool).mean()),
    }
