"""The training consent: off by default, shown and saved where feedback is given (page and API)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from recognition.models import Identification
from recognition.selectors import shares_confirmed_photos
from recognition.tokens import create_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def done(user):
    identification = Identification.objects.create(owner=user, status="done")
    identification.candidates.create(rank=1, label="rosa_canina", display_name="Rosa canina", probability=0.8)
    return identification


def test_consent_is_off_by_default(user):
    assert shares_confirmed_photos(user) is False


def test_the_result_page_shows_the_consent_unchecked_beside_the_feedback(user_client, done):
    html = user_client.get(f"/identifications/{done.public_id}/").content.decode()
    form = html[html.index('id="feedback"') :]
    assert "Let confirmed photos improve the model" in form
    assert 'name="share" id="id_share" value="on">' in form  # not checked


def test_feedback_with_the_box_ticked_records_consent_and_unticked_withdraws_it(user_client, user, done):
    user_client.post(f"/identifications/{done.public_id}/feedback/", {"label": "rosa_canina", "share": "on"})
    assert shares_confirmed_photos(user) is True
    assert (
        "checked"
        in user_client.get(f"/identifications/{done.public_id}/").content.decode().split('id="id_share"')[1][:40]
    )
    user_client.post(f"/identifications/{done.public_id}/feedback/", {"label": "rosa_canina"})
    assert shares_confirmed_photos(user) is False


def test_api_feedback_sets_consent_only_when_share_is_given(user, done):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user, 'test')[1]}")
    url = f"/api/identifications/{done.public_id}/feedback/"
    assert api.post(url, {"label": "rosa_canina", "share": True}, format="json").status_code == 200
    assert shares_confirmed_photos(user) is True
    api.post(url, {"species": "Rosa rugosa"}, format="json")
    assert shares_confirmed_photos(user) is True  # left out: unchanged
    api.post(url, {"label": "rosa_canina", "share": False}, format="json")
    assert shares_confirmed_photos(user) is False
