"""The Celery task that answers an identification: a thin shell over services.run_identification."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from . import services, worker  # noqa: F401  (worker: the heartbeat and sweeper beside the tasks)

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


class IdentifyTask(Task):
    """Marks the identification failed once retries are exhausted or the time limit hits."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if not args:
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            message = "the identification took too long and was stopped: try again, or with fewer photos"
        else:
            message = f"the identification failed after {self.request.retries} retries ({exc.__class__.__name__}: {exc}): try again later"
        try:
            services.mark_failed(args[0], message)
        except Exception:  # the database may be what is failing; the log keeps the cause
            logger.exception("could not mark identification %s failed", args[0])


@shared_task(
    base=IdentifyTask,
    name="recognition.identify",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def identify(identification_id: int) -> str:
    """Answer identification ``identification_id`` (a primary key: nothing heavy goes through Redis)."""
    return services.run_identification(identification_id)
