"""The API token page: lists the user's named tokens, creates one (its secret shown once), revokes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition.models import ApiToken
from recognition.tokens import create_token

pytestmark = pytest.mark.django_db
URL = reverse("recognition:api_token")


def _create(client, name: str = "garden camera", days: int = 30):
    return client.post(URL, {"action": "create", "name": name, "days": days})


def test_creating_a_token_shows_its_secret_once_and_lists_it_by_name(user_client, user):
    response = _create(user_client)
    assert response.status_code == 200
    secret = response.context["secret"]
    token = ApiToken.objects.get(user=user)
    assert secret in response.content.decode() and token.name == "garden camera"
    later = user_client.get(URL).content.decode()
    assert secret not in later and "garden camera" in later and token.token_key[:8] in later


def test_the_lifetime_chosen_sets_the_expiry(user_client, user):
    _create(user_client, days=7)
    expiry = ApiToken.objects.get(user=user).expiry
    assert timedelta(days=6, hours=23) < expiry - timezone.now() <= timedelta(days=7)


def test_the_lifetime_offered_by_default_is_the_api_token_days_setting(user_client, settings):
    settings.API_TOKEN_DAYS = 45
    form = user_client.get(URL).context["form"]
    assert form["days"].value() == 45 and 45 in dict(form.fields["days"].choices)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "days": 30}, "name"),
        ({"name": "x", "days": 3650}, "days"),
        ({"name": "x\x00", "days": 30}, "name"),
    ],
)
def test_a_token_without_a_name_or_with_an_unoffered_lifetime_is_refused(user_client, data, field):
    response = user_client.post(URL, {"action": "create", **data})
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_a_user_may_hold_several_tokens_up_to_the_limit(user_client, user, settings):
    settings.API_TOKEN_LIMIT = 2
    _create(user_client, "camera")
    _create(user_client, "script")
    response = _create(user_client, "third")
    assert response.status_code == 400 and "revoke one first" in response.content.decode()
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["camera", "script"]


def test_revoking_deletes_only_that_token(user_client, user):
    camera, _ = create_token(user, "camera")
    create_token(user, "script")
    user_client.post(URL, {"action": "revoke", "digest": camera.digest})
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["script"]


@pytest.mark.parametrize("digest", ["someone else's", "\x00", "f" * 128])
def test_revoking_another_users_or_no_token_changes_nothing(user_client, other_user, digest):
    theirs, _ = create_token(other_user, "theirs")
    response = user_client.post(
        URL, {"action": "revoke", "digest": theirs.digest if digest == "someone else's" else digest}
    )
    assert response.status_code == 302 and ApiToken.objects.filter(pk=theirs.pk).exists()


def test_revoke_all_deletes_every_token_of_the_user_only(user_client, user, other_user):
    create_token(user, "camera")
    create_token(user, "script")
    create_token(other_user, "theirs")
    user_client.post(URL, {"action": "revoke_all"})
    assert list(ApiToken.objects.values_list("user", flat=True)) == [other_user.pk]


def test_expired_tokens_are_not_listed(user_client, user):
    token, _ = create_token(user, "old camera")
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    assert "old camera" not in user_client.get(URL).content.decode()
