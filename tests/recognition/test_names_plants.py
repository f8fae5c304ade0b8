"""The claim that matters: a model trained here names a class-k photo as class k, through the page and the API.

Trained in this session (tf_efficientnet_lite0's head on a flowers5 subset, or on separable generated
colours when ../shared/datasets is absent), checked on held-out photos, registered and activated; then
a real prefork worker answers uploads made through the identify page and the REST API.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from recognition.models import Identification
from tests.trained_model import MAX_NONPLANT_ACCEPTED, MIN_NOT_A_PLANT, NONPLANT_UPLOADS, TrainedModel

from .conftest import wait_until_finished

# the session's training counts against the first test: allow it on a busy 2-core machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


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
        assert (body["outcome"], body["reason"]) == ("identified", "")


def _api_answer(user, path) -> dict:
    api = APIClient()
    api.force_authenticate(user)
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
    created = api.post("/api/identifications/", {"images": [upload]})
    assert created.status_code == 202, created.json()
    wait_until_finished(created.json()["id"])
    return api.get(f"/api/identifications/{created.json()['id']}/").json()


def _val_logits(trained_model: TrainedModel) -> tuple[np.ndarray, np.ndarray]:
    """Return the trained network's raw logits and labels on the val split, from a direct forward pass."""
    import torch

    from plantml.predictor import Predictor

    predictor = Predictor.from_checkpoint(trained_model.checkpoint, device="cpu")
    logits, labels = [], []
    for label, folder in enumerate(sorted((trained_model.data / "val").iterdir())):
        assert folder.name == predictor.spec.class_names[label]
        for path in sorted(folder.iterdir()):
            batch = predictor.transform(predictor.open_image(path)).unsqueeze(0)
            with torch.inference_mode():
                logits.append(predictor.model(batch)[0].double().numpy())
            labels.append(label)
    return np.stack(logits), np.asarray(labels)


def _best_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Return the temperature minimising the NLL of softmax(logits / T), by a fine grid search over the range
    fit_temperature allows (generated val photos can be separated perfectly: the optimum is then its lower end)."""
    grid = np.geomspace(0.01, 100.0, 8000)
    scaled = logits[None] / grid[:, None, None]
    scaled = scaled - scaled.max(axis=2, keepdims=True)
    log_probs = scaled - np.log(np.exp(scaled).sum(axis=2, keepdims=True))
    nll = -log_probs[:, np.arange(len(labels)), labels].mean(axis=1)
    return float(grid[nll.argmin()])


def test_training_stored_a_calibration_fitted_on_val(trained_model):
    from plantml.checkpoint import load_checkpoint, spec_of

    calibration = spec_of(load_checkpoint(trained_model.checkpoint)).calibration_info()
    assert calibration.is_calibrated and calibration.plant_probe is not None
    val_photos = sum(1 for path in (trained_model.data / "val").rglob("*") if path.is_file())
    assert calibration.report["val_photos"] == val_photos, "calibration was not fitted on the val photos"
    expected = _best_temperature(*_val_logits(trained_model))
    assert calibration.temperature == pytest.approx(expected, rel=0.03), "temperature not the val photos' optimum"
    assert 0.0 <= calibration.threshold < 1.0


def test_most_held_out_photos_of_no_plant_are_not_identified(trained_model):
    accepted = trained_model.nonplant_accepted
    assert accepted <= MAX_NONPLANT_ACCEPTED, f"{accepted:.0%} of held-out photos of no plant were identified"


@pytest.mark.django_db(transaction=True)
def test_the_api_gives_calibrated_probabilities(trained_model, active_trained, user, module_worker):
    import torch

    from plantml.checkpoint import load_checkpoint, spec_of
    from plantml.predictor import Predictor

    path = next(path for path in trained_model.examples.values() if path is not None)
    body = _api_answer(user, path)
    stored = Identification.objects.get(public_id=body["id"]).photos.get().file.path  # what the worker read
    temperature = spec_of(load_checkpoint(trained_model.checkpoint)).calibration["temperature"]
    network = Predictor.from_checkpoint(trained_model.checkpoint, device="cpu")  # only its model and transform
    with torch.inference_mode():
        logits = network.model(network.transform(network.open_image(stored)).unsqueeze(0))[0].double().numpy()

    def top_probability(t: float) -> float:
        scaled = logits / t
        return float(1.0 / np.exp(scaled - scaled.max()).sum())  # softmax's largest entry

    assert body["candidates"][0]["probability"] == pytest.approx(top_probability(temperature), abs=1e-4)
    assert top_probability(temperature) != pytest.approx(top_probability(1.0), abs=1e-3), "temperature changed nothing"


@pytest.mark.django_db(transaction=True)
def test_a_photo_of_no_plant_is_no_match_not_a_plant(trained_model, active_trained, user, module_worker):
    photos = trained_model.nonplants[:NONPLANT_UPLOADS]  # chosen by folder, not by what the model answers
    bodies = [_api_answer(user, path) for path in photos]
    assert all(body["status"] == "done" for body in bodies), bodies
    not_a_plant = [body for body in bodies if (body["outcome"], body["reason"]) == ("no_match", "not_a_plant")]
    assert len(not_a_plant) >= MIN_NOT_A_PLANT * len(photos), (
        f"only {len(not_a_plant)} of {len(photos)} photos of no plant answered no match / not a plant"
    )
    assert all(len(body["candidates"]) > 0 for body in not_a_plant), "a no-match answer keeps its candidates"


def _plantnet(client, key: str, path, **params) -> tuple[int, dict]:
    """POST one photo to /v2/identify/all as a Pl@ntNet client does (multipart images + organs)."""
    query = "&".join(f"{name}={value}" for name, value in {"api-key": key, **params}.items())
    with path.open("rb") as handle:
        response = client.post(f"/v2/identify/all?{query}", {"images": [handle], "organs": ["auto"]})
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_the_plantnet_api_names_a_flower_and_says_species_not_found_for_no_plant(
    trained_model, active_trained, user, client, module_worker
):
    from recognition.tokens import create_token

    key = create_token(user, "test")[1]
    label, flower = next((label, path) for label, path in trained_model.examples.items() if path is not None)
    code, body = _plantnet(client, key, flower)
    assert code == 200, body
    best = body["results"][0]["species"]["scientificNameWithoutAuthor"]
    assert best == active_trained.display_names[active_trained.class_names.index(label)]
    refused = []
    for photo in trained_model.nonplants[:NONPLANT_UPLOADS]:  # chosen by folder
        code, body = _plantnet(client, key, photo)
        if code == 404:
            assert body == {"statusCode": 404, "error": "Not Found", "message": "Species not found"}
            refused.append(photo)
    assert len(refused) >= MIN_NOT_A_PLANT * NONPLANT_UPLOADS, f"only {len(refused)} photos of no plant refused"
    code, body = _plantnet(client, key, refused[0], **{"no-reject": "true"})
    assert code == 200 and len(body["results"]) > 0
