"""Mixup / CutMix switching off (plantml/training/mixup.py)."""

from __future__ import annotations

import torch

from plantml.training.mixup import MixupSchedule


def test_mixup_produces_soft_targets_while_on():
    mixer = MixupSchedule(3, mixup_alpha=0.8, mixup_off_epoch=2).for_epoch(0)
    images, labels = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    _, targets = mixer(images, labels)
    assert targets.shape == (4, 3)
    assert torch.allclose(targets.sum(dim=1), torch.ones(4))


def test_mixup_and_cutmix_switch_off_at_their_epochs():
    schedule = MixupSchedule(3, mixup_alpha=0.8, cutmix_alpha=1.0, mixup_off_epoch=2, cutmix_off_epoch=4)
    assert schedule.alphas(1) == (0.8, 1.0)
    assert schedule.alphas(2) == (0.0, 1.0)
    assert schedule.for_epoch(3) is not None
    assert schedule.for_epoch(4) is None


def test_no_alphas_means_no_mixing():
    assert MixupSchedule(3).for_epoch(0) is None
