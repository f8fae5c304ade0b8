"""Tell running workers that the served model changed, so that they load it before the next identification."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from plantsite.broker import redis_client

from .models import ModelVersion

logger = logging.getLogger(__name__)


def channel() -> str:
    """Return the Redis channel on which this deployment's workers hear of a newly served model."""
    return f"plantsite:model-activated:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def announce(version: ModelVersion) -> None:
    """Publish ``version``'s name once the transaction commits; workers that miss it find it at their next check."""

    def publish() -> None:
        try:
            listeners = redis_client(settings.CELERY_BROKER_URL).publish(channel(), version.name)
            logger.info("announced model %s to %s worker process(es)", version.name, listeners)
        except Exception as exc:  # the workers' periodic check still finds it, seconds later
            logger.warning(
                "could not announce model %s to the workers (%s); they find it at their next check", version.name, exc
            )

    transaction.on_commit(publish)


@receiver(post_save, sender=ModelVersion)
def _announce_saved(sender: type[ModelVersion], instance: ModelVersion, **_: object) -> None:
    # the admin and a rewritten checkpoint (`models calibrate`, `models species`) save the row
    if instance.is_active:
        announce(instance)
