"""Limits on guessing: who is asking (the client's address), sign-up and password-reset rates, the login lockout page.

Failed logins (the site's and the admin's) are counted by django-axes; sign-up and reset requests by DRF's
rate throttles on the shared cache, per address and per e-mail address, so that neither a single address
nor many addresses aimed at one account can send mail or create accounts without bound.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)
UNKNOWN_ADDRESS = "0.0.0.0"


def client_address(request: HttpRequest) -> str:
    """Return the client's address: REMOTE_ADDR, or with TRUSTED_PROXIES proxies in front the address the
    outermost of them saw (the entry that many from the right of X-Forwarded-For; the ones before it are forgeable)."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
            return str(forwarded[-proxies])
    remote = str(request.META.get("REMOTE_ADDR", ""))
    # a missing or malformed address (no peer, a forged header) counts as one unknown client, never a 500 where
    # the login log stores addresses in a column that takes only IP addresses (PostgreSQL's inet)
    return remote if _is_address(remote) else UNKNOWN_ADDRESS


def _is_address(text: str) -> bool:
    """True when ``text`` is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def wait_text(seconds: float) -> str:
    """Return 'N minutes' (or 'N seconds' under a minute) for a wait, rounded up."""
    if seconds < 60:
        count = max(1, math.ceil(seconds))
        return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}
    count = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


class _KeyedThrottle(SimpleRateThrottle):
    """DRF's rate throttle for one scope and key (an address or an e-mail address), on the shared cache."""

    def __init__(self, scope: str, rate: str, key: str) -> None:
        self.scope, self.rate, self.key = scope, rate, key
        self.num_requests, self.duration = self.parse_rate(rate)

    def get_cache_key(self, request: HttpRequest, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.key}


def over_rate(request: HttpRequest, scope: str, rate: str, keys: list[str]) -> float | None:
    """Count one attempt under each of ``keys``; return the seconds to wait when one is over ``rate``, else None."""
    waits = []
    for key in keys:
        throttle = _KeyedThrottle(scope, rate, key)
        try:
            allowed = throttle.allow_request(request, None)  # type: ignore[arg-type]  # no view: keyed by hand
        except (RedisError, OSError) as exc:  # the shared cache is down: count in this process meanwhile
            logger.warning("throttle cache unreachable (%s): counting %s attempts in this process", exc, scope)
            throttle.cache = caches["local"]
            allowed = throttle.allow_request(request, None)  # type: ignore[arg-type]
        if not allowed:
            waits.append(float(throttle.wait() or throttle.duration or 0))
    return max(waits) if waits else None


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, object] | None = None
) -> HttpResponse:
    """django-axes' answer to a login while locked out: a 429 page saying when to try again, with Retry-After."""
    cool_off = settings.AXES_COOLOFF_TIME
    seconds = cool_off.total_seconds() if isinstance(cool_off, timedelta) else 3600
    message = _(
        "Too many failed logins for this account or from your address: try again in %(wait)s, or reset your password."
    ) % {"wait": wait_text(seconds)}
    response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(math.ceil(seconds))
    return response
