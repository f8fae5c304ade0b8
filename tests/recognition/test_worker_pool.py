"""The production worker pool (prefork) in tests: time limits and a pool child that dies mid-task."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bench.worker_process import WorkerProcess, worker_env
from plantsite.celery import app
from recognition import services
from recognition.pipeline import too_many_deliveries
from recognition.tasks import identify
from recognition.validators import prepare_uploads

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


def test_a_soft_time_limit_set_only_in_the_workers_environment_marks_the_identification_failed(
    user, active_model, tmp_path, hold
):
    # this test process is a web side with its tasks loaded: Celery would copy its own limits (60 s) into
    # the message unless the sender leaves them out; only the worker's 2 s stop the task within 30 s
    assert identify.soft_time_limit > 30
    worker = _held_worker(tmp_path, hold, CELERY_TASK_SOFT_TIME_LIMIT="2", CELERY_TASK_TIME_LIMIT="30")
    try:
        identification = services.create_identification(user, prepare_uploads([photo_of((180, 60, 200))]))
        finished = wait_until_finished(identification.pk, timeout=30)  # well inside the web side's 60 s
    finally:
        worker.stop()
    assert finished.status == "failed" and finished.error == TOO_LONG


def test_a_hard_time_limit_set_only_in_the_workers_environment_kills_the_child_and_marks_it_failed(
    user, active_model, tmp_path, hold
):
    (hold / "ignore-soft-limit").touch()  # like a forward pass stuck in native code
    worker = _held_worker(tmp_path, hold, CELERY_TASK_SOFT_TIME_LIMIT="5", CELERY_TASK_TIME_LIMIT="12")
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


def _next_child(hold: Path, seen: set[int], timeout: float = 90.0) -> int:
    """Return the pid of a pool child that reached the model and is not in ``seen``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = {int(p.name.split("-")[1]) for p in hold.glob("child-*")} - seen
        if new:
            return new.pop()
        time.sleep(0.1)
    raise AssertionError(f"no new pool child reached the model in {timeout:.0f}s")


def test_a_photo_that_kills_its_worker_each_time_fails_after_the_delivery_limit_while_others_finish(
    user, active_model, tmp_path, hold, settings
):
    (hold / "hold-width").write_text("80")  # only a forward pass with the 80 px photo waits, to be killed there
    limit = settings.RECOGNITION_MAX_DELIVERIES
    worker = _held_worker(tmp_path, hold)
    killed: set[int] = set()
    try:
        poisoned = services.create_identification(user, prepare_uploads([photo_of((180, 60, 200), size=80)]))
        others = []
        for _ in range(limit):
            child = _next_child(hold, killed)
            if not others:  # queued while the poisoned one holds the worker: some may be redelivered beside it
                others = [
                    services.create_identification(user, prepare_uploads([photo_of(color)])).pk
                    for color in ((40, 160, 90), (200, 200, 40))
                ]
            os.kill(child, signal.SIGKILL)
            killed.add(child)
        failed = wait_until_finished(poisoned.pk, timeout=90)
        finished = [wait_until_finished(pk, timeout=90) for pk in others]
        assert worker.process.poll() is None
    finally:
        worker.stop()
    assert failed.status == "failed" and failed.error == too_many_deliveries(limit)
    assert failed.deliveries == limit
    assert [o.status for o in finished] == ["done", "done"], [o.error for o in finished]
