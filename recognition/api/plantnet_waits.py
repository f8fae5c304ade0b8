"""The Pl@ntNet identify endpoint with a bound on how many of one user's requests wait at once."""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from ..waits import TooManyWaits, wait_slot
from .plantnet_query import PlantNetError
from .plantnet_views import IdentifyView


class BoundedIdentifyView(IdentifyView):
    """IdentifyView refusing, before anything is stored, a request beyond the user's waiting bound.

    Over the bound the answer is 429 with Retry-After in Pl@ntNet's error shape: Pl@ntNet's clients already
    treat 429 (their quota) as "try again later", whereas a 202 is no Pl@ntNet answer and would be read as a result.
    """

    def post(self, request: Request, project: str) -> Response:
        seconds = settings.RECOGNITION_PLANTNET_WAIT_SECONDS
        try:
            with wait_slot(int(request.user.pk or 0), seconds):
                response: Response = super().post(request, project)
                return response
        except TooManyWaits:
            limit = settings.RECOGNITION_PLANTNET_WAITS_PER_USER
            raise PlantNetError(
                429,
                f"You already have {limit} identification request(s) waiting for an answer: wait for one to "
                "finish, then send this one again (nothing of it was stored)",
                headers={"Retry-After": str(max(1, math.ceil(seconds)))},
            ) from None
