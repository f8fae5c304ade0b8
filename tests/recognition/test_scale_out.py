"""Two workers on PostgreSQL share a burst; one is killed -9 mid-burst and every identification still ends done."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from bench.worker_process import WorkerProcess, worker_env
from recognition import services
from recognition.models import Identification
from recognition.validators import prepare_uploads

from .conftest import photo_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]
SWEEPING = {"RECOGNITION_HEARTBEAT_SECONDS": "1", "RECOGNITION_SWEEP_SECONDS": "1", "CELERY_VISIBILITY_TIMEOUT": "3600"}


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the scale-out test needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


def _ran_on(pid: int) -> int:
    """Return how many identifications a worker process with this pid claimed (its id embeds the pid)."""
    return Identification.objects.filter(worker__contains=f"-{pid}-").count()


def test_two_workers_share_a_burst_and_a_killed_one_loses_nothing(postgresql, user, active_model, tmp_path):
    first = WorkerProcess(tmp_path, env=worker_env(**SWEEPING)).start()
    second = WorkerProcess(tmp_path, env=worker_env(**SWEEPING)).start()
    try:
        for worker in (first, second):  # two warm workers: else the first one up answers the whole burst alone
            worker.wait_for_log("before the first identification", timeout=120)
        photos = prepare_uploads([photo_of((200, 40, 90))])
        ids = [services.create_identification(user, photos).pk for _ in range(40)]
        deadline = time.monotonic() + 120
        while _ran_on(first.process.pid) < 3 or _ran_on(second.process.pid) < 3:
            assert time.monotonic() < deadline, "the burst was not shared by both workers"
            time.sleep(0.2)
        first.kill()
        deadline = time.monotonic() + 240
        while Identification.objects.filter(pk__in=ids, status="done").count() < len(ids):
            assert time.monotonic() < deadline, list(
                Identification.objects.filter(pk__in=ids).exclude(status="done").values_list("pk", "status", "worker")
            )
            time.sleep(0.5)
    finally:
        first.kill()
        second.stop()
    assert Identification.objects.filter(pk__in=ids, candidates__rank=1).count() == len(ids)
