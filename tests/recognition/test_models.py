"""What an identification tells about itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recognition.models import Identification

pytestmark = pytest.mark.django_db


def test_the_wait_runs_from_the_upload_to_the_answer(user):
    identification = Identification.objects.create(owner=user)
    assert identification.wait_seconds is None
    identification.finished = identification.created + timedelta(seconds=4.8)
    assert identification.wait_seconds == pytest.approx(4.8)
