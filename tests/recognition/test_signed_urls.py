"""Signed image URLs open one image, as its user, without a key, until they expire; not another image."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.urls import reverse

from recognition.api.signed_urls import sign_url
from recognition.models import Identification

from .conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def identification(client, user, active_model, media_root):
    """An identification of ``user`` with two stored photos (the client is signed out again)."""
    client.force_login(user)
    client.post(reverse("recognition:identify"), {"images": [upload(name="a.jpg"), upload(name="b.jpg")]})
    client.logout()
    return Identification.objects.get()


def photo_path(identification, photo, kind: str = "original") -> str:
    return reverse("api:identification-photo", args=[identification.public_id, photo.pk, kind])


def test_a_signed_photo_url_opens_without_a_key(client, user, identification):
    photo = identification.photos.first()
    response = client.get(sign_url(photo_path(identification, photo), user))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_the_same_photo_url_without_its_signature_is_refused(client, identification):
    assert client.get(photo_path(identification, identification.photos.first())).status_code in (401, 403)


def test_a_signature_does_not_open_another_photo(client, user, identification):
    first, second = identification.photos.order_by("pk")
    signature = sign_url(photo_path(identification, first), user).split("?", 1)[1]
    response = client.get(f"{photo_path(identification, second)}?{signature}")
    assert response.status_code == 401  # a failed credential: 401 with WWW-Authenticate, as a bad token
    assert "not valid for this image" in response.json()["message"]


def test_a_signature_for_another_user_does_not_open_the_photo(client, other_user, identification):
    photo = identification.photos.first()
    assert client.get(sign_url(photo_path(identification, photo), other_user)).status_code == 404


def test_an_expired_signature_is_refused(client, user, identification, settings, monkeypatch):
    settings.RECOGNITION_IMAGE_URL_SECONDS = 60
    photo = identification.photos.first()
    with monkeypatch.context() as past:
        signed_at = time.time() - 61
        past.setattr(signing.time, "time", lambda: signed_at)
        url = sign_url(photo_path(identification, photo), user)
    response = client.get(url)
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_a_signed_reference_photo_url_opens_without_a_key(client, user, species_model):
    path = reverse("api:reference-photo", args=[species_model.pk, 0, 1])
    assert client.get(path).status_code in (401, 403)
    response = client.get(sign_url(path, user))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
