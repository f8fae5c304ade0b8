"""HTTP responses that pages and API send alike."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from ml import reference_photos
from ml.models import ModelVersion

from .selectors import open_own_photo


def photo_response(user, pk: int, photo_pk: int, kind: str) -> FileResponse:
    """Return the stored JPEG ``kind`` of a photo owned by ``user``, privately cacheable; Http404 otherwise."""
    response = FileResponse(open_own_photo(user, pk, photo_pk, kind), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def reference_photo_response(version_pk: int, index: int, number: int) -> FileResponse:
    """Return reference photo ``number`` of class ``index`` of a model version (callers check sign-in); Http404
    when there is none."""
    path = reference_photos.reference_photo(get_object_or_404(ModelVersion, pk=version_pk), index, number)
    if path is None:
        raise Http404("no such reference photo")
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
