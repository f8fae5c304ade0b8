"""Training speed: images/s of our train step (plantml.training.engine) vs a bare PyTorch loop, same model/batch/data.

Both run in one process on the same in-memory batches, alternating rounds; prints the best round
of each and their ratio (target >= 0.95).
    python -m bench.train_speed [--model NAME --input-size PX --batch-size N --steps N --rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

from bench.common import mean_interval
from plantml.modeling import create_model
from plantml.training.ema import WeightEma
from plantml.training.engine import train_one_epoch
from plantml.training.losses import LogitAdjustedLoss
from plantml.training.optim import create_optimizer, warmup_cosine

CPU = torch.device("cpu")


def bare_loop(model, batches, optimizer) -> float:
    """Return img/s of the textbook loop: forward, cross-entropy, backward, AdamW step."""
    model.train()
    started = time.perf_counter()
    for images, targets in batches:
        loss = F.cross_entropy(model(images), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return sum(len(b[0]) for b in batches) / (time.perf_counter() - started)


def main() -> None:
    args = arguments()
    torch.manual_seed(0)
    batches = [
        (torch.randn(args.batch_size, 3, args.input_size, args.input_size), torch.randint(0, 5, (args.batch_size,)))
        for _ in range(args.steps)
    ]
    bare_model = create_model(args.model, 5)
    ours_model = create_model(args.model, 5)
    ours_model.load_state_dict(bare_model.state_dict())
    bare_optimizer = torch.optim.AdamW(bare_model.parameters(), lr=1e-4, weight_decay=0.05)
    optimizer = create_optimizer(ours_model, lr=1e-4, head_lr=1e-3, weight_decay=0.05)
    scheduler = warmup_cosine(optimizer, warmup_steps=1, total_steps=args.steps * (args.rounds + 1))
    criterion = LogitAdjustedLoss([0.2] * 5, tau=1.0, label_smoothing=0.1)
    ema = WeightEma(ours_model, 0.999)

    def ours() -> float:
        return train_one_epoch(
            ours_model,
            batches,
            criterion,
            optimizer,
            scheduler,
            device=CPU,
            ema=ema,
            clip_grad=1.0,
            progress=True,
            description="ours",
        )["img_s"]

    bare_loop(bare_model, batches[:2], bare_optimizer)  # warm-up: allocator, kernels
    ours()
    rates = {"bare": [], "ours": []}
    for _ in range(args.rounds):
        rates["bare"].append(bare_loop(bare_model, batches, bare_optimizer))
        rates["ours"].append(ours())
    bare, mine = max(rates["bare"]), max(rates["ours"])
    print(
        f"{args.model} {args.input_size}px batch {args.batch_size}, {args.steps} steps x {args.rounds} rounds, "
        f"{torch.get_num_threads()} threads"
    )
    print(
        f"bare PyTorch loop: {bare:.1f} img/s | ours (logit-adjusted loss, groups, schedule, clipping, EMA, progress): {mine:.1f} img/s"
    )
    mean, low, high = mean_interval([o / b for o, b in zip(rates["ours"], rates["bare"])])
    print(f"ratio ours / bare: best {mine / bare:.3f}, per round {mean:.3f}, 95% interval [{low:.3f}, {high:.3f}]")
    # Judged on the best rounds: other load on the machine only ever slows a round down, so the fastest
    # round of each is the least noisy estimate; the per-round interval is printed for context.
    met = mine / bare >= 0.95
    if not args.judge:
        print(f"target ours / bare >= 0.95: not judged (--no-judge); best rounds {mine / bare:.3f}")
        return
    print(f"target ours / bare >= 0.95: {'met' if met else 'NOT met'} (best rounds {mine / bare:.3f})")
    sys.exit(0 if met else 1)


def arguments():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="tf_efficientnet_lite0", help="timm architecture (default tf_efficientnet_lite0)")
    p.add_argument("--input-size", type=int, default=224, help="pixels (default 224, as bench/train_flowers5)")
    p.add_argument("--batch-size", type=int, default=32, help="(default 32)")
    p.add_argument(
        "--no-judge",
        dest="judge",
        action="store_false",
        help="print the figures without a verdict (CI's bench-quick: a shared 2-core machine's timing noise, "
        "about 5 points between runs, is as large as the margin the target allows)",
    )
    p.add_argument("--steps", type=int, default=8, help="batches per round (default 8)")
    p.add_argument(
        "--rounds", type=int, default=5, help="alternating rounds; the interval is over their ratios (default 5)"
    )
    return p.parse_args()


if __name__ == "__main__":
    main()
