"""API tokens: hashed, expiring, several per user, one check for the header and ``?api-key=``, revoked with
the password or the account."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from recognition.models import ApiToken
from recognition.tokens import create_token

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "New-Frond-5150"


def _api_status(key: str) -> int:
    """Return the status of listing identifications with ``Authorization: Token key``."""
    return APIClient().get("/api/identifications/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def _plantnet_status(key: str) -> int:
    """Return the status of /v2/projects with ``?api-key=key``."""
    return APIClient().get("/v2/projects", {"api-key": key}).status_code


def test_a_new_token_works_in_the_header_and_as_api_key(user):
    _, secret = create_token(user, "garden camera")
    assert _api_status(secret) == 200
    assert _plantnet_status(secret) == 200


def test_the_database_keeps_a_hash_of_the_token_not_the_token(user):
    token, secret = create_token(user, "garden camera")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())
    assert stored["token_key"] == secret[:15]  # the lookup prefix only


def test_a_token_expires_after_the_lifetime_chosen(user):
    token, secret = create_token(user, "one week", days=7)
    assert timedelta(days=6, hours=23) < token.expiry - timezone.now() <= timedelta(days=7)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = APIClient().get("/api/identifications/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 401 and "/api-token/" in response.json()["message"]
    assert _plantnet_status(secret) == 401


def test_the_default_lifetime_is_the_api_token_days_setting(user, settings):
    settings.API_TOKEN_DAYS = 30
    token, _ = create_token(user, "default")
    assert timedelta(days=29, hours=23) < token.expiry - timezone.now() <= timedelta(days=30)


def test_each_of_several_named_tokens_works_and_revoking_one_leaves_the_other(user):
    first, first_secret = create_token(user, "camera")
    _, second_secret = create_token(user, "script")
    first.delete()
    assert _api_status(first_secret) == 401
    assert _api_status(second_secret) == 200


@pytest.mark.parametrize("key", ["\x00x", "x" * 64, "é" * 40, "0" * 63 + "\x00", "f" * 200])
def test_a_key_that_cannot_be_a_token_is_refused_as_invalid_before_any_query(key, django_assert_num_queries):
    # PostgreSQL refuses a NUL in a query with an error (once a 500 here): such keys never reach the database
    with django_assert_num_queries(0):
        assert _plantnet_status(key) == 401
    assert _api_status(key) == 401


def test_an_inactive_users_token_is_refused(user):
    _, secret = create_token(user, "camera")
    user.is_active = False
    user.save()
    assert _api_status(secret) == 401


def test_changing_the_password_revokes_the_tokens(client, user):
    _, secret = create_token(user, "camera")
    client.force_login(user)
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(reverse("password_change"), data).status_code == 302
    assert _api_status(secret) == 401 and not ApiToken.objects.filter(user=user).exists()


def test_resetting_the_password_revokes_the_tokens(client, user, mailoutbox):
    _, secret = create_token(user, "camera")
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert client.login(
        request=HttpRequest(), username=user.username, password=NEW_PASSWORD
    )  # django-axes needs a request
    assert _api_status(secret) == 401


def test_a_password_hash_upgrade_at_login_keeps_the_tokens(client, user, settings):
    # check_password re-hashes with the first hasher when it differs: not a change of password
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher", *settings.PASSWORD_HASHERS]
    _, secret = create_token(user, "camera")
    old_hash = user.password
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)  # django-axes needs a request
    user.refresh_from_db()
    assert user.password != old_hash and _api_status(secret) == 200


def test_deleting_the_account_deletes_its_tokens(client, user):
    _, secret = create_token(user, "camera")
    client.force_login(user)
    assert client.post(reverse("account_delete"), {"password": PASSWORD}).status_code == 302
    assert not ApiToken.objects.exists() and _api_status(secret) == 401


def test_the_migration_hashes_drf_plain_tokens_so_their_keys_keep_working(user, settings):
    plain = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex digits
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [plain, timezone.now(), user.pk])
    migration = importlib.import_module("recognition.migrations.0008_move_plain_tokens")
    migration.hash_plain_tokens(apps, SimpleNamespace(connection=connection))  # all it reads of a schema editor

    moved = ApiToken.objects.get(user=user)
    assert moved.digest != plain and moved.expiry > timezone.now() + timedelta(days=settings.API_TOKEN_DAYS - 1)
    assert _api_status(plain) == 200 and _plantnet_status(plain) == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # the plain keys are gone
