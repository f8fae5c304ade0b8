"""The REST API with token auth: upload -> real worker -> done, listing, feedback, delete, errors as JSON."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from recognition.models import Identification

from .conftest import image_bytes, photo_of, stored_files, upload, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/identifications/"


def _done(user, model, name="Rosa canina"):
    identification = Identification.objects.create(owner=user, status="done", model_version=model, outcome="identified")
    identification.candidates.create(rank=1, label=name.lower().replace(" ", "_"), display_name=name, probability=0.8)
    identification.candidates.create(rank=2, label="bellis_perennis", display_name="Bellis perennis", probability=0.2)
    return identification


def test_upload_returns_202_and_a_worker_answers_with_sorted_predictions(api, active_model, module_worker):
    response = api.post(LIST, {"images": [photo_of((230, 200, 30))], "organs": ["flower"]}, format="multipart")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["url"].endswith(f"/api/identifications/{body['id']}/")

    wait_until_finished(body["id"])
    result = api.get(body["url"]).json()
    assert result["status"] == "done", result["error"]
    probabilities = [c["probability"] for c in result["candidates"]]
    assert probabilities == sorted(probabilities, reverse=True) and len(probabilities) == active_model.num_classes
    assert [c["rank"] for c in result["candidates"]] == [1, 2, 3]
    assert result["model_version"] == active_model.name
    assert result["photos"][0]["organ"] == "flower"
    assert api.get(result["photos"][0]["url"]).status_code == 200


def test_without_an_active_model_the_api_answers_503_with_the_message(api, media_root):
    from ml.versions import NO_ACTIVE_MODEL

    response = api.post(LIST, {"images": [upload()]}, format="multipart")
    assert response.status_code == 503 and response.json()["message"] == NO_ACTIVE_MODEL
    assert api.get("/api/models/active/").json() == {"message": NO_ACTIVE_MODEL}
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_active_model_describes_the_live_version(api, active_model):
    body = api.get("/api/models/active/").json()
    assert body["name"] == active_model.name and body["num_classes"] == 3


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "at least one photo"),
        ([upload(b"", name="e.jpg")], "empty"),
        ([upload(b"plain text", name="t.jpg")], "not an image"),
        ([upload(image_bytes("PNG", size=(1, 6000)), name="strip.png")], "1 x 6000 pixels"),
    ],
)
def test_bad_uploads_get_a_json_message_and_store_nothing(api, active_model, media_root, files, message):
    response = api.post(LIST, {"images": files}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_list_is_paginated_and_filters_by_status_and_species(api, user, active_model):
    rose, daisy = _done(user, active_model), _done(user, active_model, "Bellis perennis")
    Identification.objects.create(owner=user, status="failed", error="x")
    body = api.get(LIST).json()
    assert body["count"] == 3 and "results" in body
    assert [i["id"] for i in api.get(LIST, {"status": "done"}).json()["results"]] == [
        str(daisy.public_id),
        str(rose.public_id),
    ]
    assert [i["id"] for i in api.get(LIST, {"species": "rosa"}).json()["results"]] == [str(rose.public_id)]
    assert "unknown status" in api.get(LIST, {"status": "weird"}).json()["message"]


def test_feedback_and_delete(api, user, active_model):
    identification = _done(user, active_model)
    url = f"{LIST}{identification.public_id}/"
    assert api.post(url + "feedback/", {"label": "rosa_canina"}, format="json").json()["feedback"] == "Rosa canina"
    assert api.post(url + "feedback/", {"species": "Rosa rugosa"}, format="json").json()["feedback"] == "Rosa rugosa"
    assert "candidates" in api.post(url + "feedback/", {"label": "quercus_robur"}, format="json").json()["message"]
    answered = api.post(url + "feedback/", {"verdict": "none_of_these"}, format="json").json()
    assert answered["feedback_verdict"] == "none_of_these" and answered["feedback"] == ""
    refused = api.post(url + "feedback/", {"verdict": "not_a_plant", "species": "Rosa rugosa"}, format="json")
    assert refused.status_code == 400 and "not a plant" in refused.json()["message"]
    assert "Unknown answer" in api.post(url + "feedback/", {"verdict": "weed"}, format="json").json()["message"]
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["message"] == "No Identification matches the given query."


def test_candidates_keep_their_probability_and_add_their_certainty_in_words(api, user, active_model):
    identification = _done(user, active_model)
    candidates = api.get(f"{LIST}{identification.public_id}/").json()["candidates"]
    assert [(c["probability"], c["certainty"]) for c in candidates] == [(0.8, "likely"), (0.2, "unlikely")]


def test_unauthenticated_requests_get_a_json_error(client):
    response = client.get(LIST)
    assert response.status_code in (401, 403) and "credentials" in response.json()["message"]


def test_uploads_are_throttled_per_user(api, other_user, active_model, settings):
    settings.RECOGNITION_UPLOAD_RATE = "1/hour"
    assert api.post(LIST, {"images": [photo_of((200, 40, 40))]}, format="multipart").status_code == 202
    response = api.post(LIST, {"images": [photo_of((40, 200, 40))]}, format="multipart")
    assert response.status_code == 429 and "throttled" in response.json()["message"]
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.post(LIST, {"images": [photo_of((40, 40, 200))]}, format="multipart").status_code == 202
    assert Identification.objects.count() == 2  # the refused upload stored nothing


def test_schema_and_offline_docs_are_served(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/identifications/{id}/feedback/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


def test_identifications_are_addressed_by_a_random_public_id(api, user, active_model):
    first, second = _done(user, active_model), _done(user, active_model)
    listed = api.get(LIST).json()["results"]
    assert {item["id"] for item in listed} == {str(first.public_id), str(second.public_id)}
    assert all(item["url"].endswith(f"/api/identifications/{item['id']}/") for item in listed)
    assert str(first.pk) not in {item["id"] for item in listed}


def test_an_old_numbered_address_sends_its_owner_on_with_the_method_kept(api, user, active_model):
    identification = _done(user, active_model)
    moved = api.get(f"{LIST}{identification.pk}/?lang=en")
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"http://testserver{LIST}{identification.public_id}/?lang=en"
    assert api.delete(f"{LIST}{identification.pk}/").status_code == 308  # a redirected DELETE stays a DELETE
    assert Identification.objects.filter(pk=identification.pk).exists()
    assert api.delete(moved.headers["Location"]).status_code == 204


def test_a_number_too_big_for_an_id_is_a_404(api):
    assert api.get(f"{LIST}{'9' * 18}/").status_code == 404
    assert api.get(f"{LIST}{'9' * 32}/").status_code == 404  # read as a UUID without hyphens
    assert api.get(f"{LIST}{'9' * 300}/").status_code == 404
