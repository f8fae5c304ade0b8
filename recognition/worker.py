"""What runs beside the tasks in each worker process: its heartbeat and the sweeper."""

from __future__ import annotations

import logging
import threading
import time

from celery import signals
from django.conf import settings
from django.db import DatabaseError, connections
from redis.exceptions import RedisError

from plantsite import heartbeat
from plantsite.broker import redis_client

from . import queueing
from .holders import WORKER_ID

logger = logging.getLogger(__name__)


class WorkerMonitor(threading.Thread):
    """Refreshes this worker's heartbeat every ``interval`` s and sweeps every ``sweep_every`` s."""

    def __init__(self, queue: str, interval: float, sweep_every: float) -> None:
        super().__init__(name="plantsite-monitor", daemon=True)
        self.queue, self.interval, self.sweep_every = queue, interval, sweep_every
        self.client = redis_client(settings.CELERY_BROKER_URL, timeout=max(1.0, interval))
        self.stopped = threading.Event()

    def run(self) -> None:
        next_sweep = 0.0
        while not self.stopped.is_set():
            try:
                heartbeat.beat(self.client, self.queue, WORKER_ID, ttl=self.interval * 3)
                if time.monotonic() >= next_sweep:
                    queueing.sweep(heartbeat.live_workers(self.client, self.queue))
                    next_sweep = time.monotonic() + self.sweep_every
            except (RedisError, OSError, DatabaseError) as exc:
                logger.warning("heartbeat/sweep skipped this round (%s); retrying in %.0fs", exc, self.interval)
            finally:
                connections.close_all()
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        """Stop the loop and drop the heartbeat, so that what this worker held is swept at once."""
        self.stopped.set()
        self.join(timeout=self.interval + 5)
        try:
            heartbeat.forget(self.client, self.queue, WORKER_ID)
        except (RedisError, OSError):
            pass  # the heartbeat expires by itself


_monitor: WorkerMonitor | None = None


@signals.worker_ready.connect
def _start_monitor(**_: object) -> None:
    global _monitor
    _monitor = WorkerMonitor(
        settings.CELERY_TASK_DEFAULT_QUEUE, settings.RECOGNITION_HEARTBEAT_SECONDS, settings.RECOGNITION_SWEEP_SECONDS
    )
    _monitor.start()
    logger.info(
        "worker %s: heartbeat every %.0fs, sweep every %.0fs", WORKER_ID, _monitor.interval, _monitor.sweep_every
    )


@signals.worker_shutdown.connect
def _stop_monitor(**_: object) -> None:
    if _monitor is not None:
        _monitor.stop()
