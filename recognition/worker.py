"""What runs beside the tasks in each worker: its heartbeat and the sweeper, and the model loaded as a pool process starts."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from celery import signals
from django.conf import settings
from django.db import DatabaseError, connections
from redis.exceptions import RedisError

from ml import activation, reference_photos, runtime, versions
from plantsite import heartbeat
from plantsite.broker import redis_client

from . import queueing
from .holders import WORKER_ID

if TYPE_CHECKING:
    from ml.models import ModelVersion

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


@signals.worker_process_init.connect
def _preload_model(**_: object) -> None:
    # In a thread: the pool waits only a few seconds for a new process to report itself up, and loading
    # PyTorch and a model can take longer; a task that comes meanwhile waits on the registry's lock.
    ModelWatcher(settings.RECOGNITION_HEARTBEAT_SECONDS).start()


class ModelWatcher(threading.Thread):
    """Keeps this pool process's model the served one: loads it at start, then whenever another is activated.

    It hears of an activation on a Redis channel (ml.activation) and checks the registry every ``interval``
    seconds besides, so that an activation it did not hear of (Redis down, another path) is found too.
    """

    def __init__(self, interval: float) -> None:
        super().__init__(name="plantsite-model-watcher", daemon=True)
        self.interval = interval
        self._reported: Exception | None = None

    def run(self) -> None:
        preload_active_model()
        pubsub = None
        while True:
            try:
                if pubsub is None:
                    pubsub = redis_client(settings.CELERY_BROKER_URL, timeout=self.interval + 5).pubsub()
                    pubsub.subscribe(activation.channel())
                pubsub.get_message(ignore_subscribe_messages=True, timeout=self.interval)
            except (RedisError, OSError) as exc:
                logger.debug("model channel unavailable (%s); checking the registry every %.0fs", exc, self.interval)
                pubsub = None
                time.sleep(self.interval)
            self.check()

    def check(self) -> None:
        """Load the active version when it is not the one this process serves; on failure keep the old one."""
        try:
            version = versions.active_version()
            if version is None or runtime.predictors.loaded_key() == (version.pk, version.sha256):
                return
            serving = runtime.predictors.loaded()
            try:
                load(version)
            except Exception as exc:
                if exc is not self._reported:  # a failed load is retried later; say so once per attempt
                    self._reported = exc
                    logger.warning(
                        "could not load the activated model %s (%s); %s",
                        version.name,
                        exc,
                        f"model {serving[0].name} keeps serving" if serving else "identifications fail until it loads",
                    )
                return
        except DatabaseError as exc:
            logger.warning("could not read the active model (%s); checking again in %.0fs", exc, self.interval)
        except Exception:  # the watcher must outlive any surprise, or activations wait for the next task
            logger.exception("checking the active model failed; checking again in %.0fs", self.interval)
        finally:
            connections.close_all()


def preload_active_model() -> None:
    """Load the active model into this process's predictor cache; on failure the first identification retries it."""
    try:
        version = versions.active_version()
        if version is not None:
            load(version)
    except Exception as exc:  # the first identification loads it again and reports the cause
        logger.warning("could not load the active model at start (%s); the first identification tries again", exc)
    finally:
        connections.close_all()


def load(version: ModelVersion) -> None:
    """Load ``version`` into this process's predictor cache with its reference features; log how long it took."""
    started = time.perf_counter()
    runtime.predictors.get(version)
    reference_photos.reference_features(version)  # read by the first answer's similar photos
    logger.info(
        "model %s loaded in %.1fs, before the first identification", version.name, time.perf_counter() - started
    )
