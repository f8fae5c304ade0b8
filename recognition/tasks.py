"""The Celery task that answers an identification: a thin shell over recognition.pipeline."""

from __future__ import annotations

from celery import Task, shared_task

from . import pipeline, worker  # noqa: F401  (worker: the heartbeat and sweeper beside the tasks)


class IdentifyTask(Task):
    """Marks the identification failed once retries are exhausted or the time limit hits."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if args:
            pipeline.give_up(args[0], exc, self.request.retries)


@shared_task(
    base=IdentifyTask,
    name="recognition.identify",
    ignore_result=True,  # the database holds the answer
    autoretry_for=pipeline.TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def identify(identification_id: int) -> str:
    """Answer identification ``identification_id`` (a primary key: nothing heavy goes through Redis)."""
    return pipeline.run_identification(identification_id)
