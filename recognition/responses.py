"""HTTP responses that pages and API send alike."""

from __future__ import annotations

from django.http import FileResponse

from .selectors import open_own_photo


def photo_response(user, pk: int, photo_pk: int, kind: str) -> FileResponse:
    """Return the stored JPEG ``kind`` of a photo owned by ``user``, privately cacheable; Http404 otherwise."""
    response = FileResponse(open_own_photo(user, pk, photo_pk, kind), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
