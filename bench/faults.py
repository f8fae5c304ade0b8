"""Faults mid-burst against a real `make run` launcher: accepted vs done vs lost for each.

Each scenario starts a fresh service (its own data folder, embedded Redis unless REDIS_URL is
set, one worker, gunicorn), uploads a burst of photos through the API and, mid-burst, hurts it:
  broker      kill -9 the Redis (embedded: the launcher restarts it; its AOF keeps the queue)
  worker      kill -9 the Celery worker (the launcher restarts it; the sweeper re-queues its work)
  launcher    SIGTERM the whole service and start it again (`make run` stopped and started)
  database    (PostgreSQL only) terminate every connection to the service's database
With --database-url and --redis-url the service runs on them (the broker scenario is then skipped:
it would kill a Redis that others may share).
An upload answered 202 is "accepted"; "lost" is accepted but neither done nor failed after
the drain timeout. Usage: python -m bench.faults [--burst N] [--only broker,worker,launcher]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.service import RunningService, make_checkpoint

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "flowers5" / "test"
FAST_SWEEP = {"RECOGNITION_SWEEP_SECONDS": "2", "RECOGNITION_HEARTBEAT_SECONDS": "1"}


def burst(service: RunningService, photos: list[Path], fault=None, at: int = 0) -> tuple[list[int], int]:
    """Upload every photo in order, calling ``fault`` after upload number ``at``; return (accepted ids, refused)."""
    accepted, refused = [], 0
    for index, photo in enumerate(photos):
        if fault is not None and index == at:
            threading.Thread(target=fault, daemon=True).start()
        try:
            status, body = service.upload(photo)
        except Exception:  # a connection refused while the web server restarts counts as refused, not lost
            status, body = 0, {}
        if status == 202:
            accepted.append(body["id"])
        else:
            refused += 1
            time.sleep(0.5)
    return accepted, refused


def terminate_connections(database_url: str) -> None:
    """Kill every other session on the database named in ``database_url`` (PostgreSQL)."""
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def scenario(name: str, folder: Path, checkpoint: Path, photos: list[Path], drain: float, env: dict) -> dict:
    service = RunningService(folder / name, checkpoint, env={**FAST_SWEEP, **env}).start()
    try:
        if name == "broker":

            def fault():
                service.kill("redis-server")

        elif name == "worker":

            def fault():
                service.kill("celery")

        elif name == "database":

            def fault():
                terminate_connections(env["DATABASE_URL"])

        else:

            def fault():
                service.stop()
                service.start()

        started = time.monotonic()
        accepted, refused = burst(service, photos, fault, at=len(photos) // 3)
        if name == "launcher":
            service.wait_healthy(180)
        statuses = service.wait_finished(accepted, timeout=drain)
        done = sum(1 for s in statuses.values() if s == "done")
        failed = sum(1 for s in statuses.values() if s == "failed")
        return {
            "fault": name,
            "sent": len(photos),
            "accepted": len(accepted),
            "refused": refused,
            "done": done,
            "failed": failed,
            "lost": len(accepted) - done - failed,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--photos", type=Path, default=DEFAULT_PHOTOS, help=f"folder of JPEGs (default {DEFAULT_PHOTOS})"
    )
    parser.add_argument("--burst", type=int, default=60, help="uploads per scenario (default 60)")
    parser.add_argument("--only", default="broker,worker,launcher,database", help="comma-separated scenarios")
    parser.add_argument("--drain", type=float, default=300, help="seconds to wait for the accepted ones")
    parser.add_argument("--database-url", help="run on this PostgreSQL database (e.g. postgres://u@host/db)")
    parser.add_argument("--redis-url", help="run on this Redis (e.g. redis://host:6379/0)")
    args = parser.parse_args()
    env = {k: v for k, v in (("DATABASE_URL", args.database_url), ("REDIS_URL", args.redis_url)) if v}
    photos = sorted(args.photos.rglob("*.jpg"))[: args.burst]
    if not photos:
        parser.error(f"no JPEG under {args.photos}")
    folder = Path(tempfile.mkdtemp(prefix="plantsite-faults-"))
    checkpoint = make_checkpoint(folder / "bench.pt")
    print(
        f"{'fault':<10} {'sent':>5} {'accepted':>8} {'refused':>7} {'done':>5} {'failed':>6} {'lost':>5} {'seconds':>8}"
    )
    lost = 0
    for name in args.only.split(","):
        if (name == "broker" and args.redis_url) or (name == "database" and not args.database_url):
            continue
        row = scenario(name, folder, checkpoint, photos, args.drain, env)
        lost += row["lost"]
        print(
            f"{row['fault']:<10} {row['sent']:>5} {row['accepted']:>8} {row['refused']:>7} {row['done']:>5} "
            f"{row['failed']:>6} {row['lost']:>5} {row['seconds']:>8}",
            flush=True,
        )
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
