"""How many requests of one user may wait for a worker at once (the Pl@ntNet endpoint answers synchronously)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from redis.exceptions import RedisError

from plantsite.broker import redis_client

logger = logging.getLogger(__name__)


class TooManyWaits(Exception):
    """The user already has RECOGNITION_PLANTNET_WAITS_PER_USER requests waiting."""


@contextmanager
def wait_slot(user_id: int, seconds: float) -> Iterator[None]:
    """Hold one of the user's waiting slots for the block, or raise TooManyWaits before it runs.

    The slots live in Redis (shared by every web process), each with its own deadline, so that one held by
    a process that died frees itself ``seconds`` (plus a margin) later. With Redis unreachable nothing is bounded.
    """
    limit = settings.RECOGNITION_PLANTNET_WAITS_PER_USER
    key = f"plantsite:{settings.CELERY_TASK_DEFAULT_QUEUE}:plantnet-waits:{user_id}"  # tests: one queue per run
    slot = uuid.uuid4().hex
    client = redis_client(settings.CELERY_BROKER_URL, timeout=1.0)
    try:
        now = time.time()
        pipe = client.pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + seconds + 60})
        pipe.zcard(key)
        pipe.expire(key, int(seconds) + 120)
        held = pipe.execute()[2]
    except (RedisError, OSError) as exc:
        logger.warning("waiting requests are not bounded while Redis does not answer (%s)", exc)
        yield
        return
    try:
        if held > limit:
            raise TooManyWaits()
        yield
    finally:
        try:
            client.zrem(key, slot)
        except (RedisError, OSError):
            pass  # it frees itself at its deadline
