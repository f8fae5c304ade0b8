"""Fixtures for the plantsite tests: a migrated data folder for a launcher of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def launcher_env(tmp_path):
    """Return an environment for a launcher: test settings, a migrated database and media in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "CELERY_QUEUE")}
    env.update(
        DJANGO_SETTINGS_MODULE="plantsite.settings.test",
        PLANTSITE_DATA_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env
