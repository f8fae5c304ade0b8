"""Project-level pages: the public landing page, a health check and the server error page."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    """Render the landing page: what the service does and where to start."""
    return render(request, "plantsite/home.html")


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Return 200 with {"status": "ok"} when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    """Render the translated 500 page with the site's navigation; plain text if even that fails."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the error may be the database or a template itself: say something still
        logger.exception("the 500 page could not be rendered")
        return HttpResponse(
            "Server error: the administrators can find the cause in the log.", content_type="text/plain", status=500
        )
