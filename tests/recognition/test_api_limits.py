"""Django's own request limits answer a JSON 400 that names the limit, never a 500."""

from __future__ import annotations

import pytest

from recognition.models import Identification

from .conftest import upload

pytestmark = pytest.mark.django_db
LIST = "/api/identifications/"


def test_more_files_than_django_allows_is_a_400_naming_the_limit(api, active_model, settings):
    files = [upload(name=f"p{i}.jpg") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = api.post(LIST, {"images": files}, format="multipart")
    assert response.status_code == 400
    assert "more than 100 files" in response.json()["message"]
    assert not Identification.objects.exists()


def test_more_fields_than_django_allows_is_a_400_naming_the_limit(api, active_model, settings):
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api.post(LIST, {**fields, "images": [upload()]}, format="multipart")
    assert response.status_code == 400
    assert "more than 1000 fields" in response.json()["message"]


def test_an_oversized_form_body_is_a_413_saying_to_send_files(api, active_model, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(LIST, "organs=" + "x" * 2000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "multipart files" in response.json()["message"]
