"""The identify task in real worker processes: photo fusion, the ONNX runtime, surviving a worker SIGKILLed mid-task."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from PIL import Image

from ml.onnx import export_version
from ml.versions import onnx_path
from plantml.onnx_runtime import load_onnx_predictor
from plantml.predictor import Predictor
from recognition import services
from recognition.models import Identification
from recognition.validators import prepare_uploads
from tests.workers import WorkerProcess, worker_env

from .conftest import photo_of, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_status(pk: int, status: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Identification.objects.get(pk=pk).status != status:
        assert time.monotonic() < deadline, f"identification {pk} never became {status}"
        time.sleep(0.2)


def test_several_photos_are_fused_like_the_predictor_does(user, active_model, celery_worker):
    photos = prepare_uploads([photo_of(color) for color in ((220, 30, 30), (30, 200, 40), (40, 40, 210))])
    identification = wait_until_finished(services.create_identification(user, photos).pk)
    assert identification.status == "done", identification.error
    images = [Image.open(photo.file.path) for photo in identification.photos.all()]
    expected = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu").predict(
        images, top_k=settings.RECOGNITION_TOP_K
    )
    stored = list(identification.candidates.all())
    assert [c.label for c in stored] == [p.label for p in expected]
    assert [c.probability for c in stored] == pytest.approx([p.probability for p in expected], abs=1e-5)


def test_a_worker_with_the_onnx_runtime_serves_the_exported_model(user, active_model, tmp_path):
    export_version(active_model.name)
    worker = WorkerProcess(tmp_path, env=worker_env(RECOGNITION_RUNTIME="onnx")).start()
    try:
        photos = prepare_uploads([photo_of((220, 30, 30)), photo_of((30, 200, 40))])
        identification = wait_until_finished(services.create_identification(user, photos).pk)
    finally:
        worker.stop()
    assert identification.status == "done", identification.error
    assert f"loaded {onnx_path(active_model)}" in worker.log()
    images = [Image.open(photo.file.path) for photo in identification.photos.all()]
    expected = load_onnx_predictor(onnx_path(active_model)).predict(images, top_k=settings.RECOGNITION_TOP_K)
    stored = list(identification.candidates.all())
    assert [c.label for c in stored] == [p.label for p in expected]
    assert [c.probability for c in stored] == pytest.approx([p.probability for p in expected], abs=1e-5)


def test_a_worker_with_the_onnx_runtime_and_no_export_fails_with_the_export_command(user, active_model, tmp_path):
    worker = WorkerProcess(tmp_path, env=worker_env(RECOGNITION_RUNTIME="onnx")).start()
    try:
        photos = prepare_uploads([photo_of((220, 30, 30))])
        identification = wait_until_finished(services.create_identification(user, photos).pk)
    finally:
        worker.stop()
    assert identification.status == "failed"
    assert f"`manage.py models export {active_model.name}`" in identification.error


def _hang_on_open(path: str) -> bytes:
    """Replace the stored photo with a named pipe: a worker that opens it blocks, as on a stalled mount."""
    data = Path(path).read_bytes()
    os.remove(path)
    os.mkfifo(path)
    return data


def _restore(path: str, data: bytes) -> None:
    os.remove(path)
    Path(path).write_bytes(data)


# Redis would hand the killed worker's message out again only after the visibility timeout:
# an hour here, so the identification comes back through the heartbeats and the sweeper.
SWEEPING = {"CELERY_VISIBILITY_TIMEOUT": "3600", "RECOGNITION_HEARTBEAT_SECONDS": "1", "RECOGNITION_SWEEP_SECONDS": "1"}


def test_a_worker_killed_mid_task_leaves_the_identification_to_the_next_worker_within_seconds(
    user, active_model, tmp_path
):
    stuck, hanging = WorkerProcess(tmp_path, env=worker_env(**SWEEPING)).start(), None
    try:
        with transaction.atomic():  # the task is queued when this commits: once the photo hangs
            identification = services.create_identification(user, prepare_uploads([photo_of((180, 60, 200))]))
            path = identification.photos.get().file.path
            hanging = _hang_on_open(path)
        _wait_for_status(identification.pk, "running", timeout=60)
    finally:
        stuck.kill()
        if hanging is not None:  # never leave a pipe that would block the next worker
            _restore(path, hanging)
    assert Identification.objects.get(pk=identification.pk).status == "running"
    fresh = WorkerProcess(tmp_path, env=worker_env(**SWEEPING)).start()
    try:
        finished = wait_until_finished(identification.pk, timeout=60)
    finally:
        fresh.stop()
    assert finished.status == "done", finished.error
    assert finished.candidates.count() == 3


def test_a_new_pool_process_loads_the_active_model_before_any_identification(active_model, tmp_path):
    worker = WorkerProcess(tmp_path, env=worker_env()).start()
    try:
        worker.wait_for_log(f"model {active_model.name} loaded in")
    finally:
        worker.stop()
    assert not Identification.objects.exists()  # nothing was asked of it: the load came from its start
