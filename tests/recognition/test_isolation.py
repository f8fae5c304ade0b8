"""Nobody reaches another user's identification or photo: every page, API route and photo URL is 404."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from recognition.models import Identification
from recognition.tokens import create_token

from .conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim(client, user, active_model, media_root):
    """An identification of ``user`` with one stored photo."""
    client.force_login(user)
    client.post(reverse("recognition:identify"), {"images": [upload()]})
    client.logout()
    identification = Identification.objects.get()
    identification.candidates.create(rank=1, label="rosa_canina", display_name="Rosa canina", probability=0.9)
    Identification.objects.filter(pk=identification.pk).update(status="done")
    return identification


def test_pages_and_photo_urls_of_another_user_are_404(client, other_user, victim):
    client.force_login(other_user)
    photo = victim.photos.get()
    pk = victim.public_id
    for name, args in [
        ("detail", [pk]),
        ("status", [pk]),
        ("delete", [pk]),
        ("photo", [pk, photo.pk, "original"]),
        ("photo", [pk, photo.pk, "thumbnail"]),
    ]:
        assert client.get(reverse(f"recognition:{name}", args=args)).status_code == 404, name
    assert client.post(reverse("recognition:delete", args=[pk])).status_code == 404
    assert client.post(reverse("recognition:feedback", args=[pk]), {"species": "Quercus robur"}).status_code == 404
    assert client.get(f"/media/{photo.file.name}").status_code == 404
    assert client.get(f"/identifications/{victim.pk}/").status_code == 404  # the old numbered URL too
    assert "Rosa canina" not in client.get(reverse("recognition:history")).content.decode()
    victim.refresh_from_db()
    assert victim.feedback == "" and photo.file.storage.exists(photo.file.name)


def test_api_routes_of_another_user_are_404(other_user, victim):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(other_user, 'test')[1]}")
    base = f"/api/identifications/{victim.public_id}/"
    photo = victim.photos.get()
    assert api.get(base).status_code == 404
    assert api.delete(base).status_code == 404
    assert api.post(base + "feedback/", {"species": "Quercus robur"}, format="json").status_code == 404
    assert api.get(f"{base}photos/{photo.pk}/original/").status_code == 404
    assert api.get(f"{base}photos/{photo.pk}/thumbnail/").status_code == 404
    assert api.get(f"/api/identifications/{victim.pk}/").status_code == 404  # the old numbered address too
    assert api.get("/api/identifications/").json()["count"] == 0
    assert api.get("/api/identifications/", {"species": "rosa"}).json()["count"] == 0
    assert Identification.objects.filter(pk=victim.pk, feedback_text="").exists()
