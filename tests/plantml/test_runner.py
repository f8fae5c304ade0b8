"""predict_loader: targets and softmax probabilities of a real model over a DataLoader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from plantml.evaluation.runner import predict_loader


def _loader(n: int = 5, batch_size: int = 2) -> DataLoader:
    images = torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    return DataLoader(TensorDataset(images, torch.arange(n) % 3), batch_size=batch_size)


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(3 * 8 * 8, 3))


def test_returns_targets_in_order_and_probabilities_that_sum_to_one():
    targets, probs = predict_loader(_model(), _loader(), "cpu")
    assert targets.tolist() == [0, 1, 2, 0, 1]
    assert probs.shape == (5, 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_runs_in_eval_mode_and_restores_training_mode():
    model = _model().train()
    first = predict_loader(model, _loader(), "cpu")[1]
    second = predict_loader(model, _loader(), "cpu")[1]
    assert np.array_equal(first, second)  # dropout off: deterministic
    assert model.training


def test_tta_changes_the_probabilities_of_a_flip_sensitive_model():
    plain = predict_loader(_model(), _loader(), "cpu")[1]
    with_tta = predict_loader(_model(), _loader(), "cpu", tta=True, tta_scales=(1.0, 1.25))[1]
    assert with_tta.shape == plain.shape and not np.allclose(plain, with_tta)
    assert np.allclose(with_tta.sum(axis=1), 1.0, atol=1e-6)


def test_an_empty_loader_is_refused_with_the_fix():
    empty = DataLoader(TensorDataset(torch.empty(0, 3, 8, 8), torch.empty(0, dtype=torch.long)), batch_size=2)
    with pytest.raises(ValueError, match="no images"):
        predict_loader(_model(), empty, "cpu")
