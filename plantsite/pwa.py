"""The installable app: its web manifest and the service worker, served at the site's root so that its scope is
the whole site, to anyone (the browser fetches both without asking who is signed in)."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

THEME_COLOR = "#2f7d32"
BACKGROUND_COLOR = "#f7faf7"
PAGES_CACHE = "plantsite-pages"
# the site's own static files (not the admin's or Swagger UI's): what a page in the field needs
ASSET_FOLDERS = ("plantsite/", "recognition/")
ICONS = [
    ("plantsite/icons/icon-192.png", "192x192", "any"),
    ("plantsite/icons/icon-512.png", "512x512", "any"),
    ("plantsite/icons/maskable-512.png", "512x512", "maskable"),
]


@cache
def asset_paths() -> tuple[str, ...]:
    """Return the static paths (relative to STATIC_URL) of the site's own files, sorted."""
    paths = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list(ignore_patterns=["*.map"]):
            if path.startswith(ASSET_FOLDERS):
                paths.add(path.replace("\\", "/"))
    return tuple(sorted(paths))


def worker_config() -> dict[str, object]:
    """Return what the service worker needs: the URLs to keep, the pages it keeps a copy of, the queue script."""
    assets = [static(path) for path in asset_paths()]
    return {
        "version": hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12],
        "assets": assets,
        "pages": [reverse("recognition:identify")],
        "pagesCache": PAGES_CACHE,
        "queue": static("plantsite/js/upload-queue.js"),
    }


def app_context(request: HttpRequest) -> dict[str, str]:
    """Template context for every page: the name of the service worker's cache of pages (offline.js drops it)."""
    return {"pwa_pages_cache": PAGES_CACHE}


@login_not_required
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Serve the service worker at /sw.js: its settings, then the worker itself (a static file)."""
    body = (
        f"self.plantsiteWorker = {json.dumps(worker_config())};\n"
        f"importScripts({json.dumps(static('plantsite/js/service-worker.js'))});\n"
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # a new release's worker is found at the next visit
    return response


@login_not_required
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """Serve the web manifest: the name, icons and start page a phone uses to install the site as an app."""
    body = {
        "name": "plantsite",
        "short_name": "plantsite",
        "description": _("Identify plants from your photos, in the field too: photos wait for a connection."),
        "lang": get_language(),
        "start_url": reverse("recognition:identify"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
