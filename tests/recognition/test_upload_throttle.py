"""One per-user upload budget (RECOGNITION_UPLOAD_RATE) for the page and the API alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recognition.models import Identification

from .conftest import photo_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_upload_per_hour(settings, fresh_throttles):
    """Allow one upload an hour, starting from a throttle history no other test has touched."""
    settings.RECOGNITION_UPLOAD_RATE = "1/hour"


def _identify(client):
    return client.post(reverse("recognition:identify"), {"images": [photo_of((200, 40, 40))]})


def test_the_form_refuses_uploads_over_the_rate_with_429_and_a_message(user_client, active_model, one_upload_per_hour):
    assert _identify(user_client).status_code == 302
    refused = _identify(user_client)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many uploads: you may start 1/hour identifications" in page and "Try again in" in page
    assert Identification.objects.count() == 1  # the refused photos were not stored


def _api(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_api_upload_uses_up_the_form_budget(user_client, user, active_model, one_upload_per_hour):
    assert _api(user).post("/api/identifications/", {"images": [photo_of((30, 200, 40))]}).status_code == 202
    assert _identify(user_client).status_code == 429


def test_a_form_upload_uses_up_the_api_budget(user_client, user, active_model, one_upload_per_hour):
    assert _identify(user_client).status_code == 302
    refused = _api(user).post("/api/identifications/", {"images": [photo_of((30, 200, 40))]})
    assert refused.status_code == 429, refused.json()
    assert Identification.objects.count() == 1
