"""Per-user throttles that keep the API up when their shared cache (Redis) is down."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)

# What redis-py raises when the server is gone or too slow.
CACHE_ERRORS = (RedisError, OSError)


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user throttle on the shared cache, falling back to this process's memory when it fails."""

    fallback_cache = caches["local"]

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("throttle cache unreachable (%s): counting %s requests in this process", exc, self.scope)
            self.cache = self.fallback_cache
            return super().allow_request(request, view)


class UploadRateThrottle(UserRateThrottle):
    """Limits how many identifications one user may start (RECOGNITION_UPLOAD_RATE, e.g. "120/hour")."""

    scope = "uploads"

    def get_rate(self) -> str:
        return settings.RECOGNITION_UPLOAD_RATE
