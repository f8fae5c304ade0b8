"""AdamW with no decay on biases and norms, separate head / backbone learning rates, warm-up + cosine."""

from __future__ import annotations

import math

import torch
from torch import nn

from plantml.modeling import head_parameters


def param_groups(
    model: nn.Module, *, lr: float, head_lr: float, weight_decay: float, train_backbone: bool = True
) -> list[dict]:
    """Return optimiser groups: (backbone|head) x (decay|no decay); 1-d tensors (bias, norm) never decay."""
    head_ids = {id(p) for p in head_parameters(model)}
    skip = set(getattr(model, "no_weight_decay", lambda: set())())
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        is_head = id(param) in head_ids
        if not param.requires_grad or (not is_head and not train_backbone):
            continue
        decay = param.ndim > 1 and name not in skip
        groups.setdefault(("head" if is_head else "backbone", decay), []).append(param)
    return [
        {
            "params": params,
            "lr": head_lr if part == "head" else lr,
            "weight_decay": weight_decay if decay else 0.0,
            "name": f"{part}{'' if decay else '_no_decay'}",
        }
        for (part, decay), params in sorted(groups.items())
    ]


def create_optimizer(
    model: nn.Module, *, lr: float, head_lr: float, weight_decay: float, train_backbone: bool = True
) -> torch.optim.AdamW:
    """Return AdamW over ``param_groups``; a frozen backbone's parameters are left out of it."""
    head_ids = {id(p) for p in head_parameters(model)}
    for param in model.parameters():
        param.requires_grad_(train_backbone or id(param) in head_ids)
    groups = param_groups(model, lr=lr, head_lr=head_lr, weight_decay=weight_decay, train_backbone=train_backbone)
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


def warmup_cosine(
    optimizer: torch.optim.Optimizer, *, warmup_steps: int, total_steps: int, min_ratio: float = 0.01
) -> torch.optim.lr_scheduler.LambdaLR:
    """Return a per-step schedule: linear warm-up from ~0 to each group's lr, then cosine down to min_ratio."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
