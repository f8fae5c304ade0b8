"""Uploads when a part is down: a dead broker loses nothing, a missing model file refuses with a 503."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from recognition.models import Identification

from .conftest import stored_files, upload
from .test_queueing import broker_down  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
LIST = "/api/identifications/"


def test_with_the_broker_down_an_upload_is_accepted_at_once_and_kept_for_the_sweeper(
    api,
    active_model,
    broker_down,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = api.post(LIST, {"images": [upload()]}, format="multipart")
    assert len(queued) == 1  # the enqueue ran, and failed
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert time.monotonic() - started < 5
    identification = Identification.objects.get(public_id=response.json()["id"])
    assert identification.queued is None and identification.photos.count() == 1


def test_an_active_model_whose_file_is_gone_refuses_api_uploads_with_a_503(api, active_model, media_root):
    Path(active_model.checkpoint_path).unlink()
    response = api.post(LIST, {"images": [upload()]}, format="multipart")
    assert response.status_code == 503 and "is missing" in response.json()["message"]
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_an_active_model_whose_file_is_gone_refuses_page_uploads_with_a_503(user_client, active_model, media_root):
    Path(active_model.checkpoint_path).unlink()
    response = user_client.post("/identify/", {"images": [upload()]})
    assert response.status_code == 503 and "is missing" in response.content.decode()
    assert not Identification.objects.exists()
