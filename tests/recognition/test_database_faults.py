"""Uploads when the database drops the connection mid-request (PostgreSQL terminating it, as a restart does)."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.models.signals import pre_save
from django.urls import reverse

from recognition.models import Identification, IdentificationPhoto

from .conftest import stored_files, upload

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/identifications/"


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("terminating a database connection needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


@pytest.fixture
def terminate_before_photo_insert():
    """Terminate the request's database connection just before a photo row is inserted, ``times`` times."""
    state = {"left": 0, "done": 0}
    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "dbname": db["NAME"]}

    def terminate(sender, instance, **kwargs):
        if state["left"] <= 0:
            return
        state["left"] -= 1
        state["done"] += 1
        backend = connection.connection.info.backend_pid
        with psycopg.connect(**dsn, password=db["PASSWORD"] or None, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (backend,))

    pre_save.connect(terminate, sender=IdentificationPhoto, weak=False)
    yield state
    pre_save.disconnect(terminate, sender=IdentificationPhoto)


def test_an_upload_survives_one_dropped_connection_and_is_stored_once(
    postgresql, api, user, active_model, terminate_before_photo_insert, settings
):
    terminate_before_photo_insert["left"] = 1
    before = stored_files(settings.MEDIA_ROOT)
    response = api.post(LIST, {"images": [upload()]}, format="multipart")
    assert terminate_before_photo_insert["done"] == 1
    assert response.status_code == 202, response.content
    assert list(Identification.objects.filter(owner=user).values_list("public_id", flat=True)) == [
        UUID(response.json()["id"])
    ]
    assert IdentificationPhoto.objects.filter(identification__owner=user).count() == 1
    # the photo and its thumbnail; the failed try left none
    assert len(set(stored_files(settings.MEDIA_ROOT)) - set(before)) == 2


def test_a_database_that_keeps_dropping_gets_a_clear_503_and_stores_nothing(
    postgresql, api, user, active_model, terminate_before_photo_insert, settings
):
    terminate_before_photo_insert["left"] = 2
    before = stored_files(settings.MEDIA_ROOT)
    response = api.post(LIST, {"images": [upload()]}, format="multipart")
    assert terminate_before_photo_insert["done"] == 2
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == {"message": "the database did not answer: try again in a minute"}
    assert not Identification.objects.filter(owner=user).exists()
    assert stored_files(settings.MEDIA_ROOT) == before


def test_the_upload_page_says_so_when_the_database_keeps_dropping(
    postgresql, user_client, user, active_model, terminate_before_photo_insert
):
    terminate_before_photo_insert["left"] = 2
    response = user_client.post(reverse("recognition:identify"), {"images": [upload()]})
    assert response.status_code == 503
    assert "The database did not answer, so nothing was stored" in response.content.decode()
    assert not Identification.objects.filter(owner=user).exists()
