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
from plantml.training import recipes

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
# the short run that must already name the (trivially separable, seen) colour classes
PREDICTS_EPOCHS = 3
PREDICTS_MIN_TOP1 = 0.8


def test_train_registers_and_activates_a_model_that_predicts(image_tree, tmp_path, settings):
    settings.MODELS_DIR = tmp_path / "models"
    out = StringIO()
    call_command(
        "train",
        **recipes.tiny(data=image_tree, output=tmp_path / "run-1", epochs=PREDICTS_EPOCHS, activate=True),
        stdout=out,
    )
    assert f"epoch   {PREDICTS_EPOCHS} [finetune]" in out.getvalue()
    assert "registered model run-1 (active)" in out.getvalue()
    version = active_version()
    assert version.name == "run-1" and version.architecture == "convnextv2_atto"
    assert version.class_names == ["bellis", "rosa", "viola"] and "top1" in version.metrics
    predictor = predictors.get(version)
    predictions = predictor.predict([Image.open(next((image_tree / "rosa").iterdir()))], top_k=2)
    probabilities = [p.probability for p in predictions]
    assert len(predictions) == 2
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    folders = sorted(folder for folder in image_tree.iterdir() if folder.is_dir())
    photos = [(folder.name, path) for folder in folders for path in sorted(folder.glob("*.jpg"))]
    right = sum(predictor.predict([Image.open(path)], top_k=1)[0].label == label for label, path in photos)
    predictors.clear()
    # a model that learnt nothing names about a third (at most the largest class's 12 of 26) of these photos
    assert right / len(photos) >= PREDICTS_MIN_TOP1, f"the served model named {right} of {len(photos)} photos"


def test_train_records_the_training_photos_of_each_class_for_the_species_page(image_tree, tmp_path, settings):
    settings.MODELS_DIR = tmp_path / "models"
    run = tmp_path / "run-counts"
    call_command("train", **recipes.tiny(data=image_tree, output=run), stdout=StringIO())
    splits = resolve_splits(image_tree, split_file=run / "split.json")
    expected = [sum(1 for _, target in splits.train if target == k) for k in range(3)]
    assert sum(expected) == len(splits.train) and all(expected)
    assert ModelVersion.objects.get(name="run-counts").metrics["train_counts"] == expected
