"""Every API error is JSON with a human-readable ``message`` (and the field ``errors`` when any)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class RequestRefused(APIException):
    """A request that Django's own limits refuse; the message names the limit and the fix."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "request_refused"


def as_api_error(exc: Exception) -> APIException | None:
    """Return the 4xx that stands for one of Django's request limits (503 for a database that does not answer),
    or None for any other error."""
    if isinstance(exc, TooManyFilesSent):
        return RequestRefused(
            f"the request carries more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files: "
            f"send at most {settings.RECOGNITION_MAX_FILES} photos of one plant"
        )
    if isinstance(exc, TooManyFieldsSent):
        return RequestRefused(
            f"the request carries more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields: "
            "send only the documented fields"
        )
    if isinstance(exc, RequestDataTooBig):
        refused = RequestRefused(
            f"the request body (without files) is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes: "
            "send photos as multipart files and keep the other fields short"
        )
        refused.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        return refused
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable during an API request: %s", exc)
        unavailable = APIException("the database did not answer: try again in a minute")
        unavailable.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        unavailable.wait = 30  # DRF sends it as Retry-After
        return unavailable
    return None


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, (list, tuple)) and detail:
        return _first_message(detail[0])
    return str(detail)


def json_exception_handler(exc, context):
    """Return DRF's response rewritten as {"message": ..., "errors": ...}."""
    exc = as_api_error(exc) or exc
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"message": "internal server error: the administrators can find the cause in the log"},
            status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    data = response.data
    body = {"message": _first_message(data.get("detail", data) if isinstance(data, dict) else data)}
    if isinstance(data, dict) and "detail" not in data:
        body["errors"] = data
    elif isinstance(data, list):
        body["errors"] = data
    response.data = body
    return response
