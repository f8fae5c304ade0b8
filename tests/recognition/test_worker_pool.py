"""The production worker pool (prefork) in tests: time limits and a pool child that dies mid-task."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from plantsite.celery import app
from recognition import services
from recognition.tasks import identify
from recognition.validators import prepare_uploads
from tests.workers import WorkerProcess, worker_env

from .conftest import photo_of, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)
TOO_LONG = "the identification took too long and was stopped: try again, or with fewer photos"


@pytest.fixture
def hold(tmp_path) -> Path:
    """A hold folder for tests.recognition.held_worker_settings, with the hold switched on."""
    folder = tmp_path / "hold"
    folder.mkdir()
    (folder / "hold").touch()
    return folder


@pytest.fixture
def time_limits(monkeypatch):
    """Set the identify task's (soft, hard) time limits for the messages this test sends."""

    def set_limits(soft: int, hard: int) -> None:
        # the sender writes the limits into each message (they win over the worker's), and
        # Celery caches them per task: reset the cache so that the new ones are sent
        monkeypatch.setattr(identify, "soft_time_limit", soft)
        monkeypatch.setattr(identify, "time_limit", hard)
        monkeypatch.setattr(identify, "_exec_options", None)

    return set_limits


def _held_worker(tmp_path, hold: Path, **env: str) -> WorkerProcess:
    return WorkerProcess(
        tmp_path,
        env=worker_env(
            DJANGO_SETTINGS_MODULE="tests.recognition.held_worker_settings",
            PLANTSITE_TEST_HOLD_DIR=str(hold),
            **env,
        ),
    ).start()


def _children_seen(hold: Path, at_least: int, timeout: float = 60.0) -> list[int]:
    """Return the pids of the pool children that reached the model, once there are ``at_least``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = sorted(int(p.name.split("-")[1]) for p in hold.glob("child-*"))
        if len(pids) >= at_least:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} pool children reached the model in {timeout:.0f}s")


def test_test_workers_run_the_production_prefork_pool(celery_worker):
    stats = app.control.inspect(destination=[celery_worker.name], timeout=5).stats()
    pool = stats[celery_worker.name]["pool"]
    assert pool["implementation"].endswith("prefork:TaskPool") and len(pool["processes"]) == 1


def test_the_soft_time_limit_marks_the_identification_failed(user, active_model, tmp_path, hold, time_limits):
    time_limits(soft=2, hard=30)
    worker = _held_worker(tmp_path, hold)
    try:
        identification = services.create_identification(user, prepare_uploads([photo_of((180, 60, 200))]))
        finished = wait_until_finished(identification.pk, timeout=60)
    finally:
        worker.stop()
    assert finished.status == "failed" and finished.error == TOO_LONG


def test_the_hard_time_limit_kills_the_child_and_marks_the_identification_failed(
    user, active_model, tmp_path, hold, time_limits
):
    (hold / "ignore-soft-limit").touch()  # like a forward pass stuck in native code
    time_limits(soft=5, hard=12)
    worker = _held_worker(tmp_path, hold)
    try:
        identification = services.create_identification(user, prepare_uploads([photo_of((180, 60, 200))]))
        [child] = _children_seen(hold, at_least=1)
        finished = wait_until_finished(identification.pk, timeout=60)
        assert "Hard time limit (12s) exceeded" in worker.log()
    finally:
        worker.stop()
    assert finished.status == "failed" and finished.error == TOO_LONG
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # the stuck child is gone


def test_a_pool_child_killed_mid_task_is_replaced_and_the_task_runs_again(user, active_model, tmp_path, hold):
    worker = _held_worker(tmp_path, hold)
    try:
        identification = services.create_identification(user, prepare_uploads([photo_of((40, 160, 90))]))
        [first] = _children_seen(hold, at_least=1)
        os.kill(first, signal.SIGKILL)
        (hold / "hold").unlink()
        finished = wait_until_finished(identification.pk, timeout=90)
        assert worker.process.poll() is None  # the worker itself lives on
    finally:
        worker.stop()
    assert finished.status == "done", finished.error
    assert finished.candidates.count() == 3
    assert len(_children_seen(hold, at_least=2)) == 2  # a new child ran the redelivered task
