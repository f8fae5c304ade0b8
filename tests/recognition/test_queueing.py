"""Queueing from the database: a broker that is down loses nothing, and the sweep queues each row once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from plantsite.broker import redis_client
from plantsite.celery import app
from recognition import queueing
from recognition.holders import WORKER_ID
from recognition.models import Identification
from recognition.tasks import identify

pytestmark = pytest.mark.django_db


def _use_broker(url: str) -> None:
    # The app keeps a pool of connections to the broker it was configured with: drop it.
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def broker_down(tmp_path):
    """The Celery app publishes to a Redis socket where nothing listens, for this test only."""
    saved = app.conf.broker_url
    _use_broker(f"redis+socket://{tmp_path}/gone.sock")
    yield
    _use_broker(saved)


def _queue_length() -> int:
    return redis_client(app.conf.broker_url).llen(app.conf.task_default_queue)


@pytest.fixture(autouse=True)
def _drop_published():
    """Take back the messages a test published: their rows are rolled back, their ids reused later."""
    before = _queue_length()
    yield
    extra = _queue_length() - before
    if extra > 0:
        redis_client(app.conf.broker_url).lpop(app.conf.task_default_queue, extra)  # newest are on the left


def _old_pending(user, **fields) -> Identification:
    identification = Identification.objects.create(owner=user, **fields)
    Identification.objects.filter(pk=identification.pk).update(created=timezone.now() - timedelta(minutes=1))
    return identification


def test_enqueue_stamps_the_row_and_publishes_one_message(user):
    identification = Identification.objects.create(owner=user)
    before = _queue_length()
    assert queueing.enqueue(identification.pk)
    assert Identification.objects.get(pk=identification.pk).queued is not None
    assert _queue_length() == before + 1


def test_a_queued_message_carries_no_time_limits_so_the_workers_own_apply(user):
    assert identify.soft_time_limit and identify.time_limit  # this (web) process has limits of its own
    assert queueing.enqueue(Identification.objects.create(owner=user).pk)
    newest = redis_client(app.conf.broker_url).lindex(app.conf.task_default_queue, 0)
    assert json.loads(newest)["headers"]["timelimit"] == [None, None]


def test_with_the_broker_down_enqueue_gives_up_within_seconds_and_leaves_the_row_unqueued(user, broker_down):
    identification = Identification.objects.create(owner=user)
    started = time.monotonic()
    assert queueing.enqueue(identification.pk) is False
    assert time.monotonic() - started < 3
    assert Identification.objects.get(pk=identification.pk).queued is None


def test_enqueue_does_nothing_for_a_row_already_queued_by_someone_else(user):
    identification = Identification.objects.create(owner=user, queued=timezone.now())
    assert queueing.enqueue(identification.pk) is False


def test_sweep_queues_pending_rows_never_queued_and_leaves_fresh_uploads_to_their_request(user):
    never_queued = _old_pending(user)
    fresh = Identification.objects.create(owner=user)
    assert queueing.sweep(live_workers=set()) == 1
    assert Identification.objects.get(pk=never_queued.pk).queued is not None
    assert Identification.objects.get(pk=fresh.pk).queued is None


def test_a_second_sweep_does_not_queue_the_same_row_again(user):
    _old_pending(user)
    assert queueing.sweep(live_workers=set()) == 1
    assert queueing.sweep(live_workers=set()) == 0


def test_sweep_requeues_a_row_queued_longer_ago_than_the_bound(user, settings):
    settings.RECOGNITION_REQUEUE_AFTER = 60
    _old_pending(user, queued=timezone.now() - timedelta(seconds=61))
    assert queueing.sweep(live_workers=set()) == 1


def test_sweep_returns_a_dead_workers_running_row_to_the_queue(user):
    orphan = _old_pending(user, status="running", worker="gone-1", started=timezone.now())
    alive = _old_pending(user, status="running", worker="alive-2", started=timezone.now())
    assert queueing.sweep(live_workers={"alive-2"}) == 1
    orphan.refresh_from_db(), alive.refresh_from_db()
    assert (orphan.status, orphan.worker) == ("pending", "") and orphan.queued is not None
    assert (alive.status, alive.worker) == ("running", "alive-2")


def test_sweep_returns_a_row_held_by_a_dead_process_of_this_worker_to_the_queue(user):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pool child killed with a batch in hand (its worker still beats)
    held = _old_pending(user, status="running", worker=f"{WORKER_ID}:{dead.pid}", started=timezone.now())
    mine = _old_pending(user, status="running", worker=f"{WORKER_ID}:{os.getpid()}", started=timezone.now())
    assert queueing.sweep(live_workers={WORKER_ID}) == 1
    held.refresh_from_db(), mine.refresh_from_db()
    assert held.status == "pending" and mine.status == "running"


def test_sweep_with_the_broker_down_keeps_every_row_for_the_next_sweep(user, broker_down):
    rows = [_old_pending(user) for _ in range(3)]
    assert queueing.sweep(live_workers=set()) == 0
    assert all(Identification.objects.get(pk=row.pk).queued is None for row in rows)
