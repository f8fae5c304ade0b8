"""Per-user throttles that keep the API up when their shared cache (Redis) is down."""

from __future__ import annotations

import logging
import math

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


class UploadQuota(UploadRateThrottle):
    """The upload throttle as Pl@ntNet's quota: ``allow_request`` only checks it; ``count()`` spends one, once an
    identification is accepted, so that refused requests (400, 413 ...) cost nothing."""

    def throttle_success(self) -> bool:
        return True

    def count(self) -> None:
        """Count one accepted identification against the quota of the user ``allow_request`` saw."""
        if self.rate is None or getattr(self, "key", None) is None:
            return
        try:
            self._count()
        except CACHE_ERRORS as exc:
            logger.warning("throttle cache unreachable (%s): counting %s requests in this process", exc, self.scope)
            self.cache = self.fallback_cache
            self._count()

    def _window(self) -> tuple[int, int]:
        """Return (identifications allowed, window in seconds)."""
        allowed, seconds = self.parse_rate(self.rate)
        return int(allowed or 0), int(seconds or 0)

    def _count(self) -> None:
        seconds = self._window()[1]
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - seconds]
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, seconds)

    @property
    def limit(self) -> int | None:
        """Return how many identifications the window allows (None: no limit)."""
        return None if self.rate is None else self._window()[0]

    @property
    def window_seconds(self) -> int:
        """Return the window's length in seconds."""
        return 0 if self.rate is None else self._window()[1]

    def used(self) -> int:
        """Return how many identifications were counted in the window (after ``allow_request``)."""
        return len(getattr(self, "history", []))

    def remaining(self) -> int:
        """Return how many identifications the user may still start in the window."""
        return 0 if self.limit is None else max(0, self.limit - self.used())

    def reset_seconds(self) -> int:
        """Return the seconds until the oldest counted identification leaves the window (0 when none is counted)."""
        history: list[float] = getattr(self, "history", [])
        if not history or self.rate is None:
            return 0
        return max(0, math.ceil(history[-1] + self._window()[1] - float(self.timer())))

    def headers(self) -> dict[str, str]:
        """Return the RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) of this quota."""
        if self.limit is None:
            return {}
        return {
            "RateLimit-Policy": f'"identify";q={self.limit};w={self.window_seconds}',
            "RateLimit": f'"identify";r={self.remaining()};t={self.reset_seconds()}',
        }
