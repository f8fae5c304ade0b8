"""Request limits at the WSGI layer, answered in the shape of the route's own errors.

The request line: gunicorn lets lines up to 1 MB through (the launcher runs it with
``--limit-request-line 0``) so that the refusal of a URL longer than ``MAX_URI`` is this wrapper's JSON
414, which clients of /v2/ and /api/ can parse, instead of gunicorn's page.

Chunked request bodies (``Transfer-Encoding: chunked``): gunicorn decodes a chunked body but hands Django no ``CONTENT_LENGTH``, and Django reads a body without a
length as empty: a streamed multipart upload would arrive with no photos. The wrapper reads such a body,
up to the largest body the service accepts, into a spooled file and sets ``CONTENT_LENGTH``; from there
every route treats it as a body with a length, with the same limits. A longer body is refused with 413.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import IO, Any

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

BLOCK = 64 * 1024
# Long enough for five signed image URLs in a GET /v2/identify query.
MAX_URI = 16 * 1024
# Bodies up to this size stay in memory; larger ones go to a temporary file.
IN_MEMORY = 2 * 1024 * 1024


def largest_request_body() -> int:
    """Return the largest body any upload route accepts: all photos at their limit plus the form's fields."""
    from django.conf import settings

    pages_and_api = int(settings.RECOGNITION_MAX_FILES) * int(settings.RECOGNITION_MAX_UPLOAD_BYTES)
    plantnet = int(settings.RECOGNITION_PLANTNET_MAX_REQUEST_BYTES)
    return max(pages_and_api, plantnet) + int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def is_chunked_without_length(environ: Environ) -> bool:
    """Return True for a request whose body is chunked and whose length the server did not give."""
    encoding = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return "chunked" in encoding and not environ.get("CONTENT_LENGTH")


def refuse(environ: Environ, status: HTTPStatus, message: str, start_response: StartResponse) -> Iterable[bytes]:
    """Answer ``status`` with ``message`` (Pl@ntNet's error shape under /v2/, the API's under /api/, text elsewhere)."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/v2/"):
        body = {"statusCode": status.value, "error": status.phrase, "message": message}
    elif path.startswith("/api/"):
        body = {"message": message}
    else:
        body = None
    if body is None:
        payload, content_type = message.encode(), "text/plain; charset=utf-8"
    else:
        payload, content_type = json.dumps(body).encode(), "application/json"
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", content_type), ("Content-Length", str(len(payload))), ("Connection", "close")],
    )
    return [payload]


def request_uri_length(environ: Environ) -> int:
    """Return the length of the request's path and query, as the client sent them."""
    uri = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
    if not environ.get("RAW_URI") and environ.get("QUERY_STRING"):
        uri += "?" + environ["QUERY_STRING"]
    return len(uri)


class RequestLimitsMiddleware:
    """Refuse a URL longer than MAX_URI (414), and read a chunked body (up to ``limit()`` bytes, else 413) so
    that the wrapped app sees it with its length."""

    def __init__(self, app: WSGIApp, limit: Callable[[], int] = largest_request_body) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if request_uri_length(environ) > MAX_URI:
            message = f"The URL is longer than {MAX_URI} characters: send fewer or shorter image URLs, or the photos"
            return refuse(environ, HTTPStatus.REQUEST_URI_TOO_LONG, message, start_response)
        if not is_chunked_without_length(environ):
            return self.app(environ, start_response)
        limit = self.limit()
        body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
        stream, size = environ["wsgi.input"], 0
        while block := stream.read(BLOCK):
            size += len(block)
            if size > limit:
                body.close()
                logger.info("refused a chunked body of more than %d bytes on %s", limit, environ.get("PATH_INFO"))
                message = f"The request body is larger than {limit / 2**20:.0f} MB: send fewer or smaller photos"
                return refuse(environ, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message, start_response)
            body.write(block)
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(size)
        # The body is now a plain one with a length: the app must not look for chunks.
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            return _closing(self.app(environ, start_response), body)
        except BaseException:
            body.close()
            raise


def _closing(response: Iterable[bytes], body: IO[bytes]) -> Iterator[bytes]:
    """Yield the app's response, then close it and the buffered body."""
    try:
        yield from response
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
        body.close()
