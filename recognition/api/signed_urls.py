"""Image URLs that open as given (in an ``<img src>``), for a limited time, without the user's key.

A signed URL carries ``?sig=``: the user's id, signed with the site's secret key, a timestamp and the URL's
path (part of the signature's salt), so that it opens that one image as that user, until it expires, and
no other image. The photo views accept it as an authentication of their own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

PARAMETER = "sig"


def _signer(path: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"plantsite.image-url:{path}")


def sign_url(url: str, user: Any) -> str:
    """Return ``url`` (absolute or a path, without a query) with a signature that opens it as ``user`` for a while."""
    return f"{url}?{PARAMETER}={_signer(urlsplit(url).path).sign(str(user.pk))}"


def signed_user(path: str, signature: str) -> Any:
    """Return the active user a signature for ``path`` names, or raise AuthenticationFailed saying why not."""
    try:
        user_pk = _signer(path).unsign(signature, max_age=settings.RECOGNITION_IMAGE_URL_SECONDS)
    except signing.SignatureExpired:
        raise exceptions.AuthenticationFailed(
            "This image link has expired: identify again (or add ?api-key=) for a fresh one"
        ) from None
    except signing.BadSignature:
        raise exceptions.AuthenticationFailed("This image link is not valid for this image") from None
    user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
    if user is None:
        raise exceptions.AuthenticationFailed("This image link's account no longer exists")
    return user


class SignedUrlAuthentication(BaseAuthentication):
    """Authenticates a request for an image by the ``sig`` of its signed URL (see ``sign_url``)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        signature = request.query_params.get(PARAMETER, "")
        if not signature:
            return None
        return signed_user(request.path, signature), None


class SignedUrlScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes ``sig`` in the OpenAPI schema: the signature of an image URL that a /v2/ answer gave."""

    target_class = SignedUrlAuthentication
    name = "signedUrl"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": PARAMETER}
