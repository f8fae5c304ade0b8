"""Calibration and open-set rejection: temperature, threshold, plant probe, ECE and AUROC on known data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plantml.open_set import (
    Calibration,
    PlantProbe,
    auroc,
    decide,
    expected_calibration_error,
    fit_calibration,
    fit_plant_probe,
    fit_temperature,
    fit_threshold,
    fpr_at_tpr,
    logsumexp,
    softmax,
)


def _calibrated_sample(n: int = 4000, classes: int = 5, seed: int = 0):
    """Logits whose softmax is the true label distribution (labels drawn from it)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes)) * 2
    probs = softmax(logits)
    targets = np.array([rng.choice(classes, p=row) for row in probs])
    return logits, targets


def test_the_fitted_temperature_undoes_a_known_scaling():
    logits, targets = _calibrated_sample()
    assert fit_temperature(logits * 3, targets) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(logits / 2, targets) == pytest.approx(0.5, rel=0.1)


def test_temperature_scaling_brings_the_ece_down():
    logits, targets = _calibrated_sample()
    overconfident = logits * 3
    before = expected_calibration_error(softmax(overconfident), targets)
    after = expected_calibration_error(softmax(overconfident, fit_temperature(overconfident, targets)), targets)
    assert before > 0.1 and after < 0.03


def test_ece_is_zero_when_confidence_equals_accuracy():
    probs = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probs, np.array([0, 0, 0, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 1, 1, 1])) == pytest.approx(0.75)


def test_the_threshold_accepts_the_asked_share_of_scores():
    scores = np.linspace(0.01, 1.0, 100)
    threshold = fit_threshold(scores, 0.95)
    assert 0.95 <= (scores >= threshold).mean() <= 0.97


def test_auroc_and_fpr_on_separated_and_identical_scores():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.5, 0.5], [0.5, 0.5]) == 0.5
    assert fpr_at_tpr(np.linspace(0.5, 1.0, 100), np.linspace(0.0, 0.4, 50)) == 0.0


def test_decide_tells_not_a_plant_from_unknown_species_from_identified():
    assert (decide(0.9, 0.1, 0.5).outcome, decide(0.9, 0.1, 0.5).reason) == ("no_match", "not_a_plant")
    assert (decide(0.3, 0.9, 0.5).outcome, decide(0.3, 0.9, 0.5).reason) == ("no_match", "unknown_species")
    assert (decide(0.6, None, 0.5).outcome, decide(0.6, None, 0.5).reason) == ("identified", "")


def test_the_threshold_applies_to_the_top_probability_times_p_plant():
    assert decide(0.9, 0.6, 0.5).outcome == "identified"  # 0.54
    assert decide(0.7, 0.6, 0.5).reason == "unknown_species"  # 0.42: a plant, but no species clears it


def test_the_plant_probe_separates_two_feature_clusters():
    rng = np.random.default_rng(1)
    plants = rng.normal(loc=1.0, size=(60, 16))
    others = rng.normal(loc=-1.0, size=(20, 16))
    probe = fit_plant_probe(plants, others)
    assert (probe.plant_probability(torch.as_tensor(plants)) > 0.5).float().mean() > 0.95
    assert (probe.plant_probability(torch.as_tensor(others)) < 0.5).float().mean() > 0.95


def test_with_a_probe_the_threshold_accepts_the_asked_share_of_new_photos_like_val():
    logits, targets = _calibrated_sample(n=1060)
    rng = np.random.default_rng(0)
    shift = np.eye(128)[0]
    features = rng.normal(size=(1060, 128)) + shift  # 60 val photos in many dimensions: the probe fits them closely
    calibration = fit_calibration(logits[:60], targets[:60], features[:60], rng.normal(size=(60, 128)) - shift)
    # val P(plant) for the threshold comes out of fold; in sample, 78% of these new photos were accepted
    assert 0.92 <= (calibration.score(logits[60:], features[60:]) >= calibration.threshold).mean() <= 0.99


def test_a_calibration_survives_its_plain_dict():
    calibration = Calibration(1.7, 0.42, PlantProbe([0.5, -0.5], 0.1), {"val_photos": 30})
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    assert not Calibration.from_dict({}).is_calibrated


def _three_clusters(seed: int = 3, dims: int = 16):
    """Features of val photos (known species), of plants the model must not claim, and of photos of no plant."""
    rng = np.random.default_rng(seed)
    centre = lambda k: np.eye(dims)[k] * 4  # noqa: E731
    known = rng.normal(size=(300, dims)) + centre(0)
    unknown = rng.normal(size=(120, dims)) + centre(1)
    nonplant = rng.normal(size=(80, dims)) + centre(2)
    return known, unknown, nonplant


def test_photos_of_unknown_plants_count_as_plants_for_the_plant_probe():
    logits, targets = _calibrated_sample(n=300)
    known, unknown, nonplant = _three_clusters()
    calibration = fit_calibration(
        logits, targets, known, nonplant, unknown_features=unknown, unknown_logits=logits[:120]
    )
    plant = calibration.plant_probe.plant_probability(torch.as_tensor(unknown))
    assert (plant > 0.5).float().mean() > 0.95, "unknown plants were told 'not a plant'"
    assert decide(0.9, float(plant.mean()), 0.5, 0.01).reason == "unknown_species"


def test_the_fitted_other_plant_class_tells_known_species_from_unknown_plants():
    logits, targets = _calibrated_sample(n=300)
    known, unknown, nonplant = _three_clusters()
    calibration = fit_calibration(
        logits, targets, known, nonplant, unknown_features=unknown, unknown_logits=logits[:120]
    )
    other, t = calibration.other_class, calibration.temperature
    assert calibration.report["unknown_photos"] == len(unknown) and calibration.report["other_class"] == "fitted"
    p_known = other.known_probability(torch.as_tensor(known), torch.as_tensor(logsumexp(logits, t)))
    p_unknown = other.known_probability(torch.as_tensor(unknown), torch.as_tensor(logsumexp(logits[:120], t)))
    assert (p_known > 0.5).float().mean() > 0.95
    assert (p_unknown < 0.5).float().mean() > 0.95


def test_with_the_other_plant_class_the_threshold_accepts_the_asked_share_of_new_known_photos():
    logits, targets = _calibrated_sample(n=600, seed=4)
    known, unknown, nonplant = _three_clusters(seed=5)
    known = np.concatenate([known, known + np.random.default_rng(6).normal(size=known.shape) * 0.1])
    calibration = fit_calibration(
        logits[:300], targets[:300], known[:300], nonplant, unknown_features=unknown, unknown_logits=logits[:120]
    )
    fresh = calibration.score(logits[300:], known[300:])
    # the other class's val scores are taken out of fold, so photos it never saw are accepted as often
    assert 0.92 <= (fresh >= calibration.threshold).mean() <= 0.98


def test_a_trained_other_plant_row_is_the_softmax_share_of_one_more_class():
    rng = np.random.default_rng(8)
    features = rng.normal(size=(5, 4))
    head, row = rng.normal(size=(3, 4)), rng.normal(size=4)
    logits = features @ head.T
    calibration = fit_calibration(
        logits, np.array([0, 1, 2, 0, 1]), features, other_row={"weight": row.tolist(), "bias": 0.3}
    )
    t = calibration.temperature
    full = softmax(np.concatenate([logits, (features @ row + 0.3)[:, None]], axis=1), t)
    lse = torch.as_tensor(logsumexp(logits, t))
    known = calibration.other_class.known_probability(torch.as_tensor(features), lse).numpy()
    assert known == pytest.approx(full[:, :3].sum(axis=1), abs=1e-5)
    assert calibration.score(logits, features) == pytest.approx(full[:, :3].max(axis=1), abs=1e-5)


def test_a_calibration_stored_before_the_other_plant_class_scores_as_it_did():
    stored = {"temperature": 1.5, "threshold": 0.4, "plant_probe": {"weight": [0.5, -0.5], "bias": 0.1}, "report": {}}
    calibration = Calibration.from_dict(stored)
    assert calibration.other_class is None and calibration.density is None
    features = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.3]])
    logits = np.array([[3.0, 0.0, 1.0], [0.5, 0.4, 0.1], [0.0, 0.0, 0.1]])
    top = softmax(logits, 1.5).max(axis=1)
    plant = calibration.plant_probe.plant_probability(torch.as_tensor(features)).numpy()
    assert calibration.score(logits, features) == pytest.approx(top * plant)
    for t, p in zip(top, plant):
        assert decide(t, float(p), 0.4, None) == decide(t, float(p), 0.4)


def _species_features(seed: int, per_class: int, centres: np.ndarray, spread: float = 0.5):
    """Return (features, labels) of ``per_class`` photos around each of ``centres``' rows."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(centres)), per_class)
    return centres[labels] + spread * rng.normal(size=(len(labels), centres.shape[1])), labels


def test_with_training_photos_the_density_rejects_a_species_the_logits_cannot_tell_apart():
    centres = np.random.default_rng(10).normal(size=(4, 48))
    # a trained model holds its training photos' features tighter than new photos': the cut must come from val
    train, train_labels = _species_features(11, 150, centres[:3], spread=0.35)
    val, val_labels = _species_features(12, 100, centres[:3])
    new, _ = _species_features(13, 100, centres[:3])
    unseen, _ = _species_features(14, 300, centres[3:])
    confident = lambda labels: np.eye(3)[labels] * 6  # noqa: E731  # every photo a sure answer, the unseen ones too
    calibration = fit_calibration(
        confident(val_labels), val_labels, val, train_features=train, train_targets=train_labels
    )
    assert calibration.report["density_photos"] == len(train)
    assert 0.92 <= (calibration.score(confident(val_labels), new) >= calibration.threshold).mean() <= 0.98
    unseen_scores = calibration.score(confident(np.zeros(300, dtype=int)), unseen)
    assert (unseen_scores >= calibration.threshold).mean() < 0.05


def test_recalibrating_without_training_photos_keeps_the_density_and_places_its_cut_again():
    centres = np.random.default_rng(15).normal(size=(3, 24))
    train, train_labels = _species_features(16, 100, centres)
    val, val_labels = _species_features(17, 80, centres)
    logits = np.eye(3)[val_labels] * 3
    first = fit_calibration(logits, val_labels, val, train_features=train, train_targets=train_labels)
    again = fit_calibration(logits, val_labels, val * 1.5, kept=first)
    assert again.report["kept"] == ["density"] and again.report["density_photos"] == len(train)
    assert again.density.class_means == first.density.class_means
    assert again.density.limit == pytest.approx(first.density.limit)  # L2-normalised: the scale of val is moot


def test_one_training_photo_a_class_calibrates_without_a_density():
    logits, targets = _calibrated_sample(n=60)
    features = np.random.default_rng(18).normal(size=(60, 8))
    calibration = fit_calibration(logits, targets, features, train_features=features[:5], train_targets=np.arange(5))
    assert calibration.is_calibrated and calibration.density is None
