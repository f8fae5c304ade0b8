"""Per-user throttle for uploads, read from settings at request time."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    """Limits how many identifications one user may start (RECOGNITION_UPLOAD_RATE, e.g. "120/hour")."""

    scope = "uploads"

    def get_rate(self) -> str:
        return settings.RECOGNITION_UPLOAD_RATE
