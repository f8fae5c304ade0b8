"""Pl@ntNet-style authentication: the ``api-key`` query parameter is the user's API token."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates the ``api-key`` query parameter as the user's API token, as Pl@ntNet clients send it."""

    def authenticate(self, request):
        key = request.query_params.get("api-key", "").strip()
        if not key:
            return None
        token = Token.objects.select_related("user").filter(key=key).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid API key: create one on the API token page (/api-token/)")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'api-key realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes ``api-key`` in the OpenAPI schema (the reference-photo URLs accept it too)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "query", "name": "api-key"}
