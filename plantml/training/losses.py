"""Logit-adjusted cross-entropy for long-tailed data, with optional class weights and label smoothing."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def effective_number_weights(counts: Sequence[int], beta: float = 0.999) -> torch.Tensor:
    """Return class weights (1 - beta) / (1 - beta^n), scaled to average 1 (Cui et al., 2019)."""
    n = torch.as_tensor(counts, dtype=torch.float64).clamp(min=1)
    weights = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return (weights * len(weights) / weights.sum()).float()


def logit_adjusted_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    log_prior: torch.Tensor,
    *,
    tau: float = 1.0,
    label_smoothing: float = 0.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return CE of ``logits + tau * log_prior`` for class ids or soft targets (Menon et al., 2021)."""
    adjusted = logits.float() + tau * log_prior.to(logits.device)
    if target.dtype == torch.long:
        return F.cross_entropy(adjusted, target, weight=weight, label_smoothing=label_smoothing)
    per_sample = -(target * F.log_softmax(adjusted, dim=1)).sum(dim=1)
    if weight is None:
        return per_sample.mean()
    sample_weight = target @ weight.to(target.device)
    return (per_sample * sample_weight).sum() / sample_weight.sum()


class LogitAdjustedLoss(nn.Module):
    """Criterion: logit-adjusted CE with fixed class priors; tau=0 and no weights is plain CE."""

    def __init__(
        self,
        class_prior: Sequence[float],
        *,
        tau: float = 1.0,
        label_smoothing: float = 0.0,
        class_weights: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        prior = torch.as_tensor(class_prior, dtype=torch.float32).clamp(min=1e-12)
        self.register_buffer("log_prior", torch.log(prior / prior.sum()))
        self.register_buffer("class_weights", class_weights)
        self.tau, self.label_smoothing = tau, label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return logit_adjusted_cross_entropy(
            logits,
            target,
            self.log_prior,
            tau=self.tau,
            label_smoothing=self.label_smoothing,
            weight=self.class_weights,
        )
