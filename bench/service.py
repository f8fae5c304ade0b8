"""A real plantsite (the `make run` launcher) in a throw-away data folder, driven over HTTP like a client.

Used by bench/load.py, bench/faults.py and the launcher fault test: start it, upload photos
through the API with a token, read back what was accepted and what got done, and hurt it
(kill -9 the broker or the worker, stop and start the whole launcher).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
FINISHED = {"done", "failed"}


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_checkpoint(path: Path, architecture: str = "convnextv2_atto", input_size: int = 64) -> Path:
    """Write an untrained 5-class checkpoint (what is measured here is serving, not accuracy)."""
    import torch

    from plantml.checkpoint import ModelSpec, save_checkpoint

    torch.manual_seed(0)
    names = ["daisy", "dandelion", "rose", "sunflower", "tulip"]
    spec = ModelSpec(architecture=architecture, class_names=names, display_names=names, input_size=input_size)
    return save_checkpoint(path, spec.build_model(), spec)


class RunningService:
    """One launcher with its embedded Redis (or REDIS_URL), worker and gunicorn, on a free port."""

    def __init__(self, data_dir: Path, checkpoint: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # SQLite in the data folder and the embedded broker unless ``env`` names DATABASE_URL / REDIS_URL
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="plantsite.settings.base",
            PLANTSITE_DATA_DIR=str(self.data_dir),
            LOG_LEVEL="WARNING",
            CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:8]}",
            RECOGNITION_UPLOAD_RATE="100000/hour",
            RECOGNITION_API_RATE="100000/hour",
            RECOGNITION_PAGE_SIZE="500",
        )
        self.env.update(env or {})
        self.log_path = self.data_dir / "launcher.log"
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()
        self._manage("migrate", "--noinput", "-v", "0")
        self._manage("models", "import", str(checkpoint), "--name", f"bench-{uuid.uuid4().hex[:8]}", "--activate")
        token = self._manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; from recognition.tokens import create_token; "
            "u = get_user_model().objects.get_or_create(username='bench')[0]; "
            "print(create_token(u, 'bench')[1])",
        ).split()[-1]
        self.session.headers["Authorization"] = f"Token {token}"

    def _manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def start(self, timeout: float = 180.0) -> RunningService:
        """Start the launcher and return once /health/ answers 200 (a worker beats, the model is there)."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plantsite.launcher", "--port", str(self.port), "--web-workers", "2"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        """Wait until /health/ answers 200; raise with the launcher's log when it does not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the launcher exited:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/health/", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"/health/ not 200 after {timeout:.0f}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def upload(self, photo: Path, timeout: float = 30.0) -> tuple[int, dict]:
        """POST one photo; return (HTTP status, JSON body)."""
        with open(photo, "rb") as handle:
            response = self.session.post(
                f"{self.url}/api/identifications/",
                files={"images": (photo.name, handle, "image/jpeg")},
                timeout=timeout,
            )
        return response.status_code, response.json()

    def _listed(self, query: str = "") -> Iterator[dict]:
        """Yield the records of the identifications list (``query``: e.g. "?status=pending"), page by page."""
        url = f"{self.url}/api/identifications/{query}"
        while url:
            body = self.session.get(url, timeout=30).json()
            yield from body["results"]
            url = body["next"]

    def records(self, ids: Iterable[int]) -> dict[int, dict]:
        """Return {id: the API's record} of the given identifications."""
        wanted, found = set(ids), {}
        if not wanted:
            return found
        for item in self._listed():
            if item["id"] in wanted:
                found[item["id"]] = item
                if len(found) == len(wanted):
                    break
        return found

    def statuses(self, ids: Iterable[int]) -> dict[int, str]:
        """Return {id: status} of the given identifications, read through the API."""
        return {pk: record["status"] for pk, record in self.records(ids).items()}

    def unfinished(self, ids: Iterable[int]) -> set[int]:
        """Return which of the given identifications are still pending or running (short lists: cheap to poll)."""
        listed = {item["id"] for status in ("pending", "running") for item in self._listed(f"?status={status}")}
        return listed & set(ids)

    def wait_finished(self, ids: list[int], timeout: float) -> dict[int, str]:
        """Poll until every id is done or failed, or ``timeout`` passes; return the last statuses.

        Polls only the unfinished ones, so that the polling itself takes little from a service under load.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # the two lists are read one after the other: a row moving between them is confirmed here
                if not self.unfinished(ids) and set(self.statuses(ids).values()) <= FINISHED:
                    break
            except requests.RequestException:
                pass
            time.sleep(1.0)
        for _ in range(10):  # the final read, through a moment of unavailability
            try:
                return self.statuses(ids)
            except requests.RequestException:
                time.sleep(1.0)
        return {}

    def pids(self, needle: str) -> list[int]:
        """Return the pids of the launcher's descendants whose command line contains ``needle``."""
        from plantsite.processes import descendants

        return [pid for pid, cmd in descendants(self.process.pid).items() if needle in cmd] if self.process else []

    def cpu_seconds(self) -> dict[str, float]:
        """Return the CPU time (user + system) used so far by the service's processes, summed per role."""
        from plantsite.processes import descendants

        roles = {"worker": "celery", "web": "gunicorn", "broker": "redis-server"}
        totals = dict.fromkeys(roles, 0.0)
        if self.process is None:
            return totals
        tick = os.sysconf("SC_CLK_TCK")
        for pid, cmd in descendants(self.process.pid).items():
            role = next((name for name, needle in roles.items() if needle in cmd), None)
            if role is None:
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            totals[role] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return totals

    def kill(self, needle: str) -> int:
        """SIGKILL the first descendant matching ``needle`` (e.g. "redis-server", "celery"); return its pid."""
        pid = min(self.pids(needle))
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM the launcher (as Ctrl-C does) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
