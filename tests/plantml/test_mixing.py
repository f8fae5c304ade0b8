"""Mixup really mixes: each image blends with its batch partner, in the proportion its soft target says."""

from __future__ import annotations

import pytest
import torch

from plantml.training.mixup import MixupSchedule


def test_mixup_blends_each_image_with_its_partner_in_the_targets_proportion():
    torch.manual_seed(0)
    mixer = MixupSchedule(3, mixup_alpha=0.8).for_epoch(0)
    original = torch.stack([torch.full((3, 8, 8), float(v)) for v in (0.0, 1.0, 2.0, 4.0)])
    labels = torch.tensor([0, 1, 2, 1])  # timm pairs image i with image N-1-i: 0 with 3 (classes 0 and 1)
    images, targets = mixer(original.clone(), labels)
    lam = targets[0, 0].item()
    assert 0.0 < lam < 1.0 and targets[0, 1].item() == pytest.approx(1.0 - lam)
    assert torch.allclose(images[0], lam * original[0] + (1 - lam) * original[3], atol=1e-6)
    assert not torch.allclose(images, original)
