"""Retries run for real: a transient storage error in a real worker is retried, and the retry answers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.db import transaction

from recognition import services
from recognition.models import Identification
from recognition.validators import prepare_uploads

from .conftest import photo_of, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_a_failed_attempt(pk: int, timeout: float = 90.0) -> None:
    """Return once a worker has claimed the identification and given it back (pending again, started set)."""
    deadline = time.monotonic() + timeout
    while True:
        row = Identification.objects.get(pk=pk)
        if row.started is not None and row.status == Identification.Status.PENDING:
            return
        assert row.status not in ("done", "failed"), f"the first attempt did not fail transiently: {row.error}"
        assert time.monotonic() < deadline, "no worker ever tried the identification"
        time.sleep(0.05)


def test_a_transient_storage_error_is_retried_and_the_retry_answers(user, active_model, celery_worker):
    with transaction.atomic():  # the task is queued when this commits, after the photo became unreadable
        identification = services.create_identification(user, prepare_uploads([photo_of((200, 40, 40))]))
        path = Path(identification.photos.get().file.path)
        data = path.read_bytes()
        path.unlink()
        path.mkdir()  # opening it fails with EISDIR: an OSError with an errno, as from a failing mount
    try:
        _wait_for_a_failed_attempt(identification.pk)
    finally:
        os.rmdir(path)
        path.write_bytes(data)
    finished = wait_until_finished(identification.pk)
    assert finished.status == "done", finished.error
    assert finished.candidates.count() > 0


def test_give_up_after_the_last_retry_marks_the_identification_failed(user, active_model):
    from recognition.tasks import identify

    identification = services.create_identification(user, prepare_uploads([photo_of((200, 40, 40))]))
    path = Path(identification.photos.get().file.path)
    path.unlink()
    path.mkdir()  # a storage error that stays: every attempt fails transiently
    try:
        # the attempt after the last retry, run in this process as the worker would run it
        result = identify.apply(args=[identification.pk], retries=identify.max_retries)
    finally:
        os.rmdir(path)
    assert result.failed()
    row = Identification.objects.get(pk=identification.pk)
    assert row.status == "failed" and row.finished is not None
    assert f"failed after {identify.max_retries} retries" in row.error and "try again later" in row.error
