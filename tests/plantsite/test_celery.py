"""A real worker consumes a real task through the real Redis broker."""

from __future__ import annotations

import pytest

from plantsite.ping import ping


@pytest.mark.django_db(transaction=True)
def test_worker_consumes_task_through_redis(celery_worker):
    result = ping.delay("hello")
    assert result.get(timeout=60)["payload"] == "hello"


def test_celery_is_configured_for_safe_delivery(settings):
    from plantsite.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    # a message held longer than this goes to another worker: it must outlive the slowest task
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
