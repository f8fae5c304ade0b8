"""The model registry: verified registration, one active version, integrity checks, the predictor cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from django.db import IntegrityError, transaction

from ml.models import ModelVersion
from ml.registry import (
    PredictorCache,
    RegistryError,
    activate_version,
    active_version,
    checkpoint_rewritten,
    onnx_path,
    register_checkpoint,
    remove_version,
    verify,
)
from plantml.checkpoint import ModelSpec, load_checkpoint, save_checkpoint, update_spec
from plantml.files import sha256_file
from plantml.open_set import Calibration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path) -> Path:
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def test_register_records_the_spec_sha256_and_metrics_of_the_checkpoint(tiny_checkpoint, models_dir):
    version = register_checkpoint(tiny_checkpoint, "tiny")
    assert (version.architecture, version.input_size, version.num_classes) == ("convnextv2_atto", 64, 3)
    assert version.display_names == ["Bellis perennis", "Rosa canina", "Helianthus annuus"]
    assert version.sha256 == sha256_file(tiny_checkpoint)
    assert version.metrics == load_checkpoint(tiny_checkpoint)["metrics"]
    assert version.checkpoint_path == str(models_dir / "tiny.pt")


def test_register_without_a_name_derives_one_from_the_file(tiny_checkpoint):
    assert register_checkpoint(tiny_checkpoint).name.startswith("tiny-")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path):
    spec = ModelSpec(architecture="convnextv2_atto", class_names=["a", "b"], input_size=64)
    model = ModelSpec(architecture="convnextv2_atto", class_names=["a", "b", "c"], input_size=64).build_model()
    path = save_checkpoint(tmp_path / "mismatch.pt", model, spec)  # 3-class head under a 2-class spec
    with pytest.raises(RegistryError, match="do not fit the architecture"):
        register_checkpoint(path, "mismatch")
    assert not ModelVersion.objects.exists()


def test_a_duplicate_or_malformed_name_is_refused(tiny_checkpoint):
    register_checkpoint(tiny_checkpoint, "tiny")
    with pytest.raises(RegistryError, match="already exists"):
        register_checkpoint(tiny_checkpoint, "tiny")
    with pytest.raises(RegistryError, match="only letters, digits"):
        register_checkpoint(tiny_checkpoint, "tiny v2/../x")


def test_activating_keeps_exactly_one_version_active(tiny_checkpoint):
    register_checkpoint(tiny_checkpoint, "one", activate=True)
    register_checkpoint(tiny_checkpoint, "two", activate=True)
    assert active_version().name == "two"
    activate_version("one")
    assert list(ModelVersion.objects.filter(is_active=True).values_list("name", flat=True)) == ["one"]


def test_the_database_refuses_a_second_active_version(tiny_checkpoint):
    register_checkpoint(tiny_checkpoint, "one", activate=True)
    two = register_checkpoint(tiny_checkpoint, "two")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=two.pk).update(is_active=True)


def test_verify_detects_a_changed_or_missing_file(tiny_checkpoint, models_dir):
    version = register_checkpoint(tiny_checkpoint, "tiny")
    verify(version)
    with open(version.checkpoint_path, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(RegistryError, match="SHA-256 differs"):
        verify(version)
    Path(version.checkpoint_path).unlink()
    with pytest.raises(RegistryError, match="is missing"):
        verify(version)


def test_a_changed_file_cannot_be_activated(tiny_checkpoint):
    version = register_checkpoint(tiny_checkpoint, "tiny")
    with open(version.checkpoint_path, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(RegistryError, match="changed since it was registered"):
        activate_version("tiny")
    assert active_version() is None


def test_remove_refuses_the_active_version_and_deletes_others_with_their_file(tiny_checkpoint):
    live = register_checkpoint(tiny_checkpoint, "live", activate=True)
    old = register_checkpoint(tiny_checkpoint, "old")
    with pytest.raises(RegistryError, match="is active"):
        remove_version("live")
    remove_version("old")
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["live"]
    assert not Path(old.checkpoint_path).exists() and Path(live.checkpoint_path).exists()


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
