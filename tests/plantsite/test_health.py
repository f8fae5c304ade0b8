"""/health/ reports the database, the broker, worker heartbeats and the active model separately."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.recognition.conftest import active_model  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _health(client, expected_status: int, timeout: float = 0.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health/")
        if response.status_code == expected_status or time.monotonic() >= deadline:
            break
        time.sleep(0.3)
    assert response.status_code == expected_status, response.json()
    return response.json()["checks"]


def test_all_parts_up_is_200_with_each_check_ok(client, active_model, celery_worker):  # noqa: F811
    checks = _health(client, 200, timeout=30)
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["workers"] == {"ok": True, "count": 1}
    assert checks["model"] == {"ok": True, "name": active_model.name}


def test_no_live_worker_is_503_and_says_how_to_start_one(client, active_model):  # noqa: F811
    checks = _health(client, 503)
    assert checks["workers"]["ok"] is False and "celery -A plantsite worker" in checks["workers"]["error"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["model"]["ok"]


def test_a_broker_that_does_not_answer_is_503(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path}/gone.sock"
    checks = _health(client, 503)
    assert checks["broker"]["ok"] is False and "start Redis" in checks["broker"]["error"]
    assert checks["database"]["ok"]


def test_a_missing_model_file_is_503_naming_the_file(client, active_model):  # noqa: F811
    Path(active_model.checkpoint_path).unlink()
    checks = _health(client, 503)
    assert checks["model"]["ok"] is False and "is missing" in checks["model"]["error"]
