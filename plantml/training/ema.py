"""Exponential moving average of the weights (timm's ModelEmaV3) with a step count for exact resume."""

from __future__ import annotations

import torch
from timm.utils import ModelEmaV3
from torch import nn

from plantml.checkpoint import unwrap


class WeightEma:
    """EMA of a model's weights and buffers; decay warms up with the number of updates."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be between 0 and 1, got {decay}")
        # warm-up keeps short fine-tunes from averaging in the random head for thousands of steps
        self.ema = ModelEmaV3(unwrap(model), decay=decay, use_warmup=True)
        self.updates = 0

    @property
    def module(self) -> nn.Module:
        return self.ema.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s current weights."""
        self.updates += 1
        self.ema.update(unwrap(model), step=self.updates)

    def state_dict(self) -> dict:
        return {"module": self.ema.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.ema.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
