"""CORS on /v2/: browser apps on the origins an operator lists (RECOGNITION_CORS_ORIGINS) may call it,
preflight included; other origins, other paths and a default installation send no CORS headers."""

from __future__ import annotations

import pytest

from recognition.tokens import create_token

pytestmark = pytest.mark.django_db

APP = "https://garden.example.org"


@pytest.fixture
def listed(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def preflight(client, path: str, origin: str = APP):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_a_preflight_from_a_listed_origin_is_allowed(client, listed):
    response = preflight(client, "/v2/identify/all?api-key=anything")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"]


def test_an_answer_to_a_listed_origin_carries_cors_and_exposes_the_ratelimit_headers(client, listed, user):
    key = create_token(user, "test")[1]
    response = client.get(f"/v2/projects?api-key={key}", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "RateLimit" in response["Access-Control-Expose-Headers"]


def test_an_unlisted_origin_gets_no_cors_headers(client, listed):
    response = preflight(client, "/v2/identify/all", origin="https://elsewhere.example.org")
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(client):
    response = preflight(client, "/v2/identify/all")
    assert "Access-Control-Allow-Origin" not in response


def test_cors_is_for_v2_only(client, listed):
    response = preflight(client, "/api/identifications/")
    assert "Access-Control-Allow-Origin" not in response
