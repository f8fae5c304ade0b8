"""The "other plant" class: photos of plants the model must not claim, trained as one more class, never shown.

Training adds the ``--unknown-data`` photos as class K (after the K species). best.pt keeps a K-class model,
so everything that reads a checkpoint sees the species only; the extra class's row of the final layer is
stored beside it (``OTHER_ROW``) and calibration turns it into ``Calibration.other_class``, which gives
P(one of the model's species) at answer time.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from plantml.checkpoint import unwrap
from plantml.datasets.splits import Sample
from plantml.modeling import classifier_name
from plantml.open_set import OTHER_ROW

__all__ = ["OTHER_ROW", "UNKNOWN_TRAINING", "split_other_class", "with_other_class"]
UNKNOWN_TRAINING = ("other-class", "none")


def with_other_class(train: Sequence[Sample], unknown_photos: Sequence[Sample], num_species: int) -> list[Sample]:
    """Return the training samples with every unknown-data photo labelled ``num_species`` (the extra class)."""
    return [*train, *((path, num_species) for path, _ in unknown_photos)]


def _final_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """Return (parent module, attribute name, final Linear) of the classifier (linear or MLP head)."""
    name = classifier_name(model)
    layer = model.get_submodule(name)
    if isinstance(layer, nn.Sequential):
        index = max(i for i, part in enumerate(layer) if isinstance(part, nn.Linear))
        final = layer[index]
        assert isinstance(final, nn.Linear)  # the index was chosen for it
        return layer, str(index), final
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"the 'other plant' class needs a linear classifier; {name} is a {type(layer).__name__}")
    parent, _, attribute = name.rpartition(".")
    return (model.get_submodule(parent) if parent else model), attribute, layer


def split_other_class(model: nn.Module, num_species: int) -> tuple[nn.Module, dict[str, Any]]:
    """Return a copy of ``model`` answering the ``num_species`` species only, and the extra class's row."""
    species_model = copy.deepcopy(unwrap(model))
    parent, attribute, layer = _final_linear(species_model)
    kept = nn.Linear(layer.in_features, num_species, bias=layer.bias is not None)
    with torch.no_grad():
        kept.weight.copy_(layer.weight[:num_species])
        if layer.bias is not None:
            kept.bias.copy_(layer.bias[:num_species])
    if isinstance(parent, nn.Sequential):
        parent[int(attribute)] = kept
    else:
        setattr(parent, attribute, kept)
    row = {
        "weight": layer.weight[num_species].detach().float().cpu().tolist(),
        "bias": float(layer.bias[num_species].detach()) if layer.bias is not None else 0.0,
    }
    return species_model, row
