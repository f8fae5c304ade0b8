"""A drop-in for Pl@ntNet's identify API (/v2/identify/<project>, /v2/projects): same request, same JSON.

Apps and scripts written for Pl@ntNet switch to this service by changing the base URL and the
``api-key`` (the user's API token). The identification takes the normal path (queued, answered by
a worker, kept in the user's history); the request waits for the worker up to a bound.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.decorators import method_decorator
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView, exception_handler

from ml import versions
from ml.models import ModelVersion

from .. import services
from ..models import Identification
from ..selectors import outcome_of
from ..throttles import UploadRateThrottle, UserRateThrottle
from ..validators import clean_plantnet_organs, prepare_uploads
from .exceptions import as_api_error
from .plantnet_auth import ApiKeyAuthentication
from .plantnet_body import error_body, identify_body
from .plantnet_query import ALL, LANGUAGES, PlantNetError, parse_query, project_version

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
    schema = None  # documented as Pl@ntNet documents it (README), not in this API's OpenAPI schema

    def get_exception_handler(self):
        return plantnet_exception_handler

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated("Missing API key: add ?api-key=YOUR_TOKEN (from /api-token/)")
        super().permission_denied(request, message, code)


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


@method_decorator(login_not_required, name="dispatch")
class IdentifyView(PlantNetView):
    """POST /v2/identify/<project>: Pl@ntNet's identify request, answered with Pl@ntNet's JSON."""

    def get_throttles(self):
        if not hasattr(self, "_throttles"):
            self._throttles = [UserRateThrottle(), UploadRateThrottle()]
        return self._throttles

    def remaining_requests(self) -> int:
        """Return how many identifications the user may still start in the upload throttle's window."""
        upload = self.get_throttles()[1]
        if upload.rate is None or not hasattr(upload, "history"):
            return 0
        return max(0, upload.num_requests - len(upload.history))

    def post(self, request, project: str):
        query = parse_query(request.query_params)
        self.check_size(request.META.get("CONTENT_LENGTH"))
        version = project_version(project)
        files = request.FILES.getlist("images")
        self.check_size(sum(upload.size or 0 for upload in files))
        given_organs = [organ for organ in request.data.getlist("organs") if organ.strip()]
        try:
            photos = prepare_uploads(files)
            organs = clean_plantnet_organs(given_organs, len(photos))
        except DjangoValidationError as exc:
            raise PlantNetError(400, " ".join(exc.messages)) from None
        requested = None if project == ALL else version
        identification = services.create_identification(request.user, photos, organs, model_version=requested)
        url = reverse("api:identification-detail", args=[identification.pk], request=request)
        finished = wait_for(identification, settings.RECOGNITION_PLANTNET_WAIT_SECONDS)
        if finished is None:
            raise PlantNetError(
                504,
                f"The identification is still running: its result will be at {url}",
                headers={"Location": url},
            )
        if finished.status == Identification.Status.FAILED:
            raise PlantNetError(503, f"The identification failed: {finished.error}")
        if outcome_of(finished) == "no_match" and not query.no_reject:
            raise PlantNetError(404, "Species not found")
        with translation.override(LANGUAGES[query.lang]):
            body = identify_body(request, project, finished, query, files, given_organs, self.remaining_requests())
        return Response(body, headers={"Location": url})

    def check_size(self, size) -> None:
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
