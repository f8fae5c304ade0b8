"""The Pl@ntNet identify endpoint with a bound on how many of one user's requests wait at once."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from ml.models import ModelVersion

from ..waits import TooManyWaits, wait_slot
from .plantnet_query import IdentifyQuery, PlantNetError
from .plantnet_views import IdentifyView


# GET (photos by URL) is described by /v2/openapi.json only; POST keeps its /api/schema/ entry.
@extend_schema_view(get=extend_schema(exclude=True))
class BoundedIdentifyView(IdentifyView):
    """IdentifyView refusing, before anything is stored, a request beyond the user's waiting bound.

    Over the bound the answer is 429 with Retry-After in Pl@ntNet's error shape: Pl@ntNet's clients already
    treat 429 (their quota) as "try again later", whereas a 202 is no Pl@ntNet answer and would be read as a result.
    """

    def identify(
        self,
        request: Request,
        project: str,
        version: ModelVersion,
        query: IdentifyQuery,
        files: list[UploadedFile[bytes]],
    ) -> Response:
        seconds = settings.RECOGNITION_PLANTNET_WAIT_SECONDS
        try:
            with wait_slot(int(request.user.pk or 0), seconds):
                return super().identify(request, project, version, query, files)
        except TooManyWaits:
            limit = settings.RECOGNITION_PLANTNET_WAITS_PER_USER
            raise PlantNetError(
                429,
                f"You already have {limit} identification request(s) waiting for an answer: wait for one to "
                "finish, then send this one again (nothing of it was stored)",
                headers={"Retry-After": str(max(1, math.ceil(seconds)))},
            ) from None
