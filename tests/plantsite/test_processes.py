"""stop_process: children stop together, a stubborn one is killed with its process group, stopped ones are fine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from plantsite.processes import stop_process

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Ignores SIGTERM, and leaves a grandchild in its process group.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)']); print(child.pid, flush=True); time.sleep(60)",
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_several_children_stop_together_within_one_timeout():
    children = [subprocess.Popen(SLEEPER) for _ in range(3)]
    started = time.monotonic()
    stop_process(*children, timeout=10)
    assert all(child.returncode is not None for child in children)
    assert time.monotonic() - started < 5


def test_a_child_ignoring_sigterm_is_killed_with_its_process_group():
    leader = subprocess.Popen(STUBBORN, stdout=subprocess.PIPE, text=True, start_new_session=True)
    grandchild = int(leader.stdout.readline())
    stop_process(leader, timeout=0.5)
    assert leader.returncode == -9
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_stopped_or_missing_processes_are_left_alone():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    stop_process(done, None, timeout=1)
    assert done.returncode == 0
