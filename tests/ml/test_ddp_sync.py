"""DDP for real: two CPU ranks end with identical weights, and only rank 0 registers a model version."""

from __future__ import annotations

import pytest
import torch

from bench.worker_process import worker_env
from ml.models import ModelVersion
from tests.ml.ddp import ROOT, train_two_ranks

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_both_ranks_end_with_the_same_weights_and_one_version_is_registered(image_tree, tmp_path, settings):
    output = tmp_path / "ddp-run"
    done = train_two_ranks(
        str(ROOT / "tests" / "ml" / "ddp_probe.py"),
        image_tree,
        output,
        *("--epochs", "2", "--mixup", "0", "--no-ema", "--name", "ddp-run"),
        env=worker_env(PYTHONPATH=str(ROOT)),
        timeout=540,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    rank0, rank1 = (torch.load(output / f"rank-{r}.pt", map_location="cpu") for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    different = [name for name in rank0 if not torch.equal(rank0[name], rank1[name])]
    assert different == [], f"ranks disagree on {len(different)} tensors, e.g. {different[:3]}"
    assert rank0["head.fc.weight"].abs().sum() > 0  # the zero-initialised head did train
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["ddp-run"]
