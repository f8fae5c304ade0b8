"""manage.py train on PlantNet-300K as downloaded: a registered model whose candidates show scientific names."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from ml.runtime import predictors
from ml.versions import active_version
from plantml.checkpoint import load_checkpoint, spec_of
from tests.plantnet300k_trees import FLOWERS5_SPECIES, make_plantnet_v1, make_plantnet_v2, photos

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
SCIENTIFIC = {full.rsplit(" ", 1)[0] for _, full, _ in FLOWERS5_SPECIES.values()}


def train(data, tmp_path, name: str) -> str:
    out = StringIO()
    call_command(
        "train",
        data=data,
        model="convnextv2_atto",
        epochs=1,
        head_epochs=0,
        output=tmp_path / name,
        input_size=32,
        batch_size=8,
        workers=0,
        pretrained=False,
        activate=True,
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def chosen(flowers5):
    return photos(flowers5, {"train": 4, "val": 2, "test": 2})


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    yield settings.MODELS_DIR
    predictors.clear()


def candidates(chosen) -> set[str]:
    version = active_version()
    photo = Image.open(chosen["rose"]["test"][0])
    return {p.display_name for p in predictors.get(version).predict([photo], top_k=5)}


def test_training_on_plantnet_v1_registers_a_model_with_scientific_names(chosen, tmp_path, models_dir):
    data = make_plantnet_v1(tmp_path / "plantnet300K", chosen)
    printed = train(data, tmp_path, "pn-v1")
    assert "registered model pn-v1 (active)" in printed
    assert candidates(chosen) == SCIENTIFIC
    assert active_version().class_names == sorted(species_id for species_id, _, _ in FLOWERS5_SPECIES.values())


def test_training_on_plantnet_v2_keeps_genus_and_family_in_the_checkpoint(chosen, tmp_path, models_dir):
    data = make_plantnet_v2(tmp_path / "plantnet300K_v2", chosen)
    train(data, tmp_path, "pn-v2")
    assert candidates(chosen) == SCIENTIFIC
    species = spec_of(load_checkpoint(tmp_path / "pn-v2" / "best.pt")).species_info()
    assert [(s.genus, s.family) for s in species][2] == ("Rosa", "Rosaceae")


def test_an_unreadable_photo_is_skipped_and_counted_in_the_run_metrics(chosen, tmp_path, models_dir):
    data = make_plantnet_v1(tmp_path / "plantnet300K", chosen)
    broken = next((data / "images" / "test" / "1356257").iterdir())  # evaluation reads every test image
    broken.unlink()
    broken.write_bytes(b"\xff\xd8\xff truncated")
    train(data, tmp_path, "pn-bad")
    metrics = json.loads((tmp_path / "pn-bad" / "metrics.json").read_text())
    assert metrics["summary"]["unreadable_images"] == 1
    assert metrics["unreadable_files"][0][0] == str(broken)
