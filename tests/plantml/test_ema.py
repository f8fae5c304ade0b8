"""EMA of the weights (plantml/training/ema.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plantml.training.ema import WeightEma


def test_update_moves_the_average_towards_the_model():
    model = nn.Linear(2, 1)
    ema = WeightEma(model, decay=0.9)
    start = ema.module.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    for _ in range(50):
        ema.update(model)
    moved = ema.module.weight - start
    assert torch.all(moved > 0.5) and torch.all(moved <= 1.0 + 1e-6)
    assert ema.updates == 50


def test_the_average_lags_the_model_with_the_configured_decay():
    model = nn.Linear(1, 1, bias=False)
    ema = WeightEma(model, decay=0.5)
    for _ in range(200):  # past the warm-up, the decay is the configured one
        ema.update(model)
    with torch.no_grad():
        model.weight.fill_(0.0)
        ema.module.weight.fill_(1.0)
    ema.update(model)
    decay = ema.ema.get_decay(ema.updates)
    assert ema.module.weight.item() == pytest.approx(decay)
    assert decay == pytest.approx(0.5)


def test_state_dict_round_trips():
    model = nn.Linear(2, 2)
    ema = WeightEma(model, decay=0.99)
    ema.update(model)
    other = WeightEma(nn.Linear(2, 2), decay=0.99)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and torch.equal(other.module.weight, ema.module.weight)


def test_a_bad_decay_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        WeightEma(nn.Linear(1, 1), decay=1.5)
