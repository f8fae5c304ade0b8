"""Micro-batching: one task answers the identifications waiting beside its own in one forward pass, each on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from bench.worker_process import ROOT, WorkerProcess, worker_env
from ml import versions
from plantml.predictor import Predictor
from recognition import pipeline, services
from recognition.models import Identification
from recognition.validators import prepare_uploads

from .conftest import photo_of, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)
COLOURS = [(220, 30, 30), (30, 200, 40), (40, 40, 210), (200, 200, 20), (10, 120, 200), (150, 60, 160)]
TOO_LONG = "the identification took too long and was stopped: try again, or with fewer photos"


@pytest.fixture(autouse=True)
def _purge_queued_tasks():
    """Tests that run the pipeline here drop the messages their uploads queued, so no worker takes them later."""
    from plantsite.celery import app

    yield
    app.control.purge()


def _create(user, *colours, **kwargs) -> Identification:
    """Store an identification the way an upload does, one photo per colour."""
    return services.create_identification(user, prepare_uploads([photo_of(c) for c in colours]), **kwargs)


def _status(identification: Identification) -> str:
    return Identification.objects.get(pk=identification.pk).status


def test_one_task_answers_the_identifications_waiting_beside_its_own(user, active_model):
    first, *others = [_create(user, colour) for colour in COLOURS[:4]]
    assert pipeline.run_identification(first.pk) == "done"
    assert [_status(i) for i in others] == ["done"] * 3


def test_each_identification_of_a_batch_gets_its_own_answer(user, active_model):
    identifications = [_create(user, *COLOURS[i : i + 2]) for i in (0, 2, 4)]
    pipeline.run_identification(identifications[0].pk)
    predictor = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")
    for identification in identifications:
        images = [Image.open(photo.file.path) for photo in identification.photos.all()]
        expected = predictor.predict(images, top_k=settings.RECOGNITION_TOP_K)
        stored = list(identification.candidates.all())
        assert [c.label for c in stored] == [p.label for p in expected]
        assert [c.probability for c in stored] == pytest.approx([p.probability for p in expected], abs=1e-4)


def test_a_batch_holds_at_most_the_batch_photos_setting_oldest_first(user, active_model, settings):
    settings.RECOGNITION_BATCH_PHOTOS = 4
    first, second, third = (_create(user, *COLOURS[i : i + 2]) for i in (0, 2, 4))
    pipeline.run_identification(first.pk)
    assert (_status(second), _status(third)) == ("done", "pending")


def test_a_batch_of_one_photo_answers_only_its_own_identification(user, active_model, settings):
    settings.RECOGNITION_BATCH_PHOTOS = 1
    first, second = _create(user, COLOURS[0]), _create(user, COLOURS[1])
    pipeline.run_identification(first.pk)
    assert (_status(first), _status(second)) == ("done", "pending")


def test_a_corrupt_photo_fails_only_its_own_identification(user, active_model):
    first, corrupt, last = (_create(user, colour) for colour in COLOURS[:3])
    Path(corrupt.photos.get().file.path).write_bytes(b"garbage, not a photo")
    pipeline.run_identification(first.pk)
    corrupt.refresh_from_db()
    assert corrupt.status == "failed" and "corrupt in storage" in corrupt.error
    assert (_status(first), _status(last)) == ("done", "done")


def test_an_identification_asked_of_another_model_is_left_to_its_own_task(user, active_model, tiny_checkpoint):
    other = versions.register_checkpoint(tiny_checkpoint, name=f"tiny-{uuid.uuid4().hex[:8]}", activate=False)
    first = _create(user, COLOURS[0])
    elsewhere = _create(user, COLOURS[1], model_version=other)
    pipeline.run_identification(first.pk)
    assert _status(elsewhere) == "pending"


def test_a_transient_error_on_its_own_photos_releases_it_for_the_retry_and_the_others_are_answered(user, active_model):
    first, other = _create(user, COLOURS[0]), _create(user, COLOURS[1])
    path = Path(first.photos.get().file.path)
    data = path.read_bytes()
    path.unlink()
    path.mkdir()  # opening it fails with EISDIR: an OSError with an errno, as from a failing mount
    try:
        with pytest.raises(IsADirectoryError):
            pipeline.run_identification(first.pk)
    finally:
        path.rmdir()
        path.write_bytes(data)
    assert (_status(first), _status(other)) == ("pending", "done")


def test_a_transient_error_on_another_identifications_photos_gives_it_back_to_the_sweeper(user, active_model):
    first, other = _create(user, COLOURS[0]), _create(user, COLOURS[1])
    path = Path(other.photos.get().file.path)
    data = path.read_bytes()
    path.unlink()
    path.mkdir()
    try:
        assert pipeline.run_identification(first.pk) == "done"
    finally:
        path.rmdir()
        path.write_bytes(data)
    other.refresh_from_db()
    assert (other.status, other.worker, other.queued) == ("pending", "", None)  # the next sweep queues it


@pytest.mark.parametrize(("name", "value"), [("RECOGNITION_BATCH_PHOTOS", "0"), ("RECOGNITION_BATCH_WAIT_MS", "soon")])
def test_a_wrong_batch_setting_stops_the_start_with_what_to_set(tmp_path, name, value):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "plantsite.settings.base", "PLANTSITE_DATA_DIR": str(tmp_path)}
    env[name] = value
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert f"{name}='{value}': set it to a whole number" in result.stderr


# --- in a real worker --------------------------------------------------------------------------------------


def _held_worker(tmp_path: Path, hold: Path, **env: str) -> WorkerProcess:
    return WorkerProcess(
        tmp_path,
        env=worker_env(
            DJANGO_SETTINGS_MODULE="tests.recognition.held_worker_settings", PLANTSITE_TEST_HOLD_DIR=str(hold), **env
        ),
    ).start()


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f}s"
        time.sleep(0.1)


def test_a_real_worker_answers_a_burst_waiting_for_it_in_one_forward_pass(user, active_model, tmp_path):
    waiting = [_create(user, colour) for colour in COLOURS]  # queued before any worker runs
    worker = WorkerProcess(tmp_path).start()
    try:
        finished = [wait_until_finished(identification.pk) for identification in waiting]
        _wait_for(lambda: worker.log().count("succeeded in") == len(waiting), "every message acknowledged")
    finally:
        worker.stop()
    assert [identification.status for identification in finished] == ["done"] * len(waiting)
    assert worker.log().count("one forward pass answered 6 identification(s), 6 photo(s)") == 1


def test_an_identification_deleted_mid_batch_leaves_the_others_answered(user, active_model, tmp_path):
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "hold").touch()
    first, deleted, last = (_create(user, colour) for colour in COLOURS[:3])
    worker = _held_worker(tmp_path, hold)
    try:
        _wait_for(lambda: any(hold.glob("child-*")), "the batch reaching the model")
        services.delete_identification(Identification.objects.get(pk=deleted.pk))
        (hold / "hold").unlink()
        finished = [wait_until_finished(first.pk), wait_until_finished(last.pk)]
    finally:
        worker.stop()
    assert [identification.status for identification in finished] == ["done", "done"]
    assert not Identification.objects.filter(pk=deleted.pk).exists()


def test_a_soft_time_limit_fails_its_own_identification_and_the_rest_of_the_batch_is_answered(
    user, active_model, tmp_path
):
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "hold").touch()
    own, *others = (_create(user, colour) for colour in COLOURS[:3])
    worker = _held_worker(tmp_path, hold, CELERY_TASK_SOFT_TIME_LIMIT="3", CELERY_TASK_TIME_LIMIT="30")
    try:
        failed = wait_until_finished(own.pk, timeout=60)
        (hold / "hold").unlink()
        answered = [wait_until_finished(identification.pk, timeout=60) for identification in others]
    finally:
        worker.stop()
    assert failed.status == "failed" and failed.error == TOO_LONG
    assert [identification.status for identification in answered] == ["done", "done"], [
        (identification.pk, identification.error) for identification in answered
    ]


def test_a_hard_time_limit_fails_its_own_identification_and_the_rest_of_the_batch_is_answered(
    user, active_model, tmp_path
):
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "hold").touch()
    (hold / "ignore-soft-limit").touch()  # like a forward pass stuck in native code: the child is killed
    own, *others = (_create(user, colour) for colour in COLOURS[:3])
    worker = _held_worker(
        tmp_path, hold, CELERY_TASK_SOFT_TIME_LIMIT="4", CELERY_TASK_TIME_LIMIT="8", RECOGNITION_SWEEP_SECONDS="1"
    )
    try:
        failed = wait_until_finished(own.pk, timeout=60)
        (hold / "hold").unlink()
        answered = [wait_until_finished(identification.pk, timeout=60) for identification in others]
        assert "Hard time limit (8s) exceeded" in worker.log()
    finally:
        worker.stop()
    assert failed.status == "failed" and failed.error == TOO_LONG
    assert [identification.status for identification in answered] == ["done", "done"], [
        (identification.pk, identification.error) for identification in answered
    ]
