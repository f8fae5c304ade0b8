"""A drop-in for Pl@ntNet's identify API (/v2/identify/<project>, /v2/projects): same request, same JSON.

Apps and scripts written for Pl@ntNet switch to this service by changing the base URL and the
``api-key`` (the user's API token). The identification takes the normal path (queued, answered by
a worker, kept in the user's history); the request waits for the worker up to a bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.decorators import method_decorator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView, exception_handler

from ml import registry
from ml.models import ModelVersion

from .. import services
from ..facts import CandidateFacts, candidate_facts
from ..models import Candidate, Identification
from ..selectors import outcome_of
from ..throttles import UploadRateThrottle, UserRateThrottle
from ..validators import clean_plantnet_organs, prepare_uploads
from .exceptions import as_api_error
from .serializers import reference_photo_urls

logger = logging.getLogger(__name__)

ALL = "all"
# Pl@ntNet language codes and the site language each one is answered in
LANGUAGES = {"en": "en", "zh": "zh-hans", "zh-hans": "zh-hans", "zh-cn": "zh-hans"}
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


class PlantNetError(exceptions.APIException):
    """An error answered in Pl@ntNet's {statusCode, error, message} shape."""

    def __init__(self, status_code: int, message: str, headers: dict | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}
        super().__init__(message)


def error_body(status_code: int, message: str) -> dict:
    """Return Pl@ntNet's error JSON: {"statusCode": 404, "error": "Not Found", "message": ...}."""
    return {"statusCode": status_code, "error": HTTPStatus(status_code).phrase, "message": message}


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


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates the ``api-key`` query parameter as the user's API token, as Pl@ntNet clients send it."""

    def authenticate(self, request):
        key = request.query_params.get("api-key", "").strip()
        if not key:
            return None
        token = Token.objects.select_related("user").filter(key=key).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid API key: create one on the API token page (/api-token/)")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'api-key realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes ``api-key`` in the OpenAPI schema (the reference-photo URLs accept it too)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "query", "name": "api-key"}


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


@dataclass(frozen=True)
class IdentifyQuery:
    """The query parameters of one /v2/identify request."""

    nb_results: int | None
    lang: str
    no_reject: bool
    include_related_images: bool


def _flag(params, name: str) -> bool:
    value = params.get(name, "false").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise PlantNetError(400, f"{name} must be true or false, got {value!r}")


def parse_query(params) -> IdentifyQuery:
    """Return the validated query parameters, or raise a 400 naming the parameter and its allowed values."""
    nb_results = params.get("nb-results")
    if nb_results is not None:
        try:
            nb_results = int(nb_results)
        except ValueError:
            nb_results = 0
        if nb_results < 1:
            raise PlantNetError(400, f"nb-results must be a whole number of 1 or more, got {params['nb-results']!r}")
    lang = params.get("lang", "en").strip().lower()
    if lang not in LANGUAGES:
        raise PlantNetError(400, f"lang {lang!r} is not available here: use one of {', '.join(LANGUAGES)}")
    return IdentifyQuery(nb_results, lang, _flag(params, "no-reject"), _flag(params, "include-related-images"))


def project_version(project: str) -> ModelVersion:
    """Return the model version a project names: ``all`` is the active one; 404 or 503 in Pl@ntNet's shape."""
    if project == ALL:
        version = registry.active_version()
        if version is None:
            raise PlantNetError(503, registry.NO_ACTIVE_MODEL)
        return version
    version = ModelVersion.objects.filter(name=project).first()
    if version is None:
        raise PlantNetError(
            404, f"Project not found: {project!r} is not a model here; use all or one of GET /v2/projects"
        )
    return version


def _taxon(name: str, authorship: str = "") -> dict:
    """Return Pl@ntNet's name object: the name without and with its authorship."""
    return {
        "scientificNameWithoutAuthor": name,
        "scientificNameAuthorship": authorship,
        "scientificName": f"{name} {authorship}".strip(),
    }


def species_facts(facts: CandidateFacts) -> dict:
    """Return a candidate's facts as Pl@ntNet's ``species`` object (without a known genus: the name's first word)."""
    name = facts.scientific_name
    genus = facts.genus or (name.split()[0] if name.split() else name)
    return {
        **_taxon(name, facts.authorship),
        "genus": _taxon(genus),
        "family": _taxon(facts.family),
        "commonNames": [facts.common_name] if facts.common_name else [],
    }


def reference_images(facts: CandidateFacts, version: ModelVersion, request) -> list[dict]:
    """Return the class's reference photos as Pl@ntNet image objects (one thumbnail size for o, m and s), with
    the author, licence ("cc-by-nc", as Pl@ntNet writes them), date and citation the training data recorded."""
    images = []
    for url, photo in zip(reference_photo_urls(facts, version, request), facts.reference_photos):
        taken = _date(photo.date) or version.created
        licence = photo.licence.lower().replace(" ", "-")
        credit = ", ".join(part for part in (photo.author, licence) if part)
        images.append(
            {
                "organ": "auto",
                "author": photo.author,
                "license": licence,
                "date": {"timestamp": int(taken.timestamp() * 1000), "string": taken.date().isoformat()},
                "citation": f"{credit} (training photo of {version.shown_title})"
                if credit
                else f"training photo of {version.shown_title}",
                "url": {"o": url, "m": url, "s": url},
            }
        )
    return images


def _date(text: str) -> datetime | None:
    """Return an ISO 8601 date or time as an aware datetime (UTC when no zone is given), or None."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def result_of(candidate: Candidate, version: ModelVersion | None, query: IdentifyQuery, request) -> dict:
    """Return one ranked candidate as a Pl@ntNet ``results`` item, in the query's language."""
    facts = candidate_facts(candidate, version, LANGUAGES[query.lang])
    result = {"score": round(candidate.probability, 5), "species": species_facts(facts)}
    if facts.gbif_id:
        result["gbif"] = {"id": str(facts.gbif_id)}
    if query.include_related_images:
        result["images"] = reference_images(facts, version, request) if version is not None else []
    return result


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
            body = self.body(request, project, finished, query, files, given_organs)
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

    def body(self, request, project, identification, query: IdentifyQuery, files, given_organs) -> dict:
        """Return Pl@ntNet's identify response for a finished identification."""
        photos = list(identification.photos.all())
        photo_ids = [
            reverse("api:identification-photo", args=[identification.pk, photo.pk, "original"], request=request)
            for photo in photos
        ]
        candidates = list(identification.candidates.all())
        if query.nb_results is not None:
            candidates = candidates[: query.nb_results]
        version = identification.model_version
        results = [result_of(candidate, version, query, request) for candidate in candidates]
        return {
            "query": {
                "project": project,
                "images": photo_ids,
                "organs": given_organs or ["auto"] * len(photos),
                "includeRelatedImages": query.include_related_images,
                "noReject": query.no_reject,
            },
            # the organs are the ones the user gave (this service does not predict organs): score 1, auto 0
            "predictedOrgans": [
                {
                    "image": image,
                    "filename": upload.name or "",
                    "organ": organ,
                    "score": 0.0 if organ == "auto" else 1.0,
                }
                for image, upload, organ in zip(photo_ids, files, given_organs or ["auto"] * len(photos))
            ],
            "language": query.lang,
            "preferedReferential": project,
            "bestMatch": results[0]["species"]["scientificName"] if results else "",
            "results": results,
            "version": version.name if version else "",
            "remainingIdentificationRequests": self.remaining_requests(),
        }


@method_decorator(login_not_required, name="dispatch")
class ProjectsView(PlantNetView):
    """GET /v2/projects: ``all`` (the active model) and every registered model version."""

    def get(self, request):
        active = registry.active_version()
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
