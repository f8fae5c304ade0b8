"""The installable app: the web manifest and the service worker are served to anyone at the site's root, with the
content types and scope browsers require, and the Content-Security-Policy allows them and nothing more."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_every_page_links_the_manifest_and_loads_the_worker_script(client):
    page = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-worker="/sw.js"' in page


def test_the_manifest_is_served_signed_out_and_names_the_app_its_start_page_and_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "plantsite" and manifest["short_name"]
    assert manifest["start_url"] == "/identify/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon
        with Image.open(path) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        assert client.get(icon["src"]).status_code == 200


def test_the_manifest_describes_the_app_in_the_browsers_language(client):
    english = json.loads(client.get("/manifest.webmanifest").content)
    chinese = json.loads(client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-CN").content)
    assert chinese["lang"] == "zh-hans" and chinese["description"] != english["description"]


def test_the_service_worker_is_served_signed_out_as_javascript_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    config = json.loads(body.split("self.plantsiteWorker = ", 1)[1].split(";\n", 1)[0])
    assets = config["assets"]
    for needed in ("plantsite/css/site.css", "recognition/js/identify.js", "plantsite/js/upload-queue.js"):
        assert f"/static/{needed}" in assets
    assert not [url for url in assets if url.startswith(("/static/admin/", "/static/drf_spectacular"))]
    assert config["pages"] == ["/identify/"] and config["queue"] == "/static/plantsite/js/upload-queue.js"
    assert 'importScripts("/static/plantsite/js/service-worker.js")' in body


def test_the_policy_allows_the_worker_and_manifest_from_the_site_only(client):
    directives = _directives(client.get("/"))
    assert directives["worker-src"] == ["'self'"] and directives["manifest-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"] and directives["connect-src"] == ["'self'"]


def test_the_worker_and_manifest_answer_only_get(client):
    assert client.post("/sw.js").status_code == 405
    assert client.post("/manifest.webmanifest").status_code == 405


def test_the_pages_cache_name_comes_from_the_worker_settings(client):
    from plantsite.pwa import PAGES_CACHE

    page = client.get("/").content.decode()
    assert f'data-pages-cache="{PAGES_CACHE}"' in page
    assert json.loads(client.get("/sw.js").content.decode().split(" = ", 1)[1].split(";\n", 1)[0])["pagesCache"] == (
        PAGES_CACHE
    )
