"""The feature density: relative Mahalanobis distance on pooled features, its compact store and its cut on val."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from plantml.novelty import TAIL_SHARE, FeatureDensity, fit_density


def _clusters(rng: np.random.Generator, centres: np.ndarray, n: int, spread: float = 0.3):
    """Return (features, labels): ``n`` points around each row of ``centres`` (random directions, D wide)."""
    labels = np.repeat(np.arange(len(centres)), n)
    return centres[labels] + spread * rng.normal(size=(len(labels), centres.shape[1])), labels


def _exact_relative_mahalanobis(train: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return min_k (x - mu_k)' S^-1 (x - mu_k) - (x - mu)' S0^-1 (x - mu) on L2-normalised rows, unshrunk."""
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    train, rows = unit(train), unit(rows)
    means = np.stack([train[labels == k].mean(0) for k in np.unique(labels)])
    within = np.linalg.inv(np.cov(train - means[labels], rowvar=False, bias=True))
    overall = np.linalg.inv(np.cov(train, rowvar=False, bias=True))
    nearest = np.min([np.einsum("nd,de,ne->n", rows - m, within, rows - m) for m in means], axis=0)
    centred = rows - train.mean(0)
    return nearest - np.einsum("nd,de,ne->n", centred, overall, centred)


def test_at_full_rank_and_no_shrinkage_it_is_the_relative_mahalanobis_distance():
    rng = np.random.default_rng(0)
    train, labels = _clusters(rng, rng.normal(size=(3, 12)), 80)
    rows = rng.normal(size=(7, 12))
    density = fit_density(train, labels, shrinkage=0.0, rank=12)
    expected = _exact_relative_mahalanobis(train, labels, rows)
    assert density.distance(torch.as_tensor(rows)).numpy() == pytest.approx(expected, rel=1e-3, abs=1e-3)


def test_a_species_unlike_the_trained_ones_falls_outside_the_cut_and_new_photos_like_them_inside():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(5, 64))
    train, labels = _clusters(rng, centres[:4], 200)
    val, _ = _clusters(rng, centres[:4], 60)
    new, _ = _clusters(rng, centres[:4], 100)
    unseen, _ = _clusters(rng, centres[4:], 200)
    density = fit_density(train, labels, rank=16).with_cut(val)
    assert (density.typicality(torch.as_tensor(new)) > 0.5).float().mean() > 0.95
    assert (density.typicality(torch.as_tensor(unseen)) < 0.5).float().mean() > 0.95


def test_the_cut_leaves_the_tail_share_of_val_beyond_its_midpoint():
    rng = np.random.default_rng(2)
    train, labels = _clusters(rng, rng.normal(size=(3, 32)), 100)
    val, _ = _clusters(rng, rng.normal(size=(3, 32)), 200)
    density = fit_density(train, labels, rank=8).with_cut(val)
    beyond = (density.typicality(torch.as_tensor(val)) < 0.5).float().mean().item()
    assert beyond == pytest.approx(TAIL_SHARE, abs=1 / 600)


def test_a_density_survives_its_json_record():
    rng = np.random.default_rng(3)
    train, labels = _clusters(rng, rng.normal(size=(3, 40)), 50)
    density = fit_density(train, labels, rank=8).with_cut(train[:60])
    again = FeatureDensity.from_dict(json.loads(json.dumps(density.to_dict())))
    rows = torch.as_tensor(rng.normal(size=(9, 40)))
    assert torch.equal(again.typicality(rows), density.typicality(rows))


def test_the_store_grows_with_the_rank_not_with_the_square_of_the_feature_width():
    rng = np.random.default_rng(4)
    train, labels = _clusters(rng, rng.normal(size=(4, 1280)), 60)
    size = len(json.dumps(fit_density(train, labels, rank=64).to_dict()))
    assert size < 4 * (4 + 1 + 2 * 64) * 1280 * 1.4  # float32 in base64; the covariances alone would be 13 MB


def test_fewer_training_photos_than_classes_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="more training photos than classes"):
        fit_density(np.ones((2, 8)), np.array([0, 1]))
