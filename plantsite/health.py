"""What /health/ checks: the database, the broker, live workers, and what the apps register (the model)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from redis.exceptions import RedisError

from . import heartbeat
from .broker import redis_client

logger = logging.getLogger(__name__)

Check = Callable[[], dict]
CHECKS: dict[str, Check] = {}


class Unhealthy(Exception):
    """A check's failure; the message says what is down and what to do."""


def register(name: str) -> Callable[[Check], Check]:
    """Add a check to /health/: a function returning details when fine and raising Unhealthy when not."""

    def decorator(check: Check) -> Check:
        CHECKS[name] = check
        return check

    return decorator


def run_checks() -> dict[str, dict]:
    """Return each check's result as {"ok": bool, ...details or "error"}."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except Unhealthy as exc:
            results[name] = {"ok": False, "error": str(exc)}
    return results


@register("database")
def database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        raise Unhealthy(f"the database does not answer ({exc}); check DATABASE_URL and the database server") from exc
    return {}


def _broker():
    return redis_client(settings.CELERY_BROKER_URL, timeout=1.0)


@register("broker")
def broker() -> dict:
    try:
        _broker().ping()
    except (RedisError, OSError) as exc:
        raise Unhealthy(
            f"the broker does not answer ({exc}); uploads are kept and queued once it is back: start Redis"
        ) from exc
    return {}


@register("workers")
def workers() -> dict:
    try:
        live = heartbeat.live_workers(_broker(), settings.CELERY_TASK_DEFAULT_QUEUE)
    except (RedisError, OSError) as exc:
        raise Unhealthy(f"worker heartbeats cannot be read: the broker does not answer ({exc})") from exc
    if not live:
        raise Unhealthy("no worker has beaten lately: start one with `celery -A plantsite worker`")
    return {"count": len(live)}
