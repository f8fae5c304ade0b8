"""Calibrated confidence and open-set rejection: temperature, acceptance threshold and a plant / not-a-plant probe.

Calibration and rejection are two jobs with two numbers. The temperature (fitted on val by NLL) makes
the probabilities a user sees honest; a threshold (fitted so that 95% of val photos are accepted) on
the calibrated top probability decides *identified* or *no match*. With photos that show no plant, a
logistic probe on the backbone's pooled features gives P(plant): the threshold then applies to the top
probability times P(plant), and the probe tells "not a plant" apart from "not a species this model
knows". With photos of plants the model must not claim (``--unknown-data``), those photos join the
plant side of that probe, and an "other plant" class is added beside the model's own: one more logit, a
linear function of the same features, fitted against the model's fixed class logits so that its softmax
share is large on those photos and small on val photos. P(one of the model's species) is one minus that
share, and the score is the product of the three. The extra class is never a candidate. With the training
photos' features, a fourth factor says how far inside the known species' spread a photo's features sit
(``plantml.novelty``): the logits cannot see a species that looks like none of the others in the directions that
tell those apart. A checkpoint stored before a part existed has none, and its score is what it was. No Django here.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .novelty import FeatureDensity, fit_density

logger = logging.getLogger(__name__)

IDENTIFIED, NO_MATCH = "identified", "no_match"
NOT_A_PLANT, UNKNOWN_SPECIES = "not_a_plant", "unknown_species"
DEFAULT_ACCEPT_RATE = 0.95
LEGACY_THRESHOLD = 0.5  # for checkpoints trained before calibration existed
ECE_BINS = 15
OTHER_ROW = "other_class_row"  # checkpoint key of a trained "other plant" class: {"weight": [...], "bias": float}
CROSS_FIT_FOLDS = 5  # the probes' val scores for the threshold come from probes fitted on the other folds


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
class OtherPlantClass:
    """An "other plant" logit o = w . f + b on L2-normalised pooled features, beside the model's class logits.

    P(one of the model's species) = sum_k exp(z_k / T) / (sum_k exp(z_k / T) + exp(o)) = sigmoid(lse - o),
    with lse the logsumexp of the model's calibrated logits z / T.
    """

    weight: list[float]
    bias: float
    raw_features: bool = False  # True: the trained extra row of the final layer (over T), on the raw features

    def known_probability(self, features: torch.Tensor, logsumexp: torch.Tensor) -> torch.Tensor:
        """Return P(one of the model's species) per row of (N, D) features and their (N,) calibrated logsumexp."""
        weight = torch.tensor(self.weight, dtype=torch.float32, device=features.device)
        features = features.float() if self.raw_features else F.normalize(features.float(), dim=1)
        other = features @ weight + self.bias
        return torch.sigmoid(logsumexp.float().to(features.device) - other)


@dataclass(frozen=True)
class Calibration:
    """What a checkpoint stores about its confidence; the defaults describe an uncalibrated model."""

    temperature: float = 1.0
    threshold: float | None = None  # minimum calibrated top probability (times P(plant)) for "identified"
    plant_probe: PlantProbe | None = None
    report: dict[str, Any] = field(default_factory=dict)  # what it was fitted on, ECE before and after
    other_class: OtherPlantClass | None = None  # fitted on plants the model must not claim (--unknown-data)
    density: FeatureDensity | None = None  # the training photos' features, and a cut on val

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
        probe, other = data.pop("plant_probe", None), data.pop("other_class", None)
        density = data.pop("density", None)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(
            **known,
            plant_probe=PlantProbe(**probe) if probe else None,
            other_class=OtherPlantClass(**other) if other else None,
            density=FeatureDensity.from_dict(density) if density else None,
        )

    def score(self, logits: np.ndarray, features: np.ndarray | None) -> np.ndarray:
        """Return the open-set score per photo from raw logits: calibrated top probability x P(plant) x P(known)
        x typicality."""
        scaled = torch.as_tensor(np.asarray(logits, dtype=np.float64) / self.temperature)
        score = torch.softmax(scaled, dim=1).max(dim=1).values.numpy()
        if features is None:
            return score
        pooled = torch.as_tensor(features)
        if self.plant_probe is not None:
            score = score * self.plant_probe.plant_probability(pooled).double().numpy()
        if self.other_class is not None:
            known = self.other_class.known_probability(pooled, torch.logsumexp(scaled, dim=1))
            score = score * known.double().numpy()
        if self.density is not None:
            score = score * self.density.typicality(pooled).double().numpy()
        return score


@dataclass(frozen=True)
class Decision:
    """The outcome of one plant: ``identified`` or ``no_match`` with its reason ('' when identified)."""

    outcome: str
    reason: str = ""


def open_set_score(
    top_probability: float,
    plant_probability: float | None,
    known_probability: float | None = None,
    typicality: float | None = None,
) -> float:
    """Return the score the threshold applies to: the calibrated top probability, times each probe's factor."""
    score = top_probability
    for probability in (plant_probability, known_probability, typicality):
        score *= 1.0 if probability is None else probability
    return score


def decide(
    top_probability: float,
    plant_probability: float | None,
    threshold: float,
    known_probability: float | None = None,
    typicality: float | None = None,
) -> Decision:
    """Return the outcome for a plant's calibrated top probability and, when they exist, P(plant), P(known) and
    its typicality.

    One score decides *identified* (measured on flowers5 it rejects photos of no plant better than two
    separate cuts); the reason for *no match* is the plant probe's verdict.
    """
    if open_set_score(top_probability, plant_probability, known_probability, typicality) >= threshold:
        return Decision(IDENTIFIED)
    if plant_probability is not None and plant_probability < 0.5:
        return Decision(NO_MATCH, NOT_A_PLANT)
    return Decision(NO_MATCH, UNKNOWN_SPECIES)


def _minimise(optimizer: torch.optim.LBFGS, loss_of: Callable[[], torch.Tensor]) -> None:
    """Run the L-BFGS ``optimizer`` on the loss ``loss_of`` computes from its parameters."""

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_of()
        torch.autograd.backward(loss)
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]  # torch leaves LBFGS.step unannotated


def _balanced_logistic(
    x: torch.Tensor, positives: int, l2: float, logit_of: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[list[float], float]:
    """Return (weight, bias) of an L2 logistic regression on ``x`` whose first ``positives`` rows are 1, the rest 0,
    each side weighing half whatever its count; ``logit_of`` turns ``scale * (x @ w) + b`` into the logit."""
    negatives = len(x) - positives
    y = torch.cat([torch.ones(positives), torch.zeros(negatives)]).double()
    w = torch.cat([torch.full((positives,), 0.5 / positives), torch.full((negatives,), 0.5 / negatives)])
    weight = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=0.5, max_iter=500, line_search_fn="strong_wolfe")
    scale = 10.0  # normalised features have small dot products: a fixed gain keeps the optimum well inside range

    def loss_of() -> torch.Tensor:
        logits = logit_of(scale * (x @ weight) + bias)
        loss = (F.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum()
        return loss + l2 * (scale * weight).pow(2).sum()

    _minimise(optimizer, loss_of)
    return (scale * weight.detach()).tolist(), float(bias.detach())


# -- fitting ------------------------------------------------------------------------------------
def fit_temperature(logits: np.ndarray | torch.Tensor, targets: np.ndarray | torch.Tensor) -> float:
    """Return the temperature T > 0 minimising the NLL of softmax(logits / T) on (logits, targets)."""
    logits = torch.as_tensor(logits, dtype=torch.float64)
    targets = torch.as_tensor(targets, dtype=torch.long)
    if len(logits) == 0:
        raise ValueError("fitting a temperature needs at least one labelled photo")
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def loss_of() -> torch.Tensor:
        loss = F.cross_entropy(logits / log_t.exp(), targets)
        return loss

    _minimise(optimizer, loss_of)
    return float(log_t.detach().exp().clamp(0.01, 100.0))


def threshold_rank(photos: int, accept_rate: float = DEFAULT_ACCEPT_RATE) -> int:
    """Return which of ``photos`` in-distribution scores, counted from the lowest (1), ``fit_threshold`` takes."""
    if not 0 < accept_rate <= 1:
        raise ValueError(f"accept_rate must lie in (0, 1], got {accept_rate}")
    if photos < 1:
        raise ValueError("fitting a threshold needs the scores of at least one in-distribution photo")
    return int((1.0 - accept_rate) * (photos - 1)) + 1  # the lower (1 - accept_rate) quantile


def fit_threshold(scores: np.ndarray, accept_rate: float = DEFAULT_ACCEPT_RATE) -> float:
    """Return the score threshold that accepts ``accept_rate`` of ``scores`` (in-distribution photos)."""
    scores = np.asarray(scores, dtype=np.float64)
    return float(np.sort(scores)[threshold_rank(scores.size, accept_rate) - 1])


def fit_plant_probe(plant_features: np.ndarray, other_features: np.ndarray, l2: float = 1e-3) -> PlantProbe:
    """Return a class-balanced logistic probe separating plant photos' features from other photos' features."""
    plants = F.normalize(torch.as_tensor(plant_features, dtype=torch.float64), dim=1)
    others = F.normalize(torch.as_tensor(other_features, dtype=torch.float64), dim=1)
    if len(plants) == 0 or len(others) == 0:
        raise ValueError("the plant probe needs photos of plants and photos that show no plant")
    weight, bias = _balanced_logistic(torch.cat([plants, others]), len(plants), l2, lambda z: z)
    return PlantProbe(weight=weight, bias=bias)


def fit_calibration(
    val_logits: np.ndarray,
    val_targets: np.ndarray,
    val_features: np.ndarray | None = None,
    reject_features: np.ndarray | None = None,
    accept_rate: float = DEFAULT_ACCEPT_RATE,
    unknown_features: np.ndarray | None = None,
    unknown_logits: np.ndarray | None = None,
    reject_logits: np.ndarray | None = None,
    other_row: dict[str, Any] | None = None,
    kept: Calibration | None = None,
    train_features: np.ndarray | None = None,
    train_targets: np.ndarray | None = None,
) -> Calibration:
    """Return the temperature, threshold and probes fitted on val, photos of no plant and photos of unknown plants.

    With photos of no plant, the plant probe separates them from val (and unknown-plant) photos; with photos of
    plants the model must not claim (their logits too), an "other plant" class separates val photos from those
    (and the photos of no plant). The threshold then accepts ``accept_rate`` of val on the product score, the
    probes' val scores taken out of fold so that the threshold is not fitted on photos they trained on.
    ``other_row`` (weight, bias of a trained "other plant" class, on the raw features) takes the place of the
    fitted one: it trained on other photos than val, so the val scores need no folds. ``kept`` (the checkpoint's
    calibration so far) lends its plant probe, and its fitted "other plant" class, when no photos refit them.
    With training photos' features and labels, the feature density is fitted on them (else ``kept``'s stays) and
    its cut placed on val.
    """
    temperature = fit_temperature(val_logits, val_targets)
    probs = softmax(val_logits, temperature)
    reject_features = reject_features if reject_features is not None else np.empty((0, 0))
    unknown_features = unknown_features if unknown_features is not None else np.empty((0, 0))
    has_reject, has_unknown = len(reject_features) > 0, len(unknown_features) > 0
    if (has_reject or has_unknown or other_row is not None) and val_features is None:
        raise ValueError("the probes and the 'other plant' class need the val photos' features")
    # a probe is a function of the features, which recalibrating does not change; without features a kept
    # probe could not weigh the val photos, and the threshold would not be its own
    kept = kept if val_features is not None else None
    kept_probe = kept.plant_probe if kept is not None and not has_reject else None
    kept_other = kept.other_class if kept is not None and other_row is None and not has_unknown else None
    train_photos = len(train_features) if train_features is not None and train_targets is not None else 0
    has_train = train_photos > 0
    if has_train and train_photos <= len(np.unique(np.asarray(train_targets))):
        logger.warning(
            "%d training photos: too few for a feature density (it needs more than one a class)", train_photos
        )
        has_train = False
    kept_density = kept.density if kept is not None and not has_train else None
    plant_probe, other_class, density = kept_probe, kept_other, kept_density
    if has_train and val_features is not None:
        assert train_features is not None and train_targets is not None  # has_train
        density = fit_density(train_features, train_targets)
    if density is not None and val_features is not None:
        density = density.with_cut(val_features)
    out_of_fold = np.ones(len(val_targets))  # the fitted parts' val scores, from fits that did not see the photo
    if has_reject:
        assert val_features is not None  # checked above
        plants = np.concatenate([val_features, unknown_features]) if has_unknown else val_features
        plant_probe = fit_plant_probe(plants, reject_features)
        # val photos are on the probe's plant side: in sample their P(plant) runs high and so would the threshold
        # (on the small model of tests/recognition/test_unknown_species.py it identified 78% of new known photos)
        other_plants = unknown_features if has_unknown else np.empty((0, val_features.shape[1]))
        out_of_fold *= out_of_fold_plant(val_features, other_plants, reject_features)
    if other_row is not None:
        other_class = OtherPlantClass(
            weight=[w / temperature for w in other_row["weight"]],
            bias=other_row["bias"] / temperature,
            raw_features=True,
        )
    elif has_unknown:
        assert val_features is not None  # checked above
        if unknown_logits is None:
            raise ValueError("the 'other plant' class needs the model's logits on the unknown-data photos")
        with_reject = has_reject and reject_logits is not None
        others = np.concatenate([unknown_features, reject_features]) if with_reject else unknown_features
        other_logits = np.concatenate([unknown_logits, reject_logits]) if with_reject else unknown_logits
        val_lse = logsumexp(val_logits, temperature)
        other_class = fit_other_class(val_features, val_lse, others, logsumexp(other_logits, temperature))
        out_of_fold *= out_of_fold_known(val_features, val_lse, others, logsumexp(other_logits, temperature))
    # the parts that did not fit on val (kept, or the trained row) score it as they will be served
    in_sample = Calibration(
        temperature,
        plant_probe=None if has_reject else plant_probe,
        other_class=other_class if other_row is not None or not has_unknown else None,
        density=density,
    )
    top = in_sample.score(val_logits, val_features) * out_of_fold
    threshold = fit_threshold(top, accept_rate)
    before = expected_calibration_error(softmax(val_logits), val_targets)
    after = expected_calibration_error(probs, val_targets)
    report = {
        "val_photos": int(len(val_targets)),
        "reject_photos": int(len(reject_features)) if has_reject else _kept(kept, "reject_photos", kept_probe),
        "unknown_photos": int(len(unknown_features)) if has_unknown else _kept(kept, "unknown_photos", kept_other),
        "other_class": "trained" if other_row is not None else "fitted" if other_class is not None else "",
        "density_photos": train_photos if has_train else _kept(kept, "density_photos", kept_density),
        "kept": [
            name
            for name, part in (("plant_probe", kept_probe), ("other_class", kept_other), ("density", kept_density))
            if part is not None
        ],
        "accept_rate": accept_rate,
        "val_ece_before": before,
        "val_ece_after": after,
    }
    logger.info("temperature %.3f (val ECE %.3f -> %.3f), threshold %.3f", temperature, before, after, threshold)
    return Calibration(
        temperature=temperature,
        threshold=threshold,
        plant_probe=plant_probe,
        other_class=other_class,
        density=density,
        report=report,
    )


def _kept(kept: Calibration | None, key: str, part: object | None) -> int:
    """Return the photo count ``key`` of the kept calibration's report when ``part`` of it was kept, else 0."""
    return int(kept.report.get(key, 0)) if kept is not None and part is not None else 0


def logsumexp(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return logsumexp(logits / temperature) per row, as float64."""
    return torch.logsumexp(torch.as_tensor(np.asarray(logits, dtype=np.float64) / temperature), dim=1).numpy()


def fit_other_class(
    known_features: np.ndarray,
    known_logsumexp: np.ndarray,
    other_features: np.ndarray,
    other_logsumexp: np.ndarray,
    l2: float = 1e-3,
) -> OtherPlantClass:
    """Return the "other plant" logit fitted, class-balanced, to be small on known photos and large on the others.

    The model's own class logits stay fixed: only the extra class's weight and bias are fitted, so the known
    region is the union of the model's class regions, not one half-space.
    """
    features = F.normalize(
        torch.as_tensor(np.concatenate([known_features, other_features]), dtype=torch.float64), dim=1
    )
    offset = torch.as_tensor(np.concatenate([known_logsumexp, other_logsumexp]), dtype=torch.float64)
    if len(known_features) == 0 or len(other_features) == 0:
        raise ValueError("the 'other plant' class needs val photos and photos of plants the model must not claim")
    # 1: known; the fitted z = scale * (f @ w) + b is the extra logit, so P(known) = sigmoid(offset - z)
    weight, bias = _balanced_logistic(features, len(known_features), l2, lambda z: offset - z)
    return OtherPlantClass(weight=weight, bias=bias)


def out_of_fold_known(
    known: np.ndarray,
    known_logsumexp: np.ndarray,
    others: np.ndarray,
    others_logsumexp: np.ndarray,
    folds: int = CROSS_FIT_FOLDS,
) -> np.ndarray:
    """Return P(known) per ``known`` row from "other plant" classes fitted without that row's fold."""

    def score(keep: np.ndarray, held: np.ndarray) -> np.ndarray:
        other = fit_other_class(known[keep], known_logsumexp[keep], others, others_logsumexp)
        probability = other.known_probability(torch.as_tensor(known[held]), torch.as_tensor(known_logsumexp[held]))
        return probability.double().numpy()

    return _out_of_fold(len(known), score, folds)


def out_of_fold_plant(
    val: np.ndarray, other_plants: np.ndarray, nonplants: np.ndarray, folds: int = CROSS_FIT_FOLDS
) -> np.ndarray:
    """Return P(plant) per ``val`` row from plant probes fitted without that row's fold (the other photos always in)."""

    def score(keep: np.ndarray, held: np.ndarray) -> np.ndarray:
        plants = np.concatenate([val[keep], other_plants]) if len(other_plants) else val[keep]
        return fit_plant_probe(plants, nonplants).plant_probability(torch.as_tensor(val[held])).double().numpy()

    return _out_of_fold(len(val), score, folds)


def _out_of_fold(count: int, score: Callable[[np.ndarray, np.ndarray], np.ndarray], folds: int) -> np.ndarray:
    """Return per row of ``count`` what ``score(keep, held)`` gives the held-out fold's rows after fitting on ``keep``."""
    fold = np.arange(count) % min(folds, count)
    result = np.zeros(count)
    for k in np.unique(fold):
        keep = fold != k if (fold != k).any() else np.ones(count, dtype=bool)
        result[fold == k] = score(keep, fold == k)
    return result


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
