"""Create timm classifiers with our heads; no Django here."""

from __future__ import annotations

import timm
import torch
from torch import nn

HEADS = ("linear", "mlp")


def mlp_head(in_features: int, num_classes: int, hidden: int = 512, dropout: float = 0.2) -> nn.Sequential:
    """Return LayerNorm -> Linear(hidden) -> GELU -> Dropout -> Linear(num_classes)."""
    return nn.Sequential(
        nn.LayerNorm(in_features),
        nn.Linear(in_features, hidden),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def classifier_name(model: nn.Module) -> str:
    """Return the dotted name of the model's final classifier layer (e.g. ``head.fc``)."""
    return model.pretrained_cfg.get("classifier", "head.fc")


def create_model(
    architecture: str,
    num_classes: int,
    *,
    head: str = "linear",
    drop_path_rate: float = 0.0,
    head_hidden: int = 512,
    head_dropout: float = 0.2,
) -> nn.Module:
    """Return a randomly initialised timm ``architecture`` with a ``head`` for ``num_classes``."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}: choose one of {', '.join(HEADS)}")
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    if architecture not in timm.list_models():
        raise ValueError(
            f"unknown architecture {architecture!r}: see timm.list_models() for names, e.g. convnextv2_tiny"
        )
    kwargs = {"drop_path_rate": drop_path_rate} if drop_path_rate else {}
    model = timm.create_model(architecture, pretrained=False, num_classes=num_classes, **kwargs)
    name = classifier_name(model)
    if head == "mlp":
        linear = model.get_submodule(name)
        model.set_submodule(name, mlp_head(linear.in_features, num_classes, head_hidden, head_dropout))
    # Some timm inits (efficientnet's) draw the new classifier from +-1/sqrt(num_classes): with few
    # classes that gives huge first logits and wastes the head-only phase. A zero final layer starts
    # every fine-tune from uniform predictions.
    final = [m for m in model.get_submodule(name).modules() if isinstance(m, nn.Linear)][-1]
    nn.init.zeros_(final.weight)
    nn.init.zeros_(final.bias)
    return model


def head_parameters(model: nn.Module) -> list[torch.nn.Parameter]:
    """Return the parameters of the classifier layer (the part replaced for our classes)."""
    return list(model.get_submodule(classifier_name(model)).parameters())


def forward_with_features(model: nn.Module, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return (logits, pooled pre-logit features) of a timm classifier in one pass.

    A module without timm's ``forward_features`` (an ONNX Runtime session) answers through its own
    ``forward_with_features`` when it has one, else with features None.
    """
    if not hasattr(model, "forward_features"):
        if hasattr(model, "forward_with_features"):
            return model.forward_with_features(batch)
        return model(batch), None
    features = model.forward_head(model.forward_features(batch), pre_logits=True)
    return model.get_submodule(classifier_name(model))(features), features
