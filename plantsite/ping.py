"""Service-level Celery tasks."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="plantsite.ping")
def ping(payload: str = "pong") -> dict[str, str]:
    """Return the payload and the worker's host name: proves a worker consumed the task."""
    return {"payload": payload, "hostname": socket.gethostname()}
