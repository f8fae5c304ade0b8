"""Worker heartbeats in the real Redis: live while refreshed, gone when forgotten or expired."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from plantsite import heartbeat
from plantsite.broker import redis_client


@pytest.fixture
def client():
    return redis_client(settings.CELERY_BROKER_URL)


@pytest.fixture
def queue():
    return f"heartbeat-test-{uuid.uuid4().hex[:8]}"


def test_a_beating_worker_is_live_on_its_queue_only(client, queue):
    heartbeat.beat(client, queue, "w1-123", ttl=10)
    assert heartbeat.live_workers(client, queue) == {"w1-123"}
    assert heartbeat.live_workers(client, queue + "-other") == set()
    heartbeat.forget(client, queue, "w1-123")


def test_a_forgotten_worker_is_no_longer_live(client, queue):
    heartbeat.beat(client, queue, "w1-123", ttl=10)
    heartbeat.forget(client, queue, "w1-123")
    assert heartbeat.live_workers(client, queue) == set()


def test_a_heartbeat_expires_after_its_ttl(client, queue):
    heartbeat.beat(client, queue, "w2-456", ttl=0.2)
    time.sleep(0.4)
    assert heartbeat.live_workers(client, queue) == set()
