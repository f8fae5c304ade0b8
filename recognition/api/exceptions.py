"""Every API error is JSON with a human-readable ``message`` (and the field ``errors`` when any)."""

from __future__ import annotations

import logging

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, (list, tuple)) and detail:
        return _first_message(detail[0])
    return str(detail)


def json_exception_handler(exc, context):
    """Return DRF's response rewritten as {"message": ..., "errors": ...}."""
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
