"""Long-tail benchmark: plain CE vs balanced resampling + logit adjustment on an imbalance-10 flowers5 train split.

Both arms train tf_efficientnet_lite0 from its offline ImageNet weights for the same epochs and are
evaluated on the balanced test split; prints macro top-1 of each (target: recipe >= plain CE + 3 points).
    python -m bench.longtail [DATA]       # the full benchmark
    python -m bench.longtail --quick      # smoke test on a few images per class
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

from bench.common import LITE0, QUICK, link_subset, mean_interval, parser, quiet_logging, require_dataset, verdict
from plantml.training.config import resolve_config
from plantml.training.run import train

COMMON = dict(LITE0, input_size=160, label_smoothing=0.0)
ARMS = {
    "plain CE": dict(sampling="uniform", tau=0.0),
    "balanced + logit-adjusted": dict(sampling="balanced", tau=1.0),
}


def long_tail_counts(classes: list[str], largest: int, imbalance: float) -> dict[str, int]:
    """Return an exponential profile: the first class keeps ``largest``, the last ``largest / imbalance``."""
    steps = max(1, len(classes) - 1)
    return {name: max(1, round(largest * imbalance ** (-i / steps))) for i, name in enumerate(classes)}


def main() -> None:
    args = arguments()
    require_dataset(args.data)
    quiet_logging()
    classes = sorted(p.name for p in (args.data / "train").iterdir() if p.is_dir())
    largest = 12 if args.quick else args.largest
    counts = long_tail_counts(classes, largest, args.imbalance)
    print("train images per class:", ", ".join(f"{k} {v}" for k, v in counts.items()))
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        held_out = 4 if args.quick else 10**9
        data = link_subset(
            args.data,
            Path(scratch) / "longtail",
            lambda split, name, n: min(n, counts[name]) if split == "train" else min(n, held_out),
        )
        for seed, (label, arm) in itertools.product(range(args.seeds), ARMS.items()):
            options = {
                **COMMON,
                **arm,
                "seed": seed,
                "epochs": args.epochs,
                "head_epochs": args.head_epochs,
                "per_class_cap": args.per_class_cap,
                "data": data,
                "output": Path(scratch) / f"{label.replace(' ', '_')}-{seed}",
            }
            if args.quick:
                options.update(QUICK)
            started = time.perf_counter()
            metrics = train(resolve_config(options)).metrics
            results[(label, seed)] = metrics
            print(
                f"{label:>27} seed {seed}: macro top-1 {metrics.macro_top1:.4f} | top-1 {metrics.top1:.4f} | "
                f"{(time.perf_counter() - started) / 60:.1f} min",
                flush=True,
            )
    gains = [
        100 * (results[("balanced + logit-adjusted", seed)].macro_top1 - results[("plain CE", seed)].macro_top1)
        for seed in range(args.seeds)
    ]
    mean, low, high = mean_interval(gains)
    print(
        f"recipe - plain CE over {args.seeds} seeds: {mean:+.1f} macro points, 95% interval [{low:+.1f}, {high:+.1f}]"
    )
    sys.exit(verdict(">= +3.0 macro points", low, 3.0, judged=not args.quick))


def arguments():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test: 12..2 train, 4 val/test images per class, 64 px")
    p.add_argument("--largest", type=int, default=400, help="train images of the most frequent class (default 400)")
    p.add_argument("--imbalance", type=float, default=10.0, help="largest / smallest class (default 10)")
    p.add_argument("--epochs", type=int, default=2, help="full fine-tune epochs of each arm (default 2)")
    p.add_argument("--head-epochs", type=int, default=1, help="head-only epochs of each arm (default 1)")
    p.add_argument(
        "--seeds", type=int, default=3, help="seeds per arm; the gain's 95%% interval is over them (default 3)"
    )
    p.add_argument("--per-class-cap", type=int, default=100, help="the recipe's per-class cap (default 100)")
    return p.parse_args()


if __name__ == "__main__":
    main()
