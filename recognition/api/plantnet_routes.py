"""The /v2/ routes beside identify and projects: status, languages, species lists and the user's quota."""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ml import versions
from ml.models import ModelVersion

from ..models import Identification
from ..throttles import UploadQuota
from .plantnet_body import error_body
from .plantnet_catalog import is_language_code, model_languages, species_list
from .plantnet_query import PlantNetError, project_version
from .plantnet_views import PlantNetView

HISTORY_DAYS = 365
OPENAPI = Path(__file__).with_name("plantnet_openapi.yaml")


# Described by /v2/openapi.json (Pl@ntNet's shape), not by the site's own /api/schema/.
V2_ONLY = extend_schema(exclude=True)


def _positive(params: Any, name: str) -> int | None:
    """Return the query parameter ``name`` as a whole number of 1 or more (None when absent), else a 400."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise PlantNetError(400, f"{name} must be a whole number of 1 or more, got {raw!r}")
    return int(raw)


def species_page(request: Request, version: ModelVersion) -> list[dict[str, Any]]:
    """Return the version's species for the request's lang, prefix and page (pageSize and page, both or neither)."""
    params = request.query_params
    lang = params.get("lang", "en").strip().lower()
    if not is_language_code(lang):
        raise PlantNetError(400, f"lang {lang!r} is not a language code: use one like en, fr or pt-br")
    entries = species_list(version, lang, params.get("prefix", ""))
    size, page = _positive(params, "pageSize"), _positive(params, "page")
    if size is not None and page is not None:
        entries = entries[(page - 1) * size : page * size]
    return entries


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class StatusView(PlantNetView):
    """GET /v2/_status: whether the service answers (no key needed)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class LanguagesView(PlantNetView):
    """GET /v2/languages: the languages the active model has common names in (any other lang answers without)."""

    def get(self, request: Request) -> Response:
        return Response(model_languages(versions.active_version()))


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class SpeciesView(PlantNetView):
    """GET /v2/species: the active model's species, with GBIF ids and common names in ``lang``."""

    def get(self, request: Request) -> Response:
        return Response(species_page(request, project_version("all")))


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class ProjectSpeciesView(PlantNetView):
    """GET /v2/projects/<project>/species: a model's species, with GBIF ids and common names in ``lang``."""

    def get(self, request: Request, project: str) -> Response:
        return Response(species_page(request, project_version(project)))


def _quota(request: Request, view: PlantNetView) -> UploadQuota:
    """Return the user's upload quota, read (not spent)."""
    quota = UploadQuota()
    quota.allow_request(request, view)
    return quota


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class QuotaView(PlantNetView):
    """GET /v2/quota: how many identifications the user may start per window (RECOGNITION_UPLOAD_RATE)."""

    def get(self, request: Request) -> Response:
        quota = _quota(request, self)
        return Response({"identify": quota.limit, "window": quota.window_seconds})


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class QuotaDailyView(PlantNetView):
    """GET /v2/quota/daily: the identifications counted in the current window and how many remain."""

    def get(self, request: Request) -> Response:
        quota = _quota(request, self)
        used, remaining = quota.used(), quota.remaining()
        return Response(
            {
                "day": timezone.localdate().isoformat(),
                "count": {"identify": used},
                "remaining": {"identify": remaining},
                "quota": {"identify": {"count": used, "remaining": remaining}},
            }
        )


@method_decorator(login_not_required, name="dispatch")
@V2_ONLY
class QuotaHistoryView(PlantNetView):
    """GET /v2/quota/history: the user's identifications per day over the last year, newest first."""

    def get(self, request: Request) -> Response:
        since = timezone.now() - timedelta(days=HISTORY_DAYS)
        days = (
            Identification.objects.filter(owner_id=request.user.pk, created__gte=since)
            .annotate(day=TruncDate("created"))
            .values("day")
            .annotate(count=Count("pk"))
            .order_by("-day")
        )
        return Response(
            [{"day": row["day"].isoformat(), "quota": {"identify": {"count": row["count"]}}} for row in days]
        )


# No CSRF check: a POST to a mistyped /v2/ URL (no session, no form) gets the JSON 404, not Django's HTML 403.
@csrf_exempt
@login_not_required
def unknown_route(request: HttpRequest, path: str = "") -> JsonResponse:
    """Answer any other /v2/ URL with Pl@ntNet's 404, naming the routes there are."""
    message = (
        f"Not found: /v2/{path} is not a route here; use /v2/identify/<project>, /v2/projects, "
        "/v2/projects/<project>/species, /v2/species, /v2/languages, /v2/quota, /v2/quota/daily, "
        "/v2/quota/history or /v2/_status"
    )
    return JsonResponse(error_body(404, message), status=404)


@login_not_required
def openapi_schema(request: HttpRequest) -> JsonResponse:
    """Return the OpenAPI description of /v2/ (plantnet_openapi.yaml) as JSON."""
    return JsonResponse(_openapi())


@functools.cache
def _openapi() -> dict[str, Any]:
    schema: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return schema
