"""`make run`'s launcher under faults: a killed broker or worker is restarted and no accepted upload is lost."""

from __future__ import annotations

import time

import pytest

from bench.service import RunningService

pytestmark = pytest.mark.timeout(600)
FAST_SWEEP = {"RECOGNITION_SWEEP_SECONDS": "1", "RECOGNITION_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def service(tmp_path, tiny_checkpoint, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)  # the launcher's own embedded broker, which the test kills
    running = RunningService(tmp_path / "service", tiny_checkpoint, env=FAST_SWEEP)
    yield running.start()
    running.stop()


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "leaf.jpg"
    Image.new("RGB", (96, 80), (40, 150, 60)).save(path)
    return path


def test_an_upload_while_the_broker_is_dead_is_accepted_and_done_after_the_launcher_restarts_it(service, tmp_path):
    old = service.kill("redis-server")
    started = time.monotonic()
    status, body = service.upload(_photo(tmp_path))
    assert status == 202, body
    assert time.monotonic() - started < 10
    assert service.wait_finished([body["id"]], timeout=120) == {body["id"]: "done"}
    assert service.pids("redis-server") and old not in service.pids("redis-server")


def test_a_killed_worker_is_restarted_and_work_goes_on(service, tmp_path):
    old = service.kill("celery")
    status, body = service.upload(_photo(tmp_path))
    assert status == 202, body
    assert service.wait_finished([body["id"]], timeout=180) == {body["id"]: "done"}
    assert "restarting it" in service.log() and old not in service.pids("celery")
