"""A burst of N uploads with concurrency C through the API of a real `make run` service, against the bare
batched Predictor on the same photos in the same run.

Prints sent, accepted, done, lost, drain time (first upload to last answer), identifications/s,
the median worker time per identification (``duration_ms``), and the bare batched forward's img/s
(decoding included, batches of --batch) with the ratio. Usage:
python bench/load.py [--burst 200] [--concurrency 8] [--photos DIR] [--checkpoint PT]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    args = parser.parse_args()
    available = sorted(args.photos.rglob("*.jpg"))
    if not available:
        parser.error(f"no JPEG under {args.photos}")
    photos = [available[i % len(available)] for i in range(args.burst)]
    folder = Path(tempfile.mkdtemp(prefix="plantsite-load-"))
    checkpoint = args.checkpoint or make_checkpoint(folder / "bench.pt")

    service = RunningService(folder / "service", checkpoint).start()
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            answers = list(pool.map(service.upload, photos))
        accepted = [body["id"] for status, body in answers if status == 202]
        upload_s = time.monotonic() - started
        statuses = service.wait_finished(accepted, timeout=args.drain)
        drain_s = time.monotonic() - started
        durations = [
            service.session.get(f"{service.url}/api/identifications/{pk}/", timeout=30).json()["duration_ms"]
            for pk in accepted[:: max(1, len(accepted) // 20)]
        ]
    finally:
        service.stop()
    done = sum(1 for s in statuses.values() if s == "done")
    failed = sum(1 for s in statuses.values() if s == "failed")
    rate = done / drain_s
    bare = bare_batched_img_per_s(checkpoint, photos, args.batch)
    print(
        f"sent {len(photos)}  accepted {len(accepted)}  done {done}  failed {failed}  lost {len(accepted) - done - failed}"
    )
    print(f"uploads took {upload_s:.1f}s; drain {drain_s:.1f}s; {rate:.1f} identifications/s")
    print(
        f"worker time per identification (median of {len(durations)}): {statistics.median(d for d in durations if d is not None)} ms"
    )
    print(f"bare batched Predictor (batch {args.batch}, decode included): {bare:.1f} img/s; ratio {rate / bare:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
