"""The one --device rule (plantml/device.py)."""

from __future__ import annotations

import pytest
import torch

from plantml.device import resolve_device


def test_auto_is_the_gpu_when_there_is_one_else_the_cpu():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_name_that_is_no_device_says_which_ones_are():
    with pytest.raises(ValueError, match="'tpu' is not supported: use cpu, cuda or cuda:N"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_to_use_the_cpu():
    with pytest.raises(ValueError, match="no GPU is visible here: use --device cpu"):
        resolve_device("cuda:0")
