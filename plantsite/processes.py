"""Stopping child processes: the one helper the broker, the launcher and the test workers use."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time

logger = logging.getLogger(__name__)


def stop_process(*processes: subprocess.Popen | None, timeout: float) -> None:
    """Terminate ``processes`` together and wait; SIGKILL those that outlive ``timeout``. Safe on stopped ones."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("pid %d (%s) did not stop in %.0fs; killing it", process.pid, _name(process), timeout)
            _kill(process)
            process.wait()


def _kill(process: subprocess.Popen) -> None:
    # A child started in its own session leads a process group: kill its helpers (gunicorn's workers) too.
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
            return
    except ProcessLookupError:
        return
    process.kill()


def _name(process: subprocess.Popen) -> str:
    args = process.args if isinstance(process.args, (list, tuple)) else [process.args]
    return " ".join(map(str, args))[:120]
