"""The claim that matters: a model trained here names a class-k photo as class k, through the page and the API.

Trained in this session (tf_efficientnet_lite0's head on a flowers5 subset, or on separable generated
colours when ../shared/datasets is absent), checked on held-out photos, registered and activated; then
a real prefork worker answers uploads made through the identify page and the REST API.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from recognition.models import Identification
from tests.conftest import DATASETS

from .conftest import wait_until_finished
from .trained_model import (
    FLOWERS5_MIN_TOP1,
    GENERATED_MIN_TOP1,
    TrainedModel,
    flowers5_subset,
    generated_tree,
    held_out_photos,
    score_held_out,
    train_head,
)

# the session's training counts against the first test: allow it on a busy 2-core machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> TrainedModel:
    """A lite0 head trained once per session; flowers5 photos when present, else generated colours."""
    root = tmp_path_factory.mktemp("trained")
    if (DATASETS / "flowers5" / "train").is_dir():
        data, min_top1, source = flowers5_subset(DATASETS / "flowers5", root / "data"), FLOWERS5_MIN_TOP1, "flowers5"
    else:
        data, min_top1, source = generated_tree(root / "data"), GENERATED_MIN_TOP1, "generated"
    checkpoint = train_head(data, root / "run")
    top1, examples = score_held_out(checkpoint, held_out_photos(data))
    return TrainedModel(checkpoint, top1, min_top1, examples, source)


@pytest.fixture
def active_trained(trained_model, settings, tmp_path):
    """The trained checkpoint registered and active in this test's database."""
    from ml import registry

    settings.MODELS_DIR = tmp_path / "models"
    return registry.register_checkpoint(trained_model.checkpoint, name=f"trained-{uuid.uuid4().hex[:8]}", activate=True)


def _photo_of_class(trained_model: TrainedModel, label: str) -> SimpleUploadedFile:
    path = trained_model.examples[label]
    assert path is not None, f"the trained model names no held-out {label} photo {label}"
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def test_the_trained_model_reaches_its_held_out_top1(trained_model):
    top1 = trained_model.top1
    assert top1 >= trained_model.min_top1, f"held-out top-1 {top1:.2f} on {trained_model.source} photos"


@pytest.mark.django_db(transaction=True)
def test_the_identify_page_names_each_class(trained_model, active_trained, user_client, module_worker):
    for label in trained_model.examples:
        response = user_client.post(
            reverse("recognition:identify"), {"images": [_photo_of_class(trained_model, label)]}
        )
        assert response.status_code == 302, response.content.decode()[:500]
        identification = wait_until_finished(Identification.objects.latest("pk").pk)
        assert identification.status == "done", identification.error
        assert identification.candidates.order_by("rank").first().label == label
        page = user_client.get(response["Location"]).content.decode()
        assert 'data-status="done"' in page and label in page


@pytest.mark.django_db(transaction=True)
def test_the_api_names_each_class(trained_model, active_trained, user, module_worker):
    api = APIClient()
    api.force_authenticate(user)
    for label in trained_model.examples:
        created = api.post("/api/identifications/", {"images": [_photo_of_class(trained_model, label)]})
        assert created.status_code == 202, created.json()
        url = f"/api/identifications/{created.json()['id']}/"
        deadline = time.monotonic() + 90
        while (body := api.get(url).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, f"{url} still {body['status']}"
            time.sleep(0.3)
        assert body["status"] == "done", body
        assert body["candidates"][0]["label"] == label
