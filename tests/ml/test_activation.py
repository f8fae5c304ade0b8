"""Activating a model tells the workers at once, by every path; a version that fails to load leaves the old one."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from ml import activation
from ml.runtime import PredictorCache
from ml.versions import activate_version, register_checkpoint
from plantsite.broker import redis_client

pytestmark = pytest.mark.django_db(transaction=True)  # the announcement is published on commit


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"


@pytest.fixture
def heard():
    """Return a function giving the names announced on the model channel since this fixture subscribed."""
    pubsub = redis_client(settings.CELERY_BROKER_URL).pubsub()
    pubsub.subscribe(activation.channel())
    pubsub.get_message(timeout=2)  # the subscription's own confirmation

    def names(wait: float = 2.0) -> list[str]:
        found, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message:
                found.append(message["data"].decode())
        return found

    yield names
    pubsub.close()


def test_activate_version_announces_the_new_model(tiny_checkpoint, heard):
    register_checkpoint(tiny_checkpoint, "first", activate=True)
    register_checkpoint(tiny_checkpoint, "second")
    assert heard() == ["first"]
    activate_version("second")
    assert heard() == ["second"]


def test_activating_in_the_admin_announces_it_too(tiny_checkpoint, heard, admin_client):
    version = register_checkpoint(tiny_checkpoint, "from-admin")
    assert heard() == []
    form = {
        "name": version.name,
        "title": "",
        "architecture": version.architecture,
        "species": "[]",
        "input_size": version.input_size,
        "is_active": "on",
    }
    response = admin_client.post(f"/admin/ml/modelversion/{version.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    version.refresh_from_db()
    assert version.is_active
    assert heard() == ["from-admin"]


def test_saving_an_inactive_version_announces_nothing(tiny_checkpoint, heard):
    version = register_checkpoint(tiny_checkpoint, "idle")
    version.title = "Spring"
    version.save()
    assert heard() == []


def test_a_failed_load_keeps_the_loaded_version_and_is_not_retried_at_once(tiny_checkpoint):
    first = register_checkpoint(tiny_checkpoint, "first", activate=True)
    second = register_checkpoint(tiny_checkpoint, "second")
    cache = PredictorCache()
    predictor = cache.get(first)
    second.sha256 = "0" * 64  # the file no longer matches what was registered
    with pytest.raises(Exception, match="SHA-256 differs") as failed:
        cache.get(second)
    assert cache.loaded() == (first, predictor)
    assert cache.loaded_key() == (first.pk, first.sha256)
    with pytest.raises(Exception) as again:
        cache.get(second)
    assert again.value is failed.value  # remembered: a task does not pay for the same failure again


def test_two_threads_asking_for_a_new_version_load_it_once(tiny_checkpoint, monkeypatch):
    import threading

    from ml import runtime

    version = register_checkpoint(tiny_checkpoint, "once", activate=True)
    loads = []
    real_load = runtime.load_predictor

    def counted_load(*args, **kwargs):
        loads.append(threading.current_thread().name)
        time.sleep(0.5)  # a slow load: the other thread arrives while it runs
        return real_load(*args, **kwargs)

    monkeypatch.setattr(runtime, "load_predictor", counted_load)
    cache, got = PredictorCache(), []
    threads = [threading.Thread(target=lambda: got.append(cache.get(version)), name=n) for n in ("watcher", "task")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and got[0] is got[1]
