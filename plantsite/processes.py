"""Child processes: stopping them (the broker, the launcher, the test workers) and finding them."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path

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


def descendants(pid: int) -> dict[int, str]:
    """Return {pid: command line} of every live process below ``pid`` (read from /proc; {} where there is none)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            try:
                found[child] = (proc / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue  # it ended meanwhile
            stack.append(child)
    return found
