"""API tokens (django-rest-knox): several named ones per user, stored as hashes, each with an expiry.

One check serves the REST API's ``Authorization: Token KEY`` header and Pl@ntNet's ``?api-key=KEY``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from rest_framework import exceptions

from .models import ApiToken

AnyUser = AbstractBaseUser | AnonymousUser  # request.user; the pages call these for signed-in users only

# knox's tokens are 64 hex digits; the plain DRF tokens that migration 0008 hashed are 40.
KEY_PATTERN = re.compile(r"[0-9a-f]{40,64}")
DIGEST_PATTERN = re.compile(r"[0-9a-f]{128}")  # knox's SHA-512 hex digest, the primary key
INVALID = "Invalid or expired token: create one on the API token page (/api-token/)"


def create_token(user: AnyUser, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token named ``name`` that expires in ``days`` (default API_TOKEN_DAYS); return it and its secret.

    The secret exists only in this return value: the database keeps its hash.
    """
    lifetime = timedelta(days=days or settings.API_TOKEN_DAYS)
    return cast(tuple[ApiToken, str], ApiToken.objects.create(user=user, expiry=lifetime, name=name))


def live_tokens(user: AnyUser) -> QuerySet[ApiToken]:
    """Return the user's tokens that have not expired, newest first (deleting the expired ones)."""
    ApiToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    live: QuerySet[ApiToken] = ApiToken.objects.filter(user=user)
    return live


def revoke_token(user: AnyUser, digest: str) -> bool:
    """Delete the user's token with this digest; return False when the user has no such token."""
    if not DIGEST_PATTERN.fullmatch(digest):
        return False
    deleted, _ = ApiToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)


def revoke_all(user: AnyUser) -> int:
    """Delete every token of the user; return how many there were."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return int(deleted)


def authenticate_key(key: str, invalid_message: str = INVALID) -> tuple[AbstractBaseUser, ApiToken]:
    """Return (user, token) for a live token of an active user; raise AuthenticationFailed(``invalid_message``).

    A key that cannot be a token (wrong length, not hex, a NUL) is refused before any query.
    """
    if not KEY_PATTERN.fullmatch(key):
        raise exceptions.AuthenticationFailed(invalid_message)
    try:
        user_and_token = knox_auth.TokenAuthentication().authenticate_credentials(key.encode())
    except exceptions.AuthenticationFailed:
        raise exceptions.AuthenticationFailed(invalid_message) from None
    return cast(tuple[AbstractBaseUser, ApiToken], user_and_token)


class TokenAuthentication(knox_auth.TokenAuthentication):  # type: ignore[misc]  # knox has no type information
    """``Authorization: Token KEY`` checked against the stored hashes (a 401 that says what to do otherwise)."""

    def authenticate_credentials(self, token: bytes) -> tuple[AbstractBaseUser, ApiToken]:
        # latin-1 maps every byte: a header that is not UTF-8 is an invalid key, not a 500
        return authenticate_key(token.decode("latin-1"))


class TokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]  # drf-spectacular has no type information
    """Describes the ``Authorization: Token KEY`` header in the OpenAPI schema."""

    target_class = "recognition.tokens.TokenAuthentication"
    name = "tokenAuth"


class RevokeApiTokensOnPasswordChange:
    """Not a password rule: Django calls ``password_changed`` after each change, which revokes the API tokens."""

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        return None

    def password_changed(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if user is not None and user.pk is not None:
            revoke_all(user)

    def get_help_text(self) -> str:
        return _("Changing your password revokes your API tokens.")
