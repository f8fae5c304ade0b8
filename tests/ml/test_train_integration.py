"""manage.py train end to end: a real short run, registered, activated and served by the Predictor."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from ml.models import ModelVersion
from ml.runtime import predictors
from ml.versions import active_version
from plantml.data import resolve_splits

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_train_registers_and_activates_a_model_that_predicts(image_tree, tmp_path, settings):
    settings.MODELS_DIR = tmp_path / "models"
    out = StringIO()
    call_command(
        "train",
        data=image_tree,
        model="convnextv2_atto",
        epochs=1,
        head_epochs=0,
        output=tmp_path / "run-1",
        input_size=32,
        batch_size=8,
        workers=0,
        pretrained=False,
        activate=True,
        stdout=out,
    )
    assert "epoch   1 [finetune]" in out.getvalue() and "registered model run-1 (active)" in out.getvalue()
    version = active_version()
    assert version.name == "run-1" and version.architecture == "convnextv2_atto"
    assert version.class_names == ["bellis", "rosa", "viola"] and "top1" in version.metrics
    predictions = predictors.get(version).predict([Image.open(next((image_tree / "rosa").iterdir()))], top_k=2)
    probabilities = [p.probability for p in predictions]
    assert len(predictions) == 2
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    predictors.clear()


def test_train_records_the_training_photos_of_each_class_for_the_species_page(image_tree, tmp_path, settings):
    settings.MODELS_DIR = tmp_path / "models"
    run = tmp_path / "run-counts"
    call_command(
        "train",
        data=image_tree,
        model="convnextv2_atto",
        epochs=1,
        head_epochs=0,
        output=run,
        input_size=32,
        batch_size=8,
        workers=0,
        pretrained=False,
        stdout=StringIO(),
    )
    splits = resolve_splits(image_tree, split_file=run / "split.json")
    expected = [sum(1 for _, target in splits.train if target == k) for k in range(3)]
    assert sum(expected) == len(splits.train) and all(expected)
    assert ModelVersion.objects.get(name="run-counts").metrics["train_counts"] == expected
