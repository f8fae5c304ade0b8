"""A running worker loads a newly activated model by itself, before any identification asks for it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.worker_process import WorkerProcess
from ml import versions
from ml.models import ModelVersion
from recognition import services
from recognition.validators import prepare_uploads

from .conftest import photo_of, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def _identify(user):
    return wait_until_finished(services.create_identification(user, prepare_uploads([photo_of((40, 160, 60))])).pk)


def test_the_worker_loads_the_activated_model_before_the_next_identification(
    user, active_model, tiny_checkpoint, tmp_path
):
    worker = WorkerProcess(tmp_path).start()
    try:
        worker.wait_for_log(f"model {active_model.name} loaded", timeout=120)
        assert _identify(user).model_version == active_model

        second = versions.register_checkpoint(tiny_checkpoint, name=f"second-{uuid.uuid4().hex[:6]}")
        call_command("models", "activate", second.name)
        # no identification is sent until the worker says it has the new model
        worker.wait_for_log(f"model {second.name} loaded", timeout=120)
        answered = _identify(user)
        assert (answered.status, answered.model_version) == ("done", second)

        # a newly activated version that cannot load: the worker says why, and the old one keeps answering
        broken = versions.register_checkpoint(tiny_checkpoint, name=f"broken-{uuid.uuid4().hex[:6]}")
        Path(broken.checkpoint_path).write_bytes(b"not a checkpoint")
        ModelVersion.objects.filter(is_active=True).update(is_active=False)
        ModelVersion.objects.filter(pk=broken.pk).update(is_active=True)
        broken.refresh_from_db()
        broken.save()  # any save of the active row announces it, as the admin's does
        worker.wait_for_log(f"could not load the activated model {broken.name}", timeout=60)
        assert f"model {second.name} keeps serving" in worker.log()
        answered = _identify(user)
        assert (answered.status, answered.model_version) == ("done", second)
    finally:
        worker.stop()


def test_the_periodic_check_finds_an_activation_nobody_announced(active_model, tiny_checkpoint, caplog):
    from ml import runtime
    from recognition.worker import ModelWatcher

    runtime.predictors.clear()
    watcher = ModelWatcher(interval=1.0)
    watcher.check()
    assert runtime.predictors.loaded_key() == (active_model.pk, active_model.sha256)
    quiet = versions.register_checkpoint(tiny_checkpoint, name=f"quiet-{uuid.uuid4().hex[:6]}")
    ModelVersion.objects.filter(is_active=True).update(is_active=False)
    ModelVersion.objects.filter(pk=quiet.pk).update(is_active=True)  # no save, no announcement
    watcher.check()
    assert runtime.predictors.loaded_key() == (quiet.pk, quiet.sha256)
    assert f"model {quiet.name} loaded" in caplog.text
    runtime.predictors.clear()
