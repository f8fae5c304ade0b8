"""Median time of one identification end to end (upload -> real worker -> done) vs the bare Predictor call.

Runs against a throw-away data folder, its own Celery queue and the Redis at REDIS_URL
(`make bench` starts an embedded one). Usage: python -m bench.identify_latency [--image JPG] [--checkpoint PT] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
import warnings
from pathlib import Path

from bench.common import photo_argument


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, help="photo to identify (default: the first flowers5 test photo)")
    parser.add_argument(
        "--checkpoint", type=Path, help="model checkpoint (default: an untrained 5-class convnextv2_atto, 64 px)"
    )
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each (default 10)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.image = photo_argument(parser, args.image)
    if args.checkpoint is not None and not args.checkpoint.is_file():
        parser.error(f"--checkpoint {args.checkpoint} does not exist")
    if not os.environ.get("REDIS_URL"):
        parser.error("set REDIS_URL to a running Redis (or run through `make bench`)")
    return args


def isolate(folder: Path) -> None:
    """Point Django and Celery at a throw-away data folder and queue before anything imports settings."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="plantsite.settings.base",
        PLANTSITE_DATA_DIR=str(folder),
        MEDIA_ROOT=str(folder / "media"),
        PLANTSITE_MODELS_DIR=str(folder / "models"),
        DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
        CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:8]}",
        DJANGO_ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def tiny_checkpoint(folder: Path) -> Path:
    from plantml.checkpoint import ModelSpec, save_checkpoint

    names = ["bellis_perennis", "taraxacum_officinale", "rosa_canina", "helianthus_annuus", "tulipa_gesneriana"]
    spec = ModelSpec(architecture="convnextv2_atto", class_names=names, input_size=64)
    return save_checkpoint(folder / "tiny.pt", spec.build_model(), spec)


def identify_once(client, image: Path) -> float:
    """Upload ``image`` through the identify page and return seconds until the worker marked it done."""
    from recognition.models import Identification

    started = time.perf_counter()
    with open(image, "rb") as handle:
        response = client.post("/identify/", {"images": [handle]})
    if response.status_code != 302:
        raise SystemExit(f"upload refused ({response.status_code}): {response.content[:300]!r}")
    public_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]  # /identifications/<public id>/
    rows = Identification.objects.filter(public_id=public_id)
    while (status := rows.values_list("status", flat=True).get()) not in ("done", "failed"):
        time.sleep(0.005)
    if status == "failed":
        raise SystemExit(f"identification failed: {rows.get().error}")
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    warnings.filterwarnings("ignore", message="No directory at")  # no collected static files: not served here
    with tempfile.TemporaryDirectory(prefix="plantsite-bench-") as tmp:
        folder = Path(tmp)
        isolate(folder)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from PIL import Image

        from bench.worker_process import WorkerProcess
        from ml import versions
        from plantml.predictor import Predictor

        call_command("migrate", verbosity=0)
        checkpoint = args.checkpoint or tiny_checkpoint(folder)
        versions.register_checkpoint(checkpoint, name="bench", activate=True)
        client = Client()
        client.force_login(get_user_model().objects.create_user("bench", password=uuid.uuid4().hex))

        worker = WorkerProcess(folder).start()
        try:
            identify_once(client, args.image)  # the worker loads the model once
            end_to_end = [identify_once(client, args.image) for _ in range(args.runs)]
        finally:
            worker.stop()

        predictor = Predictor.from_checkpoint(checkpoint)
        photo = Image.open(args.image).convert("RGB")
        predictor.predict([photo])
        bare = []
        for _ in range(args.runs):
            started = time.perf_counter()
            predictor.predict([photo], top_k=5)
            bare.append(time.perf_counter() - started)

    e2e_ms, bare_ms = statistics.median(end_to_end) * 1000, statistics.median(bare) * 1000
    print(f"image: {args.image}  model: {checkpoint.name}  device: {predictor.device}  runs: {args.runs}")
    print(f"end-to-end identification (upload -> worker -> done), median: {e2e_ms:8.1f} ms")
    print(f"bare Predictor.predict on the same image, median:            {bare_ms:8.1f} ms")
    print(f"ratio end-to-end / bare: {e2e_ms / bare_ms:.1f}x")


if __name__ == "__main__":
    main()
