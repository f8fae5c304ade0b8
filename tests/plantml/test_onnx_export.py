"""ONNX export with timm's exporter, checked against PyTorch, and int8 kept only when top-1 holds."""

from __future__ import annotations

import pytest
import torch

from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of
from plantml.modeling import forward_with_features
from plantml.onnx_export import (
    OnnxExportError,
    export_onnx,
    max_abs_diff,
    model_inputs,
    quantize_checked,
    synthetic_images,
)
from plantml.onnx_runtime import FEATURES, LOGITS, OnnxModule, open_session
from plantml.predictor import Predictor
from tests.image_trees import unrepresentative_calibration_tree


def test_the_export_has_logits_and_features_outputs_with_a_dynamic_batch(tiny_onnx):
    outputs = open_session(tiny_onnx).get_outputs()
    assert [(output.name, output.shape[0]) for output in outputs] == [(LOGITS, "batch"), (FEATURES, "batch")]


def test_the_export_gives_the_pooled_features_of_pytorch(tiny_checkpoint, tiny_onnx):
    payload = load_checkpoint(tiny_checkpoint)
    inputs = model_inputs(spec_of(payload), synthetic_images(5, 90, seed=8))
    with torch.inference_mode():
        expected = forward_with_features(model_from_checkpoint(payload), inputs)[1]
    features = OnnxModule(open_session(tiny_onnx)).forward_with_features(inputs)[1]
    assert features.shape == expected.shape and torch.allclose(features, expected, atol=1e-4)


def test_the_export_matches_pytorch_logits_and_features_on_new_inputs(tiny_checkpoint, tiny_onnx):
    payload = load_checkpoint(tiny_checkpoint)
    inputs = model_inputs(spec_of(payload), synthetic_images(6, 90, seed=7))
    difference = max_abs_diff(model_from_checkpoint(payload), OnnxModule(open_session(tiny_onnx)), inputs)
    assert difference < 1e-4


def test_export_reports_the_difference_it_checked(tiny_checkpoint, tmp_path):
    spec = spec_of(load_checkpoint(tiny_checkpoint))
    difference = export_onnx(tiny_checkpoint, tmp_path / "m.onnx", model_inputs(spec, synthetic_images(3, 70)))
    assert 0 <= difference < 1e-3
    assert (tmp_path / "m.onnx").is_file() and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_int8_with_an_unrepresentative_calibration_is_refused_and_not_written(tiny_checkpoint, tiny_onnx, tmp_path):
    data = unrepresentative_calibration_tree(tmp_path / "data", Predictor.from_checkpoint(tiny_checkpoint, "cpu"))
    output = tmp_path / "out" / "tiny.int8.onnx"
    output.parent.mkdir()
    with pytest.raises(OnnxExportError, match=r"int8 refused: top-1 on the 30 test images .* drops from 100\.00%"):
        quantize_checked(tiny_checkpoint, tiny_onnx, output, data)
    assert list(output.parent.iterdir()) == []
