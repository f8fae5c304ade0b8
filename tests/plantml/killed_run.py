"""Child processes the kill tests SIGKILL: a training run that stalls mid-epoch, and a checkpoint saved in a loop.

`python -m tests.plantml.killed_run train CONFIG_JSON STALL_EPOCH`: trains; in epoch STALL_EPOCH (1-based), after
its first optimizer step, prints "mid-epoch" and waits to be killed. Only observes: train() runs unchanged.
`python -m tests.plantml.killed_run save PATH`: saves a checkpoint to PATH over and over, printing "saved" once.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

SIDE = 4096  # the saved layer's width


def stall_after_first_batch(loader):
    """Yield the loader's first batch, then announce it and sleep until killed."""
    for index, batch in enumerate(loader):
        if index == 1:  # the first batch has been trained on: weights in memory differ from last.pt
            print("mid-epoch", flush=True)
            time.sleep(600)
        yield batch


def train_until_killed(config_json: str, stall_epoch: int) -> None:
    from plantml.training import run
    from plantml.training.config import resolve_config

    original = run.train_one_epoch

    def observed(model, loader, *args, **kwargs):
        if kwargs["description"].startswith(f"epoch {stall_epoch} "):
            loader = stall_after_first_batch(loader)
        return original(model, loader, *args, **kwargs)

    run.train_one_epoch = observed
    run.train(resolve_config(json.loads(config_json)))


def save_forever(path: str) -> None:
    from plantml.checkpoint import ModelSpec, save_checkpoint

    model = torch.nn.Linear(SIDE, SIDE)  # 64 MiB of weights: each save takes long enough to be caught in flight
    spec = ModelSpec("resnet18", ["a", "b"])
    count = 0
    while True:
        with torch.no_grad():
            model.weight.fill_(count)  # each save's weights say which save it was
        save_checkpoint(Path(path), model, spec, count=count)
        if count == 0:
            print("saved", flush=True)
        count += 1


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train_until_killed(sys.argv[2], int(sys.argv[3]))
    else:
        save_forever(sys.argv[2])
