"""Project-level pages: the public landing page and a health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


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
