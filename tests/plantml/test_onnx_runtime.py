"""The ONNX Runtime predictor: same interface and answers as the PyTorch one; foreign files refused."""

from __future__ import annotations

import onnx
import pytest

from plantml.files import CheckpointError
from plantml.onnx_export import synthetic_images
from plantml.onnx_runtime import load_onnx_predictor
from plantml.predictor import Predictor


def test_the_onnx_predictor_answers_like_the_torch_one(tiny_checkpoint, tiny_onnx):
    plants = [synthetic_images(1, 90, seed=1), synthetic_images(2, 70, seed=2)]
    onnx_answers = load_onnx_predictor(tiny_onnx).predict_many(plants, top_k=3)
    torch_answers = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").predict_many(plants, top_k=3)
    for ours, theirs in zip(onnx_answers, torch_answers):
        assert [p.label for p in ours] == [p.label for p in theirs]
        assert [p.probability for p in ours] == pytest.approx([p.probability for p in theirs], abs=1e-4)


def test_the_spec_travels_in_the_file(tiny_onnx):
    spec = load_onnx_predictor(tiny_onnx).spec
    assert (spec.architecture, spec.input_size) == ("convnextv2_atto", 64)
    assert spec.display_names == ["Bellis perennis", "Rosa canina", "Helianthus annuus"]


def test_an_onnx_file_without_our_metadata_is_refused_with_the_fix(tiny_onnx, tmp_path):
    model = onnx.load(str(tiny_onnx))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    with pytest.raises(CheckpointError, match="not a plantsite ONNX export.*manage.py models export"):
        load_onnx_predictor(tmp_path / "foreign.onnx")


def test_a_missing_file_names_the_export_command(tmp_path):
    with pytest.raises(CheckpointError, match="no ONNX file at .*manage.py models export NAME"):
        load_onnx_predictor(tmp_path / "none.onnx")
