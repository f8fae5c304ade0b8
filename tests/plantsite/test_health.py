"""/health/ reports the database, the broker, worker heartbeats and the active model separately."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.recognition.conftest import active_model  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


TOKEN = "monitor-7c1e0f"


@pytest.fixture(autouse=True)
def _health_token(settings):
    settings.HEALTH_TOKEN = TOKEN


def _health(client, expected_status: int, timeout: float = 0.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health/", headers={"X-Health-Token": TOKEN})
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


def test_an_anonymous_caller_gets_only_the_status(client, active_model):  # noqa: F811
    response = client.get("/health/")
    assert response.status_code == 503  # no worker runs here
    assert response.json() == {"status": "unavailable"}
    assert active_model.name not in response.content.decode()


def test_a_wrong_token_gets_only_the_status(client, active_model):  # noqa: F811
    assert client.get("/health/", headers={"X-Health-Token": "guess"}).json() == {"status": "unavailable"}


def test_staff_get_each_parts_details(client, active_model, django_user_model):  # noqa: F811
    client.force_login(django_user_model.objects.create_user("ops", "ops@example.org", "x", is_staff=True))
    checks = client.get("/health/").json()["checks"]
    assert checks["model"] == {"ok": True, "name": active_model.name}


def test_a_signed_in_user_who_is_not_staff_gets_only_the_status(client, active_model, django_user_model):  # noqa: F811
    client.force_login(django_user_model.objects.create_user("ivy", "ivy@example.org", "x"))
    assert "checks" not in client.get("/health/").json()
