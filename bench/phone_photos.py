"""Phone photos: what a 12 MP upload costs the web request, before (full decode + re-encode) and after
(the JPEG kept as sent, decoded at thumbnail scale), side by side; then the upload p50/p95 and the worker
time per identification through a real `make run` service.

Five 12 MP JPEGs (4000x3000, quality 92, with sensor-like noise so that they weigh what phone photos
weigh) are made from flowers5 photos. Usage: python bench/phone_photos.py [--photos DIR] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from bench.service import RunningService, make_checkpoint  # noqa: E402
from recognition.photos import encode_jpeg, thumbnail, to_rgb  # noqa: E402
from recognition.validators import prepare_photo  # noqa: E402

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "flowers5" / "test"


def phone_photo(source: Path, target: Path, seed: int) -> Path:
    """Write a 4000x3000 JPEG made from ``source`` with per-pixel noise, at quality 92."""
    image = Image.open(source).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(seed).normal(0, 6, (3000, 4000, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(target, format="JPEG", quality=92)
    return target


def before(data: bytes) -> None:
    """The web side as it was: decode every pixel, re-encode at quality 92, thumbnail."""
    image = to_rgb(Image.open(io.BytesIO(data)))
    encode_jpeg(image)
    encode_jpeg(thumbnail(image, settings.RECOGNITION_THUMBNAIL_PX), quality=85)


def after(data: bytes) -> None:
    prepare_photo(SimpleUploadedFile("phone.jpg", data, content_type="image/jpeg"))


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the five photos (default 5)")
    args = parser.parse_args()
    sources = sorted(args.photos.rglob("*.jpg"))[:5]
    if len(sources) < 5:
        parser.error(f"need five JPEGs under {args.photos}")
    folder = Path(tempfile.mkdtemp(prefix="plantsite-phone-"))
    photos = [phone_photo(src, folder / f"phone{i}.jpg", i) for i, src in enumerate(sources)]
    print(f"five 12 MP photos, {statistics.mean(p.stat().st_size for p in photos) / 1e6:.1f} MB each on average")

    timings: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for photo in photos:
            data = photo.read_bytes()
            for name, step in (("before", before), ("after", after)):
                started = time.perf_counter()
                step(data)
                timings[name].append(time.perf_counter() - started)
    for name, samples in timings.items():
        print(f"web-side photo handling {name:>6}: {percentiles(samples)}")
    print(
        f"ratio before/after (medians): {statistics.median(timings['before']) / statistics.median(timings['after']):.1f}x"
    )

    service = RunningService(folder / "service", make_checkpoint(folder / "bench.pt")).start()
    try:
        uploads, ids = [], []
        for photo in photos:
            started = time.perf_counter()
            status, body = service.upload(photo)
            uploads.append(time.perf_counter() - started)
            ids.append(body["id"])
        service.wait_finished(ids, timeout=300)
        durations = [
            service.session.get(f"{service.url}/api/identifications/{pk}/").json()["duration_ms"] for pk in ids
        ]
    finally:
        service.stop()
    print(f"HTTP upload of one 12 MP photo (API, end to end): {percentiles(uploads)}")
    print(f"worker time per identification (duration_ms): median {statistics.median(durations)} ms, all {durations}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
