"""Every page carries a Content-Security-Policy (scripts only the site's own, the inline one by nonce) and a
Permissions-Policy; the pages need neither inline handlers nor style attributes."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("url", PAGES)
def test_each_page_allows_only_its_own_scripts_and_styles(client, url):
    directives = _directives(client.get(url))
    assert directives["default-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]


def test_the_inline_script_carries_the_nonce_of_its_own_response(client):
    first, second = client.get("/"), client.get("/")
    nonces = [re.search(r"'nonce-([^']+)'", r["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    assert f'<script nonce="{nonces[0]}">' in first.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_each_page_switches_off_the_powerful_features_it_does_not_use(client, url):
    policy = client.get(url)["Permissions-Policy"]
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= {p.strip() for p in policy.split(",")}


def test_the_pages_carry_no_inline_handler_or_style_attribute(client):
    for url in PAGES:
        body = client.get(url).content.decode()
        assert not re.search(r"\son[a-z]+=|\sstyle=", body), url
