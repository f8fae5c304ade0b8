"""Mixup / CutMix switching off (plantml/training/mixup.py)."""

from __future__ import annotations

import pytest
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
    assert schedule.for_epoch(4) is None


def test_after_mixup_switches_off_cutmix_pastes_a_patch_of_the_partner_in_the_targets_proportion():
    torch.manual_seed(0)
    mixer = MixupSchedule(3, mixup_alpha=0.8, cutmix_alpha=1.0, mixup_off_epoch=2, cutmix_off_epoch=4).for_epoch(3)
    original = torch.stack([torch.full((3, 16, 16), float(v)) for v in (0.0, 1.0, 2.0, 4.0)])
    images, targets = mixer(original.clone(), torch.tensor([0, 1, 2, 1]))  # image 0 is paired with image 3
    own = (images[0] == 0.0).float().mean().item()
    assert 0.0 < own < 1.0, "no patch was pasted"
    assert torch.all((images[0] == 0.0) | (images[0] == 4.0)), "pixels were blended (Mixup), not pasted (CutMix)"
    assert targets[0, 0].item() == pytest.approx(own) and targets[0, 1].item() == pytest.approx(1.0 - own)


def test_no_alphas_means_no_mixing():
    assert MixupSchedule(3).for_epoch(0) is None
