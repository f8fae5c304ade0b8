"""Worker liveness in Redis: each worker refreshes a key with a short TTL; no key means no live worker."""

from __future__ import annotations

import time

PREFIX = "plantsite:heartbeat"


def _key(queue: str, worker_id: str) -> str:
    return f"{PREFIX}:{queue}:{worker_id}"


def beat(client, queue: str, worker_id: str, ttl: float) -> None:
    """Mark ``worker_id`` alive on ``queue`` for the next ``ttl`` seconds."""
    client.set(_key(queue, worker_id), f"{time.time():.3f}", px=int(ttl * 1000))


def forget(client, queue: str, worker_id: str) -> None:
    """Remove the worker's heartbeat at once (a clean shutdown)."""
    client.delete(_key(queue, worker_id))


def live_workers(client, queue: str) -> set[str]:
    """Return the ids of the workers on ``queue`` whose heartbeat has not expired."""
    prefix = _key(queue, "")
    return {key.decode().removeprefix(prefix) for key in client.scan_iter(match=f"{prefix}*", count=500)}
