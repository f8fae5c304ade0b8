"""Every URL but the public ones needs a session."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "/",
    "/health/",
    "/admin/login/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/logout/",
    # password reset is for people who cannot log in
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/x/x/",
    "/accounts/password/reset/done/",
    "/i18n/setlang/",
    # Pl@ntNet's status route and the /v2/ description are open, as Pl@ntNet's are
    "/v2/_status/?",
    "/v2/openapi.json",
    # the installable app: a browser fetches its manifest and service worker before anyone signs in
    "/manifest.webmanifest",
    "/sw.js",
}
SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000001", "path": "x"}


def _concrete_paths(patterns=None, prefix: str = ""):
    """Yield one concrete path per URL pattern, with sample values for its converters."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _concrete_paths(entry.url_patterns, prefix + _fill(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + _fill(entry.pattern)


def _fill(pattern) -> str:
    route = getattr(pattern, "_route", None)
    if route is None:  # a regex pattern (admin, format suffixes): take its plain prefix
        return str(pattern).lstrip("^").split("(")[0].split("\\")[0].rstrip("$")
    for name, converter in getattr(pattern, "converters", {}).items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        route = route.replace(f"<{kind}:{name}>", SAMPLE.get(kind, "1")).replace(f"<{name}>", "x")
    return route


def test_non_public_urls_redirect_anonymous_users_to_login(client):
    checked = []
    for path in sorted(set(_concrete_paths())):
        if path in PUBLIC or path.startswith("/static/"):
            continue
        response = client.get(path)
        if path.startswith(("/api/", "/v2/")):  # the REST API and the Pl@ntNet-compatible one: no login page
            assert response.status_code in (401, 403, 404), path
            continue
        assert response.status_code == 302, f"{path} answered {response.status_code} to an anonymous user"
        assert "/login/" in response["Location"], f"{path} redirects to {response['Location']}"
        checked.append(path)
    assert "/accounts/password/" in checked


def test_public_pages_render_for_anonymous_users(client):
    for path in ("/", "/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"):
        assert client.get(path).status_code == 200, path


def test_a_signed_out_visitor_switches_the_language_and_the_next_page_is_in_it(client, settings):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/signup/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans"' in client.get("/accounts/login/").content.decode()


def test_the_language_form_has_its_own_button_and_nothing_submits_it_on_change(client):
    page = client.get("/accounts/login/").content.decode()
    form = page[page.index('<form method="post" action="/i18n/setlang/"') :]
    form = form[: form.index("</form>")]
    assert 'data-testid="language-submit"' in form and "<noscript>" not in form
    assert "data-submit-on-change" not in page
