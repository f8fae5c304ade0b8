"""Real Celery worker subprocesses wired to this process's database, media and queue: for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from plantsite.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]


def database_url(settings_dict: dict) -> str:
    """Return a DATABASE_URL that points at the database described by ``settings_dict``."""
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    if engine == "django.db.backends.postgresql":
        auth = settings_dict.get("USER") or ""
        if settings_dict.get("PASSWORD"):
            auth += f":{settings_dict['PASSWORD']}"
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{'@' if auth else ''}{host}:{port}/{settings_dict['NAME']}"
    raise NotImplementedError(f"no worker support for {engine}")


def worker_env(**overrides: str) -> dict[str, str]:
    """Return the environment a worker needs to share this test process's data."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plantsite.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PLANTSITE_DATA_DIR": str(settings.DATA_DIR),
        "PLANTSITE_MODELS_DIR": str(settings.MODELS_DIR),
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


class WorkerProcess:
    """One ``celery worker`` subprocess (the production prefork pool, one child); ``start`` returns once it answers a ping."""

    def __init__(self, log_dir: Path, pool: str = "prefork", env: dict[str, str] | None = None, app=None) -> None:
        self.app = app
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.pool = pool
        self.env = env or worker_env()
        self.log_path = Path(log_dir) / f"{self.name.split('@')[0]}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "plantsite",
            "worker",
            "--pool",
            self.pool,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "-Q",
            self.env["CELERY_QUEUE"],
            "-n",
            self.name,
            "--without-gossip",
            "--without-mingle",
        ]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from plantsite.celery import app as default_app

        app = self.app or default_app
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.log()}")
            if app.control.ping(destination=[self.name], timeout=1.0):
                return
        self.stop()
        raise RuntimeError(f"celery worker not ready after {timeout:.0f}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 60.0) -> None:
        """Wait until the worker's log contains ``text``; fail with the log's end when it does not in time."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert time.monotonic() < deadline, f"{text!r} not in the worker's log:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as a lost machine would: nothing is acknowledged."""
        if self.process and self.process.poll() is None:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            self.process.send_signal(signal.SIGKILL)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        stop_process(self.process, timeout=timeout)
