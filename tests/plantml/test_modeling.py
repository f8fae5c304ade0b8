"""Model creation: timm architectures with our heads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plantml.modeling import classifier_name, create_model


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_a_new_head_starts_from_uniform_predictions(head):
    model = create_model("convnextv2_atto", 4, head=head).eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(torch.randn(2, 3, 32, 32)), dim=1)
    assert torch.allclose(probabilities, torch.full_like(probabilities, 0.25))


def test_mlp_head_is_layernorm_linear_gelu_dropout_linear():
    model = create_model("convnextv2_atto", 7, head="mlp", head_hidden=16)
    head = model.get_submodule(classifier_name(model))
    assert [type(m) for m in head] == [nn.LayerNorm, nn.Linear, nn.GELU, nn.Dropout, nn.Linear]
    assert head[1].out_features == 16 and head[4].out_features == 7


def test_unknown_architecture_names_the_fix():
    with pytest.raises(ValueError, match="timm.list_models"):
        create_model("convnextv2_gigantic", 3)
