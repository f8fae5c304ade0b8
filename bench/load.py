"""A burst of N uploads with concurrency C through the API of a real `make run` service, against the bare
batched Predictor on the same photos in the same run.

Prints sent, accepted, done, lost; the server's own span from the first upload stored to the last answer
stored (its timestamps, so the client's polling adds nothing) and identifications/s over it; how many
forward passes answered them and how long the model ran; and the bare batched forward's img/s (decoding
included, batches of --batch) on the same photos, with the ratio. Usage:
python -m bench.load [--burst 200] [--concurrency 8] [--photos DIR] [--checkpoint PT]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.service import RunningService, make_checkpoint

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "flowers5" / "test"


def bare_batched_img_per_s(checkpoint: Path, photos: list[Path], batch: int) -> float:
    """Return img/s of decode + batched forward with the Predictor alone, on the same photos."""
    from PIL import Image

    from plantml.predictor import Predictor

    predictor = Predictor.from_checkpoint(checkpoint)
    predictor.log_probabilities([Image.open(photos[0]).convert("RGB")])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(photos), batch):
        predictor.log_probabilities([Image.open(p).convert("RGB") for p in photos[start : start + batch]])
    return len(photos) / (time.perf_counter() - started)


def server_timeline(records) -> dict[str, float] | None:
    """Return the server's own span (first ``created`` to last ``finished``) and its forward passes.

    Identifications answered by one forward pass share ``duration_ms`` and are stored one after the other:
    a pass is a run of answers, in the order they were stored, with the same duration.
    """
    done = [r for r in records if r["status"] == "done" and r["finished"] and r["duration_ms"] is not None]
    if not done:
        return None
    created = [datetime.fromisoformat(r["created"]) for r in done]
    finished = [datetime.fromisoformat(r["finished"]) for r in done]
    last_upload = max(created)
    after = sum(1 for f in finished if f > last_upload)
    passes: list[int] = []  # the duration of each pass, in the order the answers were stored
    previous = None
    for _, duration in sorted((f.timestamp(), r["duration_ms"]) for r, f in zip(done, finished, strict=True)):
        if duration != previous:
            passes.append(duration)
        previous = duration
    busy = sum(passes) / 1000
    return {
        "span_s": (max(finished) - min(created)).total_seconds(),
        "after_uploads": after,
        "after_uploads_s": (max(finished) - last_upload).total_seconds(),
        "passes": len(passes),
        "per_pass": len(done) / len(passes),
        "busy_s": busy,
        "busy_rate": len(done) / busy if busy else float("nan"),
    }


def worker_env(args) -> dict[str, str]:
    """Return the batching settings given on the command line as the service's environment."""
    env = {}
    if args.batch_photos is not None:
        env["RECOGNITION_BATCH_PHOTOS"] = str(args.batch_photos)
    if args.batch_wait_ms is not None:
        env["RECOGNITION_BATCH_WAIT_MS"] = str(args.batch_wait_ms)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--photos", type=Path, default=DEFAULT_PHOTOS, help=f"folder of JPEGs (default {DEFAULT_PHOTOS})"
    )
    parser.add_argument("--checkpoint", type=Path, help="model (default: an untrained convnextv2_atto at 64 px)")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16, help="batch size of the bare forward (default 16)")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the answers")
    parser.add_argument(
        "--bare-rounds", type=int, default=3, help="passes of the bare forward; the fastest counts (default 3)"
    )
    parser.add_argument("--batch-photos", type=int, help="the service's RECOGNITION_BATCH_PHOTOS (default: its own)")
    parser.add_argument("--batch-wait-ms", type=int, help="the service's RECOGNITION_BATCH_WAIT_MS (default: its own)")
    args = parser.parse_args()
    available = sorted(args.photos.rglob("*.jpg"))
    if not available:
        parser.error(f"no JPEG under {args.photos}")
    photos = [available[i % len(available)] for i in range(args.burst)]
    folder = Path(tempfile.mkdtemp(prefix="plantsite-load-"))
    checkpoint = args.checkpoint or make_checkpoint(folder / "bench.pt")

    service = RunningService(folder / "service", checkpoint, env=worker_env(args)).start()
    try:
        # one identification first, as the bare forward below has its warm-up: the burst measures a running service
        warm = service.upload(photos[0])[1]["id"]
        service.wait_finished([warm], timeout=args.drain)
        cpu_before, client_before = service.cpu_seconds(), time.process_time()
        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            answers = list(pool.map(service.upload, photos))
        accepted = [body["id"] for status, body in answers if status == 202]
        upload_s = time.monotonic() - started
        statuses = service.wait_finished(accepted, timeout=args.drain)
        drain_s = time.monotonic() - started
        cpu_after, client_cpu = service.cpu_seconds(), time.process_time() - client_before
        cpu = {role: cpu_after[role] - cpu_before[role] for role in cpu_before} | {"this client": client_cpu}
        records = service.records(accepted)
    finally:
        service.stop()
    done = sum(1 for s in statuses.values() if s == "done")
    failed = sum(1 for s in statuses.values() if s == "failed")
    timeline = server_timeline(records.values())
    rate = done / timeline["span_s"] if timeline else done / drain_s
    bare = max(bare_batched_img_per_s(checkpoint, photos, args.batch) for _ in range(args.bare_rounds))
    print(
        f"sent {len(photos)}  accepted {len(accepted)}  done {done}  failed {failed}  lost {len(accepted) - done - failed}"
    )
    print(f"uploads took {upload_s:.1f}s; every answer read back after {drain_s:.1f}s (polled every second)")
    if timeline:
        print(
            f"server side, first upload stored to last answer stored: {timeline['span_s']:.2f}s; "
            f"{rate:.1f} identifications/s"
        )
        print(
            f"forward passes: {timeline['passes']}, {timeline['per_pass']:.1f} identifications each on average; "
            f"the worker ran the model {timeline['busy_s']:.2f}s of that span ({timeline['busy_s'] / timeline['span_s']:.0%}), "
            f"{timeline['busy_rate']:.1f} identifications/s while it did"
        )
        if timeline["after_uploads"] and timeline["after_uploads_s"] > 0:
            after_rate = timeline["after_uploads"] / timeline["after_uploads_s"]
            print(
                f"after the last upload was stored (the web and this client idle): {timeline['after_uploads']} answered "
                f"in {timeline['after_uploads_s']:.2f}s, {after_rate:.1f}/s, {after_rate / bare:.2f}x the bare forward"
            )
    total = sum(cpu.values())
    print(
        "CPU seconds from the first upload to the last answer read: "
        + ", ".join(f"{role} {seconds:.1f}" for role, seconds in cpu.items())
        + f"; the worker had {cpu['worker'] / total:.0%} of it (web, broker and client share these cores here)"
    )
    print(
        f"bare batched Predictor (batch {args.batch}, decode included, fastest of {args.bare_rounds} passes): "
        f"{bare:.1f} img/s; ratio {rate / bare:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
