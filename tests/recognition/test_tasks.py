"""The identify task run in this process: idempotency, permanent and exhausted failures."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import OperationalError

from ml import runtime, versions
from recognition import services
from recognition.holders import WORKER_ID
from recognition.models import Identification
from recognition.pipeline import claim, release, too_many_deliveries
from recognition.tasks import identify
from recognition.validators import prepare_uploads

from .conftest import photo_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _purge_queued_tasks():
    """These tests run the task here: drop the messages their uploads queued, so no worker takes them later."""
    from plantsite.celery import app

    yield
    app.control.purge()


def _create(user, *colors):
    """Store an identification the way an upload does (its task is queued on commit)."""
    return services.create_identification(user, prepare_uploads([photo_of(color) for color in colors]))


def test_a_finished_identification_is_not_recomputed(user, active_model):
    identification = _create(user, (200, 200, 20))
    identify.apply(args=[identification.pk])
    first = list(identification.candidates.values_list("pk", "probability"))
    assert identify.apply(args=[identification.pk]).get() == "done"
    assert list(identification.candidates.values_list("pk", "probability")) == first


def test_a_redelivered_identification_a_dead_process_of_this_worker_held_is_resumed(user, active_model):
    identification = _create(user, (10, 120, 200))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # like a pool child killed mid-task
    Identification.objects.filter(pk=identification.pk).update(status="running", worker=f"{WORKER_ID}:{dead.pid}")
    assert identify.apply(args=[identification.pk]).get() == "done"
    assert identification.candidates.count() == 3


def test_a_redelivery_after_its_holder_died_the_limit_times_fails_it_with_the_message(user, active_model, settings):
    identification = _create(user, (10, 120, 200))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    Identification.objects.filter(pk=identification.pk).update(
        status="running", worker=f"{WORKER_ID}:{dead.pid}", deliveries=settings.RECOGNITION_MAX_DELIVERIES
    )
    assert identify.apply(args=[identification.pk]).get() == "failed"
    identification.refresh_from_db()
    assert identification.status == "failed" and identification.error == too_many_deliveries(3)
    assert identification.candidates.count() == 0


def test_a_claim_given_back_cleanly_does_not_count_as_a_delivery(user, active_model):
    identification = _create(user, (10, 120, 200))
    assert claim(identification.pk)
    release([identification.pk])
    identification.refresh_from_db()
    assert (identification.status, identification.deliveries) == ("pending", 0)


def test_a_message_for_an_identification_a_live_process_of_this_worker_holds_is_dropped(user, active_model):
    identification = _create(user, (10, 120, 200))
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # another pool child
    try:
        Identification.objects.filter(pk=identification.pk).update(
            status="running", worker=f"{WORKER_ID}:{sibling.pid}"
        )
        assert identify.apply(args=[identification.pk]).get() == "running"
    finally:
        sibling.kill()
        sibling.wait()
    assert identification.candidates.count() == 0


def test_a_message_for_an_identification_another_worker_runs_is_dropped(user, active_model):
    identification = _create(user, (10, 120, 200))
    Identification.objects.filter(pk=identification.pk).update(status="running", worker="other-worker-1")
    assert identify.apply(args=[identification.pk]).get() == "running"
    assert identification.candidates.count() == 0


def test_a_deleted_identification_is_skipped(user, active_model):
    assert identify.apply(args=[987654]).get() == "gone"


def test_no_active_model_marks_it_failed_with_the_fix(user, active_model):
    identification = _create(user, (90, 90, 90))
    active_model.is_active = False
    active_model.save()
    identify.apply(args=[identification.pk])
    identification.refresh_from_db()
    assert identification.status == "failed" and identification.error == versions.NO_ACTIVE_MODEL


def test_a_missing_checkpoint_marks_it_failed(user, active_model):
    identification = _create(user, (90, 90, 90))
    runtime.predictors.clear()
    __import__("os").remove(active_model.checkpoint_path)
    identify.apply(args=[identification.pk])
    identification.refresh_from_db()
    assert (
        identification.status == "failed"
        and "cannot be loaded" in identification.error
        and "missing" in identification.error
    )


@pytest.mark.parametrize("content", [b"garbage, not a photo", None], ids=["garbage", "truncated"])
def test_a_corrupt_stored_photo_marks_it_failed(user, active_model, content):
    identification = _create(user, (90, 90, 90))
    path = identification.photos.get().file.path
    data = open(path, "rb").read()
    open(path, "wb").write(content if content is not None else data[: len(data) // 2])
    identify.apply(args=[identification.pk])
    identification.refresh_from_db()
    assert identification.status == "failed" and "corrupt in storage" in identification.error


def test_exhausted_retries_of_a_transient_error_mark_it_failed(user, active_model):
    identification = _create(user, (90, 90, 90))
    identify.on_failure(OperationalError("database is locked"), "task-id", [identification.pk], {}, None)
    identification.refresh_from_db()
    assert identification.status == "failed" and "database is locked" in identification.error
    assert OperationalError in identify.autoretry_for and OSError in identify.autoretry_for
