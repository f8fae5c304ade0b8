"""First identification after `manage.py models activate` vs a warm one, through a real worker.

Activates another model while the worker runs (back and forth between two), waits until the worker says it
loaded it (it does so by itself, told by the activation), then times the first identification; prints the
median of those against the median of warm ones.
Usage: python -m bench.activation_latency [--image JPG] [--runs N] [--activations N]
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
from bench.identify_latency import isolate


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, help="photo to identify (default: the first flowers5 test photo)")
    parser.add_argument("--runs", type=int, default=10, help="warm identifications timed (default 10)")
    parser.add_argument("--activations", type=int, default=4, help="activations timed, back and forth (default 4)")
    parser.add_argument("--load-timeout", type=float, default=120.0, help="seconds to wait for the worker's load")
    args = parser.parse_args()
    if args.runs < 1 or args.activations < 1:
        parser.error("--runs and --activations must be at least 1")
    args.image = photo_argument(parser, args.image)
    if not os.environ.get("REDIS_URL"):
        parser.error("set REDIS_URL to a running Redis (or run through `make bench`)")
    return args


def checkpoint(folder: Path, seed: int) -> Path:
    """Write an untrained 5-class convnextv2_atto (64 px) whose weights depend on ``seed``."""
    import torch

    from plantml.checkpoint import ModelSpec, save_checkpoint

    torch.manual_seed(seed)
    names = ["bellis_perennis", "taraxacum_officinale", "rosa_canina", "helianthus_annuus", "tulipa_gesneriana"]
    spec = ModelSpec(architecture="convnextv2_atto", class_names=names, input_size=64)
    return save_checkpoint(folder / f"tiny-{seed}.pt", spec.build_model(), spec)


def identify_once(user, image: Path) -> tuple[float, str]:
    """Store ``image`` as an upload (the path the pages and API take) and return (seconds until done, model)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recognition import services
    from recognition.models import Identification
    from recognition.validators import prepare_uploads

    started = time.perf_counter()
    photos = prepare_uploads([SimpleUploadedFile(image.name, image.read_bytes(), content_type="image/jpeg")])
    rows = Identification.objects.filter(pk=services.create_identification(user, photos).pk)
    while (status := rows.values_list("status", flat=True).get()) not in ("done", "failed"):
        time.sleep(0.005)
    if status == "failed":
        raise SystemExit(f"identification failed: {rows.get().error}")
    return time.perf_counter() - started, rows.get().model_version.name


def main() -> None:
    args = parse_args()
    warnings.filterwarnings("ignore", message="No directory at")
    with tempfile.TemporaryDirectory(prefix="plantsite-bench-") as tmp:
        folder = Path(tmp)
        isolate(folder)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from bench.worker_process import WorkerProcess
        from ml import versions

        call_command("migrate", verbosity=0)
        versions.register_checkpoint(checkpoint(folder, 1), name="first", activate=True)
        second = versions.register_checkpoint(checkpoint(folder, 2), name="second")
        user = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)

        worker = WorkerProcess(folder).start()
        firsts, loads, answered_by = [], [], []
        try:
            identify_once(user, args.image)  # the worker's first model is loaded and warm
            warm = [identify_once(user, args.image)[0] for _ in range(args.runs)]
            for round_ in range(args.activations):
                name = (second.name, "first")[round_ % 2]  # back and forth: each activation loads a model
                seen = worker.log().count(f"model {name} loaded")
                activated = time.perf_counter()
                call_command("models", "activate", name, stdout=open(os.devnull, "w"))
                while worker.log().count(f"model {name} loaded") == seen:
                    if time.perf_counter() - activated > args.load_timeout:
                        raise SystemExit(f"the worker did not load {name} within {args.load_timeout:.0f}s")
                    time.sleep(0.05)
                loads.append(time.perf_counter() - activated)
                seconds, model = identify_once(user, args.image)
                firsts.append(seconds)
                answered_by.append(model)
        finally:
            worker.stop()

    warm_ms, first_ms = statistics.median(warm) * 1000, statistics.median(firsts) * 1000
    print(f"image: {args.image}  warm runs: {args.runs}  activations: {args.activations}")
    print(f"answered after each activation by: {', '.join(answered_by)}")
    print(f"worker loaded the activated model, median {statistics.median(loads):.1f} s after `models activate`")
    print(f"warm identification, median:                   {warm_ms:8.1f} ms")
    print(
        f"first identification after activation, median: {first_ms:8.1f} ms  ({', '.join(f'{x * 1000:.0f}' for x in firsts)})"
    )
    print(f"ratio first-after-activation / warm: {first_ms / warm_ms:.2f}x")


if __name__ == "__main__":
    main()
