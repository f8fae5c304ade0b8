"""Logit-adjusted cross-entropy (plantml/training/losses.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from plantml.training.losses import LogitAdjustedLoss, effective_number_weights

PRIOR = [0.7, 0.2, 0.1]


def test_the_adjustment_shifts_logits_by_tau_times_log_prior():
    logits, target = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    tau = 1.5
    loss = LogitAdjustedLoss(PRIOR, tau=tau)(logits, target)
    shifted = logits + tau * torch.log(torch.tensor(PRIOR))
    assert loss.item() == pytest.approx(F.cross_entropy(shifted, target).item(), rel=1e-6)
    assert loss.item() != pytest.approx(F.cross_entropy(logits, target).item(), rel=1e-3)


def test_tau_zero_is_plain_cross_entropy():
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 2])
    assert LogitAdjustedLoss(PRIOR, tau=0.0)(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target).item()
    )


def test_soft_targets_match_hard_targets_when_one_hot():
    logits, target = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    criterion = LogitAdjustedLoss(PRIOR)
    soft = F.one_hot(target, 3).float()
    assert criterion(logits, soft).item() == pytest.approx(criterion(logits, target).item(), rel=1e-6)


def test_label_smoothing_is_applied():
    logits, target = torch.randn(4, 3) * 5, torch.tensor([0, 1, 2, 0])
    plain = LogitAdjustedLoss(PRIOR, tau=0.0)(logits, target)
    smoothed = LogitAdjustedLoss(PRIOR, tau=0.0, label_smoothing=0.2)(logits, target)
    assert smoothed.item() == pytest.approx(F.cross_entropy(logits, target, label_smoothing=0.2).item())
    assert smoothed.item() != pytest.approx(plain.item())


def test_effective_number_weights_favour_rare_classes_and_average_one():
    weights = effective_number_weights([1000, 100, 10], beta=0.99)
    assert weights[0] < weights[1] < weights[2]
    assert weights.mean().item() == pytest.approx(1.0)
    expected = [(1 - 0.99) / (1 - 0.99**n) for n in (1000, 100, 10)]
    assert (weights[2] / weights[0]).item() == pytest.approx(expected[2] / expected[0], rel=1e-5)


def test_class_weights_make_a_rare_class_mistake_cost_more():
    # different logits per sample: the weighted mean differs from the plain mean
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 2.0], [2.0, 0.0, 0.0]])
    target = torch.tensor([0, 2, 2])  # right, right, wrong on the rare class 2
    weights = torch.tensor([1.0, 1.0, 3.0])
    per_sample = F.cross_entropy(logits, target, reduction="none")
    expected = (per_sample * weights[target]).sum() / weights[target].sum()
    unweighted = LogitAdjustedLoss([1 / 3] * 3, tau=0.0)(logits, target)
    weighted = LogitAdjustedLoss([1 / 3] * 3, tau=0.0, class_weights=weights)(logits, target)
    assert weighted.item() == pytest.approx(expected.item(), rel=1e-6)
    assert weighted.item() > unweighted.item() + 0.15


def test_class_weights_apply_to_soft_targets_too():
    logits = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    hard = torch.tensor([0, 2])
    weights = torch.tensor([1.0, 1.0, 3.0])
    criterion = LogitAdjustedLoss([1 / 3] * 3, tau=0.0, class_weights=weights)
    soft = criterion(logits, F.one_hot(hard, 3).float())
    assert soft.item() == pytest.approx(criterion(logits, hard).item(), rel=1e-6)
    assert soft.item() > LogitAdjustedLoss([1 / 3] * 3, tau=0.0)(logits, hard).item() + 0.3
