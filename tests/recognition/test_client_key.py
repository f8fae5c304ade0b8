"""Idempotent uploads: the same ``client_key`` sent twice by one user (a waiting batch sent again after its answer
was lost) starts one identification, answers both times as if accepted and counts once against the upload rate."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from recognition import services
from recognition.models import Identification
from recognition.validators import prepare_uploads

from .conftest import photo_of, stored_files

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/identifications/"


def _page_post(client, key, color=(20, 160, 40), json=True):
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    data = {"images": [photo_of(color)], "organs": ["leaf"], "client_key": key}
    return client.post(reverse("recognition:identify"), data, **headers)


def test_the_page_sent_one_key_twice_stores_one_identification(user_client, active_model, fresh_throttles, settings):
    settings.RECOGNITION_UPLOAD_RATE = "1/hour"  # the repeat is no new upload: it is not refused as one
    key = str(uuid.uuid4())
    first = _page_post(user_client, key)
    again = _page_post(user_client, key, color=(200, 40, 40))
    plain_again = _page_post(user_client, key, json=False)
    identification = Identification.objects.get()
    url = reverse("recognition:detail", args=[identification.public_id])
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"url": url}
    assert plain_again.status_code == 302 and plain_again["Location"] == url
    assert str(identification.client_key) == key and identification.photos.count() == 1
    # the rate of 1 was spent by the first upload only: a new key is refused, the repeats were not counted
    assert _page_post(user_client, str(uuid.uuid4())).status_code == 429


def test_the_api_sent_one_key_twice_answers_202_with_the_same_identification(api, active_model, settings):
    settings.RECOGNITION_UPLOAD_RATE = "1/hour"
    key = str(uuid.uuid4())
    first = api.post(LIST, {"images": [photo_of((230, 200, 30))], "client_key": key}, format="multipart")
    again = api.post(LIST, {"images": [photo_of((30, 200, 230))], "client_key": key}, format="multipart")
    assert first.status_code == again.status_code == 202, again.json()
    assert first.json()["id"] == again.json()["id"] and first["Location"] == again["Location"]
    assert Identification.objects.count() == 1
    other = api.post(LIST, {"images": [photo_of((30, 30, 230))], "client_key": str(uuid.uuid4())}, format="multipart")
    assert other.status_code == 429


def test_keys_are_per_user(user_client, user, other_user, active_model, fresh_throttles):
    key = uuid.uuid4()
    services.create_identification(other_user, prepare_uploads([photo_of((1, 2, 3))]), client_key=key)
    assert _page_post(user_client, str(key)).status_code == 201
    assert sorted(Identification.objects.values_list("owner", flat=True)) == sorted([other_user.pk, user.pk])


@pytest.mark.parametrize("key", ["not-a-uuid", "1234", "0f8fad5b-d9cb-469f-a165-70867728950"])
def test_a_key_that_is_no_uuid_is_a_400_naming_the_field(user_client, api, active_model, media_root, key):
    page = _page_post(user_client, key)
    assert page.status_code == 400 and "client_key" in page.json()["errors"][0]
    plain = _page_post(user_client, key, json=False)
    assert plain.status_code == 400 and "client_key" in plain.content.decode()
    response = api.post(LIST, {"images": [photo_of((230, 200, 30))], "client_key": key}, format="multipart")
    assert response.status_code == 400 and "client_key" in response.json()["message"]
    assert not Identification.objects.exists() and not stored_files(media_root)


def test_two_stores_racing_with_one_key_give_the_first_identification(user, active_model, media_root):
    key = uuid.uuid4()
    first = services.create_identification(user, prepare_uploads([photo_of((10, 200, 10))]), client_key=key)
    # the second request looked before the first committed: the database's constraint catches it
    second = services.create_identification(user, prepare_uploads([photo_of((200, 10, 10))]), client_key=key)
    assert second.pk == first.pk and Identification.objects.count() == 1
    assert len(stored_files(media_root)) == 2  # the first's photo and thumbnail: the second stored none
