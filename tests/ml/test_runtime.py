"""Serving a version: the predictor cache, the ONNX runtimes, and ONNX files made stale by a rewritten checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ml.models import ModelVersion
from ml.runtime import PredictorCache
from ml.versions import (
    RegistryError,
    active_version,
    checkpoint_rewritten,
    onnx_path,
    register_checkpoint,
)
from plantml.checkpoint import ModelSpec, save_checkpoint, update_spec
from plantml.open_set import Calibration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path) -> Path:
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def test_predictor_cache_loads_once_and_reloads_for_another_version(tiny_checkpoint, tmp_path):
    torch.manual_seed(1)
    spec = ModelSpec(architecture="convnextv2_atto", class_names=["x", "y"], input_size=64)
    other = save_checkpoint(tmp_path / "other.pt", spec.build_model(), spec)
    first = register_checkpoint(tiny_checkpoint, "first", activate=True)
    cache = PredictorCache()
    predictor = cache.get(first)
    assert cache.get(active_version()) is predictor
    second = register_checkpoint(other, "second", activate=True)
    reloaded = cache.get(second)
    assert reloaded is not predictor and reloaded.spec.class_names == ["x", "y"]


def test_the_onnx_runtime_without_an_export_names_the_export_command(tiny_checkpoint, settings):
    settings.RECOGNITION_RUNTIME = "onnx"
    version = register_checkpoint(tiny_checkpoint, "tiny", activate=True)
    with pytest.raises(RegistryError, match=r"no ONNX file at .*tiny\.onnx.*`manage.py models export tiny`"):
        PredictorCache().get(version)


def test_the_int8_runtime_names_the_int8_export(tiny_checkpoint, settings):
    settings.RECOGNITION_RUNTIME = "onnx-int8"
    version = register_checkpoint(tiny_checkpoint, "tiny", activate=True)
    with pytest.raises(RegistryError, match=r"`manage.py models export tiny --int8 --data DIR`"):
        PredictorCache().get(version)


def test_the_cache_serves_the_onnx_export_when_the_runtime_asks_for_it(tiny_checkpoint, settings):
    from ml.onnx import export_version
    from plantml.onnx_runtime import OnnxModule

    version = register_checkpoint(tiny_checkpoint, "tiny", activate=True)
    export_version("tiny")
    settings.RECOGNITION_RUNTIME = "onnx"
    assert isinstance(PredictorCache().get(version).model, OnnxModule)


@pytest.fixture
def exported(tiny_checkpoint) -> ModelVersion:
    """The tiny checkpoint registered and active, with its ONNX file and (a copy standing in for) its int8 file."""
    import shutil

    from ml.onnx import export_version

    version = register_checkpoint(tiny_checkpoint, "tiny", activate=True)
    export_version("tiny")
    shutil.copyfile(onnx_path(version), onnx_path(version, int8=True))
    return version


def calibrate(version: ModelVersion) -> None:
    """Rewrite the version's checkpoint with a calibration, as `manage.py calibrate` does, and record it."""
    update_spec(version.checkpoint_path, calibration=Calibration(temperature=2.0, threshold=0.4).to_dict())
    checkpoint_rewritten(version)


def test_rewriting_a_checkpoint_removes_its_stale_onnx_files(exported):
    calibrate(exported)
    assert not onnx_path(exported).exists() and not onnx_path(exported, int8=True).exists()


def test_the_removal_log_names_the_exports_to_run_again(exported, caplog):
    calibrate(exported)
    assert "run `manage.py models export tiny` again" in caplog.text
    assert "run `manage.py models export tiny --int8 --data DIR` again" in caplog.text


def test_after_a_rewrite_the_onnx_runtime_names_the_export_instead_of_serving_the_old_file(exported, settings):
    settings.RECOGNITION_RUNTIME = "onnx"
    calibrate(exported)
    with pytest.raises(RegistryError, match=r"no ONNX file at .*`manage.py models export tiny`"):
        PredictorCache().get(exported)
