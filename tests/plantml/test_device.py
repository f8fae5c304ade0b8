"""The one --device rule (plantml/device.py), on machines with and without a GPU (the GPU is simulated)."""

from __future__ import annotations

import pytest
import torch

from plantml.device import resolve_device


@pytest.fixture(params=[False, True], ids=["no-gpu", "gpu"])
def gpu(request, monkeypatch) -> bool:
    """Whether torch sees a GPU: both answers are simulated, so each rule is checked on every machine."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: request.param)
    return request.param


def test_auto_is_the_gpu_when_there_is_one_else_the_cpu(gpu):
    assert resolve_device("auto") == (torch.device("cuda:0") if gpu else torch.device("cpu"))


def test_auto_is_this_ranks_gpu(gpu):
    assert resolve_device("auto", local_rank=1) == (torch.device("cuda:1") if gpu else torch.device("cpu"))


def test_a_name_that_is_no_device_says_which_ones_are(gpu):
    with pytest.raises(ValueError, match="'tpu' is not supported: use cpu, cuda or cuda:N"):
        resolve_device("tpu")


def test_cuda_is_the_gpu_asked_for_when_there_is_one_and_says_to_use_the_cpu_when_not(gpu):
    if gpu:
        assert resolve_device("cuda:0") == torch.device("cuda:0")
    else:
        with pytest.raises(ValueError, match="no GPU is visible here: use --device cpu"):
            resolve_device("cuda:0")


def test_the_cpu_is_always_a_device(gpu):
    assert resolve_device("cpu") == torch.device("cpu")
