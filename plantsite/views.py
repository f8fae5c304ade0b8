"""Project-level pages: the public landing page, a health check and the server error page."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.defaults import page_not_found

from .health import run_checks

logger = logging.getLogger(__name__)


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    """Render the landing page: what the service does and where to start."""
    return render(request, "plantsite/home.html")


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Return the overall status, 200 when all parts are up, else 503; each part's state (database, broker,
    workers, model) only to staff or with HEALTH_TOKEN in ``X-Health-Token``: model names and errors stay private."""
    checks = run_checks()
    healthy = all(check["ok"] for check in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    if _may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)


def _may_see_details(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.HEALTH_TOKEN
    given = request.headers.get("X-Health-Token", "")
    return bool(token) and constant_time_compare(given, token)


def plantnet_error(status: int, message: str) -> JsonResponse:
    """Return an error in Pl@ntNet's {statusCode, error, message} shape, what /v2/ clients parse."""
    return JsonResponse({"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}, status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer 404 as JSON under /api/ and, in Pl@ntNet's shape, under /v2/ (what clients parse), else as a page."""
    if request.path.startswith("/v2/"):
        return plantnet_error(404, f"Not found: {request.path} is not a route of this Pl@ntNet-compatible API")
    if request.path.startswith("/api/"):
        return JsonResponse({"message": f"nothing at {request.path}: see /api/docs/ for the API's URLs"}, status=404)
    return page_not_found(request, exception)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    """Render the translated 500 page with the site's navigation (JSON under /v2/); plain text if even that fails."""
    if request.path.startswith("/v2/"):
        return plantnet_error(500, "internal server error: the administrators can find the cause in the log")
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the error may be the database or a template itself: say something still
        logger.exception("the 500 page could not be rendered")
        return HttpResponse(
            "Server error: the administrators can find the cause in the log.", content_type="text/plain", status=500
        )
