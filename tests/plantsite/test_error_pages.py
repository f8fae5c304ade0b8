"""404 and 500 pages: translated, with the site's navigation; under /v2/, JSON in Pl@ntNet's error shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_404_page_has_the_sites_navigation(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="brand"' in page and 'data-testid="not-found"' in page


def test_the_404_page_speaks_chinese(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in page and "页面未找到" in page


def test_the_500_page_is_the_sites_own_and_translated(client, settings):
    settings.ROOT_URLCONF = "tests.plantsite.error_urls"
    client.raise_request_exception = False
    response = client.get("/broken/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 500
    assert 'data-testid="server-error"' in page and "服务器出了问题" in page


def test_a_500_under_v2_is_json_in_plantnets_error_shape(client, settings):
    settings.ROOT_URLCONF = "tests.plantsite.error_urls"
    client.raise_request_exception = False
    response = client.get("/v2/broken/")
    assert response.status_code == 500
    assert response.json()["statusCode"] == 500 and response.json()["error"] == "Internal Server Error"
    assert "log" in response.json()["message"]


def test_a_404_under_v2_is_json_in_plantnets_error_shape(client):
    response = client.get("/v2/no/such/route")
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404 and response.json()["error"] == "Not Found"


def test_a_404_under_api_is_json_with_a_message(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404 and "/api/docs/" in response.json()["message"]
