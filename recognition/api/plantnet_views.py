"""A drop-in for Pl@ntNet's identify API (/v2/identify/<project>, /v2/projects): same request, same JSON.

Every /v2/ answer carries the user's quota in RateLimit headers; only accepted identifications spend it.
Only what is *not a plant* is rejected (404 "Species not found", unless no-reject): a plant of a species the
model does not know is answered, like Pl@ntNet does, with its candidates and their low scores.

Apps and scripts written for Pl@ntNet switch to this service by changing the base URL and the
``api-key`` (the user's API token). The identification takes the normal path (queued, answered by
a worker, kept in the user's history); the request waits for the worker up to a bound.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import translation
from django.utils.decorators import method_decorator
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView, exception_handler

from ml import versions
from ml.models import ModelVersion

from .. import services
from ..models import Identification
from ..remote_images import RemoteImageError, fetch_image
from ..selectors import outcome_of
from ..throttles import UploadQuota, UserRateThrottle
from ..validators import clean_plantnet_organs, prepare_uploads
from . import plantnet_schema
from .exceptions import as_api_error
from .plantnet_auth import ApiKeyAuthentication
from .plantnet_body import error_body, identify_body
from .plantnet_query import ALL, IdentifyQuery, PlantNetError, parse_query, project_version, site_language

logger = logging.getLogger(__name__)


def plantnet_exception_handler(exc, context):
    """Return DRF's error response rewritten in Pl@ntNet's shape (and a 500 in that shape for the unexpected)."""
    exc = as_api_error(exc) or exc
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled Pl@ntNet API error", exc_info=exc)
        message = "internal server error: the administrators can find the cause in the log"
        return Response(error_body(500, message), status.HTTP_500_INTERNAL_SERVER_ERROR)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    response.data = error_body(response.status_code, _message(detail))
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    return response


def _message(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, (list, tuple)):
        return " ".join(_message(item) for item in detail)
    return str(detail)


class PlantNetView(APIView):
    """Base of the Pl@ntNet-compatible views: ``api-key`` authentication, Pl@ntNet-shaped errors."""

    authentication_classes = [ApiKeyAuthentication]
    parser_classes = [MultiPartParser, FormParser]

    def get_exception_handler(self):
        return plantnet_exception_handler

    def quota(self, request: Request) -> UploadQuota:
        """Return the user's upload quota as this request found it (read once, not spent)."""
        if not hasattr(self, "_quota"):
            self._quota = UploadQuota()
            self._quota.allow_request(request, self)
        return self._quota

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.user.is_authenticated:
            for name, value in self.quota(request).headers().items():
                response.setdefault(name, value)
        return response

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated("Missing API key: add ?api-key=YOUR_TOKEN (from /api-token/)")
        super().permission_denied(request, message, code)


def is_not_a_plant(identification: Identification) -> bool:
    """Return True when the model found no plant in the photos (the only answer Pl@ntNet rejects)."""
    return (
        outcome_of(identification) == Identification.Outcome.NO_MATCH
        and identification.reason == Identification.Reason.NOT_A_PLANT
    )


def wait_for(identification: Identification, seconds: float) -> Identification | None:
    """Return the identification once a worker finished it, or None when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        current = Identification.objects.prefetch_related("candidates", "photos").get(pk=identification.pk)
        if current.is_finished:
            return current
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def given_organs(request: Request) -> list[str]:
    """Return the organs the form gives, else those in the query string (some clients send them there)."""
    form = request.data.getlist("organs") if hasattr(request.data, "getlist") else []
    organs = [organ for organ in form if organ.strip()]
    return organs or [organ for organ in request.query_params.getlist("organs") if organ.strip()]


def remote_uploads(request: Request) -> list[UploadedFile[bytes]]:
    """Return the photos GET identify names by URL (``images``), fetched; 405 while remote images are off."""
    if not settings.RECOGNITION_REMOTE_IMAGES:
        raise PlantNetError(
            405,
            "GET identify with image URLs is off on this server: POST the photos (multipart/form-data, field "
            "images), or ask the operator to set RECOGNITION_REMOTE_IMAGES=true",
            headers={"Allow": "POST"},
        )
    urls = [url for url in request.query_params.getlist("images") if url.strip()]
    if not urls:
        raise PlantNetError(400, "Give at least one image URL: ?images=https://...")
    if len(urls) > settings.RECOGNITION_MAX_FILES:
        raise PlantNetError(400, f"You gave {len(urls)} images; give at most {settings.RECOGNITION_MAX_FILES}")
    try:
        return [fetch_image(url) for url in urls]
    except RemoteImageError as exc:
        raise PlantNetError(400, str(exc)) from None


@method_decorator(login_not_required, name="dispatch")
class IdentifyView(PlantNetView):
    """POST /v2/identify/<project> (photos) or GET with ``images=URL``: Pl@ntNet's identify request, answered
    with Pl@ntNet's JSON."""

    # not HEAD: Django would answer it with GET, which fetches and identifies
    http_method_names = ["get", "post", "options"]

    def get_throttles(self):
        if not hasattr(self, "_throttles"):
            self._quota = UploadQuota()
            self._throttles = [UserRateThrottle(), self._quota]
        return self._throttles

    @plantnet_schema.identify_schema
    def post(self, request: Request, project: str) -> Response:
        query = parse_query(request.query_params)
        self.check_size(request.META.get("CONTENT_LENGTH"))
        version = project_version(project)
        files = request.FILES.getlist("images")
        self.check_size(sum(upload.size or 0 for upload in files))
        return self.identify(request, project, version, query, files)

    def get(self, request: Request, project: str) -> Response:
        query = parse_query(request.query_params)
        version = project_version(project)
        return self.identify(request, project, version, query, remote_uploads(request))

    def identify(
        self,
        request: Request,
        project: str,
        version: ModelVersion,
        query: IdentifyQuery,
        files: list[UploadedFile[bytes]],
    ) -> Response:
        """Identify ``files`` and answer Pl@ntNet's JSON (or its error); only an accepted request spends quota."""
        organs_given = given_organs(request)
        try:
            photos = prepare_uploads(files)
            organs = clean_plantnet_organs(organs_given, len(photos))
        except DjangoValidationError as exc:
            raise PlantNetError(400, " ".join(exc.messages)) from None
        requested = None if project == ALL else version
        identification = services.create_identification(request.user, photos, organs, model_version=requested)
        self.quota(request).count()
        url = reverse("api:identification-detail", args=[identification.public_id], request=request)
        finished = wait_for(identification, settings.RECOGNITION_PLANTNET_WAIT_SECONDS)
        if finished is None:
            raise PlantNetError(
                504,
                f"The identification is still running: its result will be at {url}",
                headers={"Location": url},
            )
        if finished.status == Identification.Status.FAILED:
            raise PlantNetError(503, f"The identification failed: {finished.error}")
        if is_not_a_plant(finished) and not query.no_reject:
            raise PlantNetError(404, "Species not found")
        remaining = self.quota(request).remaining()
        with translation.override(site_language(query.lang)):
            body = identify_body(request, project, finished, query, files, organs_given, remaining)
        return Response(body, headers={"Location": url})

    def check_size(self, size: str | int | None) -> None:
        limit = settings.RECOGNITION_PLANTNET_MAX_REQUEST_BYTES
        try:
            size = int(size or 0)
        except ValueError:
            return
        if size > limit:
            raise PlantNetError(
                413,
                f"The request is {size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB in total: send smaller images",
            )


@method_decorator(login_not_required, name="dispatch")
class ProjectsView(PlantNetView):
    """GET /v2/projects: ``all`` (the active model) and every registered model version."""

    @plantnet_schema.projects_schema
    def get(self, request):
        active = versions.active_version()
        projects = []
        if active is not None:
            projects.append(
                {
                    "id": ALL,
                    "title": "All",
                    "description": f"The active model, {active.name}",
                    "speciesCount": active.num_classes,
                }
            )
        for version in ModelVersion.objects.order_by("name"):
            projects.append(
                {
                    "id": version.name,
                    "title": version.name,
                    "description": f"{version.architecture}, {version.num_classes} species"
                    + (" (active)" if version.is_active else ""),
                    "speciesCount": version.num_classes,
                }
            )
        return Response(projects)
