"""Time what the feature density adds to an identification, against the same identification without it.

One Predictor (random-init weights: their values do not change the cost) answers the same batch of one-photo
plants with its calibration holding a feature density and without one, the two interleaved round by round.
The density is fitted on random unit vectors of the model's width, CLASSES classes x PER_CLASS photos, as
calibration would (plantml.novelty defaults). Also prints its fit time and the size of its JSON record.
Target: under 5% more time per identification.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

import numpy as np
from PIL import Image

from bench.common import random_model_arguments, random_predictor
from plantml.novelty import fit_density

TARGET = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    random_model_arguments(parser)
    parser.add_argument("--per-class", type=int, default=5, help="training photos a class the density is fitted on")
    parser.add_argument("--batch", type=int, default=16, help="one-photo plants answered in one forward pass")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    predictor = random_predictor(args)
    rng = np.random.default_rng(0)
    plants = [[Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))] for _ in range(args.batch)]
    width = len(predictor.identify_many(plants[:1])[0].features)
    labels = np.repeat(np.arange(args.classes), args.per_class)
    started = time.perf_counter()
    density = fit_density(rng.normal(size=(len(labels), width)), labels)
    fit_seconds = time.perf_counter() - started
    density = density.with_cut(rng.normal(size=(200, width)))
    plain, dense = predictor.calibration, replace(predictor.calibration, density=density)
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(args.rounds + 1):  # the first round warms both up and is not counted
        for name, calibration in (("without", plain), ("with", dense)):
            predictor.calibration = calibration
            started = time.perf_counter()
            predictor.identify_many(plants)
            times[name].append(time.perf_counter() - started)
    without, with_density = (statistics.median(times[name][1:]) for name in ("without", "with"))
    added = with_density / without - 1
    size = len(json.dumps(density.to_dict()))
    print(
        f"{args.model} {args.input_size} px, {args.classes} classes, features {width} wide, {args.batch} plants a pass"
    )
    print(f"density fitted on {len(labels)} photos in {fit_seconds:.2f} s; its record {size / 1e6:.2f} MB of JSON")
    print(f"per pass, median of {args.rounds}: without {without * 1000:.1f} ms, with {with_density * 1000:.1f} ms")
    print(f"added by the density: {added:+.1%} (target under {TARGET:.0%}: {'met' if added < TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
