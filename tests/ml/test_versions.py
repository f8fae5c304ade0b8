"""Model versions: verified registration, one active version, integrity checks, removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from ml.models import ModelVersion
from ml.versions import (
    RegistryError,
    activate_version,
    active_version,
    register_checkpoint,
    remove_version,
    verify,
)
from plantml.checkpoint import ModelSpec, load_checkpoint, save_checkpoint
from plantml.files import sha256_file

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
