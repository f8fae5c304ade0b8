"""Optimiser groups and the learning-rate schedule (plantml/training/optim.py)."""

from __future__ import annotations

import pytest
import torch

from plantml.modeling import create_model, head_parameters
from plantml.training.optim import create_optimizer, warmup_cosine


@pytest.fixture(scope="module")
def model():
    return create_model("convnextv2_atto", 3)


def _groups(optimizer):
    return {group["name"]: group for group in optimizer.param_groups}


def test_biases_and_norm_weights_get_no_weight_decay(model):
    groups = _groups(create_optimizer(model, lr=1e-4, head_lr=1e-3, weight_decay=0.05))
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay = [names[id(p)] for g in groups.values() if g["weight_decay"] == 0 for p in g["params"]]
    decay = [names[id(p)] for g in groups.values() if g["weight_decay"] > 0 for p in g["params"]]
    assert any(n.endswith("norm.weight") for n in no_decay) and any(n.endswith(".bias") for n in no_decay)
    assert not any(n.endswith(".bias") or "norm" in n for n in decay)
    assert "stem.0.weight" in decay


def test_head_and_backbone_have_their_own_learning_rates(model):
    groups = _groups(create_optimizer(model, lr=1e-4, head_lr=1e-3, weight_decay=0.05))
    assert groups["head"]["lr"] == 1e-3 and groups["head_no_decay"]["lr"] == 1e-3
    assert groups["backbone"]["lr"] == 1e-4
    assert {id(p) for p in groups["head"]["params"] + groups["head_no_decay"]["params"]} == {
        id(p) for p in head_parameters(model)
    }


def test_a_frozen_backbone_is_left_out_and_gets_no_gradient(model):
    optimizer = create_optimizer(model, lr=1e-4, head_lr=1e-3, weight_decay=0.05, train_backbone=False)
    assert set(_groups(optimizer)) == {"head", "head_no_decay"}
    assert not model.stem[0].weight.requires_grad
    create_optimizer(model, lr=1e-4, head_lr=1e-3, weight_decay=0.05)  # full fine-tune unfreezes again
    assert model.stem[0].weight.requires_grad


def test_schedule_warms_up_linearly_then_decays_by_cosine():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1.0)
    schedule = warmup_cosine(optimizer, warmup_steps=4, total_steps=14, min_ratio=0.0)
    lrs = []
    for _ in range(14):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert lrs[4] == pytest.approx(1.0)
    assert lrs[9] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))
