"""Run a two-rank CPU training under torchrun: the one set-up the DDP tests share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from plantml.training import recipes

ROOT = Path(__file__).resolve().parents[2]


def train_two_ranks(
    script: str, data: Path, output: Path, *options: str, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``script train``'s options (a tiny random-init convnextv2_atto on data) on two ranks; return the run."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        script,
        *(["train"] if script == "manage.py" else []),
        "--data",
        str(data),
        "--output",
        str(output),
        *recipes.as_arguments(recipes.tiny(batch_size=4)),
        *options,
    ]
    return subprocess.run(
        command, cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=timeout
    )
