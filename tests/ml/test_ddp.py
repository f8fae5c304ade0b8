"""Data-parallel training: `torchrun --nproc_per_node=2 manage.py train` on two CPU processes (gloo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plantml.checkpoint import load_checkpoint
from tests.ml.ddp import train_two_ranks

pytestmark = pytest.mark.slow


def test_two_processes_train_one_shard_each_and_rank_zero_writes(image_tree, tmp_path):
    output = tmp_path / "run"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "plantsite.settings.test"}
    done = train_two_ranks(
        "manage.py", image_tree, output, "--epochs", "1", "--no-register", "--verbosity", "2", env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank 0 of 2" in done.stderr and "rank 1 of 2" in done.stderr
    assert done.stdout.count("epoch   1 [finetune]") == 1  # one summary line: only rank 0 reports
    payload = load_checkpoint(output / "last.pt")
    per_rank = -(-len(_train_split(output)) // 2)
    assert payload["lr_scheduler"]["last_epoch"] == per_rank // 4  # each rank stepped over its half only (full batches)
    assert (output / "best.pt").is_file()


def _train_split(output: Path) -> list:
    import json

    return json.loads((output / "split.json").read_text())["train"]
