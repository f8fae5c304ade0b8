"""With the throttle cache (Redis) down the API keeps answering, counting requests per process instead."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db
LIST = "/api/identifications/"


@pytest.fixture
def redis_down(settings, tmp_path):
    """Point the default cache at a Redis socket where nothing listens."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": f"unix://{tmp_path}/gone.sock"},
    }


def test_reads_keep_working_with_a_log_line_when_the_throttle_cache_is_down(api, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="recognition.throttles"):
        response = api.get(LIST)
    assert response.status_code == 200
    assert "throttle cache unreachable" in caplog.text


def test_the_local_fallback_still_throttles_uploads(api, redis_down, settings):
    settings.RECOGNITION_UPLOAD_RATE = "2/hour"
    caches["local"].clear()
    statuses = [api.post(LIST, {}, format="multipart").status_code for _ in range(3)]
    assert statuses[2] == 429 and 429 not in statuses[:2]
