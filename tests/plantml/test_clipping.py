"""Gradient clipping in the training loop bounds each step (plantml/training/engine.py)."""

from __future__ import annotations

import torch
from torch import nn

from plantml.modeling import create_model
from plantml.training.engine import train_one_epoch

CPU = torch.device("cpu")


def _one_sgd_step(clip_grad: float) -> float:
    """Return the norm of the parameter change made by one SGD step (lr 1, no momentum) on a wild batch."""
    torch.manual_seed(0)
    model = create_model("convnextv2_atto", 3)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    batch = [(torch.randn(4, 3, 32, 32) * 50, torch.randint(0, 3, (4,)))]
    train_one_epoch(
        model, batch, nn.CrossEntropyLoss(), optimizer, scheduler, device=CPU, clip_grad=clip_grad, progress=False
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    return (after - before).norm().item()


def test_clipping_bounds_the_gradient_norm_of_a_step():
    assert _one_sgd_step(clip_grad=0.0) > 1.0  # the batch is large enough to need clipping
    assert _one_sgd_step(clip_grad=0.5) <= 0.5 + 1e-5
