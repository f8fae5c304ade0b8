"""Handing identifications to the broker, and the sweep that makes the database the source of truth.

An identification is queued by conditionally stamping ``queued`` (so that two sweepers never
queue it twice) and then publishing its primary key; when the broker cannot take it the stamp
is undone and the next sweep tries again. A worker claims it by moving it from pending to
running under its own id, so a message delivered twice runs once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from plantsite.celery import app as celery_app

from .holders import is_orphan
from .models import Identification

logger = logging.getLogger(__name__)

IDENTIFY_TASK = "recognition.identify"
PUBLISH_ERRORS = (BrokerError, RedisError, OSError)
# A fresh upload is queued by its own request right after it commits: the sweeper leaves it that long.
UPLOAD_GRACE = timedelta(seconds=5)


def enqueue(identification_id: int, previous: datetime | None = None) -> bool:
    """Queue the pending identification unless someone else did since ``previous``; True when queued now."""
    stamp = _claim(identification_id, previous)
    return stamp is not None and _publish(identification_id, stamp)


def _claim(identification_id: int, previous: datetime | None) -> datetime | None:
    stamp = timezone.now()
    pending = Identification.objects.filter(pk=identification_id, status=Identification.Status.PENDING)
    return stamp if pending.filter(queued=previous).update(queued=stamp) else None


def _publish(identification_id: int, stamp: datetime) -> bool:
    try:
        # No time limits in the message: Celery (5.7+) would otherwise copy this process's
        # CELERY_TASK_*TIME_LIMIT from the registered task into it, and the message's limits win over the
        # worker's; with None there, the limits set where the worker runs apply.
        # No result is awaited (the database holds the answer): without ignore_result the result backend
        # would try for ~20 s to subscribe to a Redis that is down.
        celery_app.send_task(
            IDENTIFY_TASK,
            args=(identification_id,),
            retry=False,
            ignore_result=True,
            time_limit=None,
            soft_time_limit=None,
        )
    except PUBLISH_ERRORS as exc:
        Identification.objects.filter(pk=identification_id, queued=stamp).update(queued=None)
        logger.warning(
            "identification %s is stored but not queued (broker: %s); the sweeper queues it when the broker is back",
            identification_id,
            exc,
        )
        return False
    return True


def release_orphans(live_workers: set[str]) -> int:
    """Return to pending the running identifications whose worker (or pool process) is gone or overran the hard limit."""
    overdue = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    running = Identification.objects.filter(status=Identification.Status.RUNNING)
    released = 0
    for pk, holder, started in running.values_list("pk", "worker", "started"):
        if not (is_orphan(holder, live_workers) or (started is not None and started < overdue)):
            continue
        released += Identification.objects.filter(pk=pk, status=Identification.Status.RUNNING, worker=holder).update(
            status=Identification.Status.PENDING, worker="", queued=None
        )
        logger.warning("identification %s: its holder %s is gone; queueing it again", pk, holder or "?")
    return released


def sweep(live_workers: set[str]) -> int:
    """Release orphans, then queue every pending identification not queued lately; return how many were queued."""
    release_orphans(live_workers)
    now = timezone.now()
    due = Identification.objects.filter(status=Identification.Status.PENDING).filter(
        Q(queued__isnull=True, created__lt=now - UPLOAD_GRACE)
        | Q(queued__lt=now - timedelta(seconds=settings.RECOGNITION_REQUEUE_AFTER))
    )
    queued = 0
    for pk, previous in due.order_by("created").values_list("pk", "queued"):
        stamp = _claim(pk, previous)
        if stamp is None:
            continue  # queued by another sweeper, or claimed by a worker, meanwhile
        if not _publish(pk, stamp):
            break  # the broker is down: the next sweep tries again
        queued += 1
    if queued:
        logger.info("sweeper queued %d identification(s)", queued)
    return queued
