"""Test-time augmentation views: flips, zooms and the averaged probabilities."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plantml.tta import tta_probabilities, tta_views, zoom


def test_default_views_are_the_batch_and_its_horizontal_flip():
    batch = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    views = tta_views(batch)
    assert len(views) == 2
    assert views[0] is batch
    assert torch.equal(views[1][..., 0], batch[..., -1])


def test_flipping_twice_gives_the_batch_back():
    batch = torch.rand(2, 3, 8, 8)
    flipped = tta_views(batch)[1]
    assert not torch.equal(flipped, batch)
    assert torch.equal(tta_views(flipped)[1], batch)


def test_each_scale_adds_a_view_and_its_flip_of_the_same_shape():
    batch = torch.rand(2, 3, 32, 32)
    views = tta_views(batch, flips=True, scales=(1.0, 1.25, 0.8))
    assert len(views) == 6
    assert all(view.shape == batch.shape for view in views)
    assert len(tta_views(batch, flips=False, scales=(1.0, 1.25))) == 2


def test_zooming_in_keeps_a_uniform_image_uniform():
    batch = torch.full((1, 3, 16, 16), 0.7)
    assert torch.allclose(zoom(batch, 1.5), batch)


def test_zooming_out_pads_the_border_with_zeros():
    zoomed = zoom(torch.ones(1, 1, 4, 4), 0.5)
    expected = torch.zeros(1, 1, 4, 4)
    expected[..., 1:3, 1:3] = 1.0
    assert torch.allclose(zoomed, expected)


def test_a_non_positive_scale_is_refused():
    with pytest.raises(ValueError, match="positive"):
        zoom(torch.ones(1, 1, 4, 4), 0.0)


class LeftRight(nn.Module):
    """Logits = (mean of the left half, mean of the right half): sensitive to flips."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return torch.stack([x[..., :half].mean(dim=(1, 2, 3)), x[..., half:].mean(dim=(1, 2, 3))], dim=1)


def test_tta_probabilities_average_the_flipped_predictions():
    batch = torch.zeros(1, 1, 2, 4)
    batch[..., :2] = 3.0  # bright left half: the plain view favours class 0, its flip class 1
    plain = torch.softmax(LeftRight()(batch), dim=1)
    averaged = tta_probabilities(LeftRight(), batch)
    assert plain[0, 0] > 0.9
    assert torch.allclose(averaged, torch.tensor([[0.5, 0.5]]))
