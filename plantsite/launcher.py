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
from dataclasses import dataclass, field
from pathlib import Path

from .broker import BrokerUnreachable, EmbeddedRedis, broker_is_reachable, embedded_redis_dir, running_broker
from .processes import stop_process

logger = logging.getLogger("plantsite.launcher")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a child: ask Linux to send SIGTERM when the launcher dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class Child:
    """A process the launcher keeps running, and when it was last restarted."""

    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def may_restart(self, limit: int = 5, window: float = 60.0) -> bool:
        """Return True (and count it) unless it was restarted ``limit`` times in the last ``window`` s."""
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < window]
        if len(self.restarts) >= limit:
            return False
        self.restarts.append(now)
        return True


class Launcher:
    """Start the service's processes, watch them, and stop all of them on a signal or a crash."""

    def __init__(self, host: str, port: int, workers: int, data_dir: Path, threads: int = 8) -> None:
        self.host, self.port, self.workers, self.data_dir = host, port, workers, data_dir
        self.threads = threads
        self.children: dict[str, Child] = {}
        self.broker: EmbeddedRedis | None = None  # set when the launcher runs the embedded broker
        self.stopping = False

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one child in its own session so that Ctrl-C reaches only the launcher."""
        child = self.children.setdefault(name, Child(command, env))
        child.process = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)
        logger.info("started %s (pid %d)", name, child.process.pid)

    def revive(self) -> bool:
        """Restart a dead embedded broker or child; return False when one keeps dying (then the service stops)."""
        if self.broker is not None and not any(broker_is_reachable(self.broker.url, timeout=t) for t in (1.0, 3.0)):
            logger.error("the embedded broker stopped answering; restarting it (its AOF file keeps the queue)")
            self.broker.stop()
            try:
                self.broker.start()
            except RuntimeError as exc:
                logger.error("could not restart the embedded broker (%s); trying again", exc)
        for name, child in self.children.items():
            if child.process is None or child.process.poll() is None:
                continue
            if not child.may_restart():
                logger.error("%s keeps exiting (status %s); stopping the service", name, child.process.returncode)
                return False
            logger.error("%s exited with status %s; restarting it", name, child.process.returncode)
            self.spawn(name, child.command, child.env)
        return True

    def run(self) -> int:
        """Run until a signal, a dead child or a dead parent; return the exit status."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            with running_broker(embedded_redis_dir(self.data_dir)) as url:
                if not os.environ.get("REDIS_URL"):
                    self.broker = EmbeddedRedis(embedded_redis_dir(self.data_dir))
                try:
                    return self.serve({**os.environ, "REDIS_URL": url})
                finally:
                    self.stop()
        except BrokerUnreachable as exc:
            raise SystemExit(str(exc)) from None

    def serve(self, env: dict[str, str]) -> int:
        """Start the worker and gunicorn with ``env`` and watch them; return the exit status."""
        parent = os.getppid()
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
                # threads: a /v2/identify request waiting for the model holds a thread, not a whole worker process,
                # so the pages and /health/ are answered meanwhile
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--access-logfile",
                "-",
                "--logger-class",
                "plantsite.access_log.RedactingLogger",
                "--graceful-timeout",
                "10",
                # URLs up to gunicorn's own 1 MB cap reach plantsite.request_limits, which answers a
                # JSON 414 beyond its limit instead of gunicorn's page.
                "--limit-request-line",
                "0",
            ],
            env,
        )
        logger.info("plantsite is running at http://%s:%d/  (Ctrl-C stops it)", self.host, self.port)
        status = 0
        while not self.stopping:
            if not self.revive():
                status = 1
                self.stopping = True
            if os.getppid() != parent:
                logger.info("parent process is gone; stopping")
                self.stopping = True
            time.sleep(0.3)
        return status

    def _on_signal(self, signum: int, frame: object) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        self.stopping = True

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every child together, killing the ones that outlive the timeout (the broker stops after them)."""
        stop_process(*(child.process for child in self.children.values()), timeout=timeout)
        if self.broker is not None:
            self.broker.stop()  # a restarted one; the first stops when running_broker exits
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
    parser.add_argument(
        "--web-threads",
        type=int,
        default=int(os.environ.get("WEB_THREADS", "8")),
        help="threads per gunicorn worker (default $WEB_THREADS or 8)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    if args.web_workers < 1:
        parser.error("--web-workers must be at least 1")
    if args.web_threads < 1:
        parser.error("--web-threads must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher: %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")
    from django.conf import settings

    return Launcher(args.host, args.port, args.web_workers, Path(settings.DATA_DIR), args.web_threads).run()


if __name__ == "__main__":
    sys.exit(main())
