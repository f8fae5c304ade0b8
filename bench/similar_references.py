"""Time the worker's "most similar reference photos" adds per identification, against the forward pass.

The forward: ``Predictor.identify_many`` on one photo (one plant), as the worker runs it. The addition: what
``recognition.pipeline.similar_references`` does per identification: a stat of features.npz (the registry's
cache check) and, for each of the top-K candidates, the cosine ranking of that class's stored features.
Features are random unit vectors of the model's width for CLASSES classes x PER_CLASS photos (their values do
not change the cost). Target: under 5% of the forward.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.common import random_model_arguments, random_predictor
from plantml.references import ReferenceFeatures, save_reference_features


def median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    random_model_arguments(parser)
    parser.add_argument("--per-class", type=int, default=12)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    predictor = random_predictor(args)
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    answer = predictor.identify_many([[photo]], top_k=args.top_k)[0]  # warm-up, and the features' width
    width = len(answer.features)
    forward = median_ms(lambda: predictor.identify_many([[photo]], top_k=args.top_k), args.repeats)

    rng = np.random.default_rng(1)
    count = args.classes * args.per_class
    classes = np.repeat(np.arange(args.classes), args.per_class)
    numbers = np.tile(np.arange(1, args.per_class + 1), args.classes)
    with tempfile.TemporaryDirectory() as folder:
        path = save_reference_features(folder, classes, numbers, rng.standard_normal((count, width)))
        size_mb = os.path.getsize(path) / 1e6
        load = median_ms(lambda: ReferenceFeatures.load(path), 5)
        stored = ReferenceFeatures.load(path)
        top = [predictor.spec.class_names.index(p.label) for p in answer.candidates]

        def rank() -> None:
            Path(path).stat()
            for index in top:
                stored.nearest(answer.features, index, 3)

        added = median_ms(rank, args.repeats * 10)
    print(f"{args.model} {args.input_size} px, {torch.get_num_threads()} threads, features width {width}")
    print(f"forward (identify_many, one photo): {forward:.1f} ms median of {args.repeats}")
    print(
        f"ranking {args.top_k} candidates' reference photos ({args.classes} classes x {args.per_class}): "
        f"{added * 1000:.0f} us = {added / forward:.3%} of the forward (target < 5%)"
    )
    print(f"features.npz: {size_mb:.1f} MB, loaded once per model in {load:.0f} ms")


if __name__ == "__main__":
    main()
