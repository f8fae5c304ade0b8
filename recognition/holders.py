"""Who holds a running identification: a worker (the id its heartbeat carries) and the pool process in it."""

from __future__ import annotations

import os
import socket
import uuid

# Unique per worker start (pool children fork after this import and share it): rows claimed
# by an earlier run of a restarted worker are told apart from this run's.
WORKER_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def claimant() -> str:
    """Return the name this process writes on the rows it claims: the worker's id and its own pid."""
    return f"{WORKER_ID}:{os.getpid()}"


def is_orphan(holder: str, live_workers: set[str]) -> bool:
    """True when the holder's worker stopped beating, or it is a dead process of this very worker."""
    worker, _, pid = holder.partition(":")
    if worker not in live_workers:
        return True
    return worker == WORKER_ID and pid.isdigit() and not _alive(int(pid))


def held_by_a_dead_sibling(holder: str) -> bool:
    """True when the holder is a pool process of this worker that has died (a killed or replaced child)."""
    worker, _, pid = holder.partition(":")
    return worker == WORKER_ID and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
