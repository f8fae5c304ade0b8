"""Mixed precision context (plantml/training/amp.py)."""

from __future__ import annotations

import pytest
import torch

from plantml.training.amp import autocast, check_precision, default_precision, grad_scaler

CPU = torch.device("cpu")


def test_fp32_is_a_no_op():
    layer = torch.nn.Linear(4, 4)
    with autocast(CPU, "fp32"):
        assert layer(torch.rand(2, 4)).dtype == torch.float32


def test_bf16_autocasts_on_cpu():
    layer = torch.nn.Linear(4, 4)
    with autocast(CPU, "bf16"):
        assert layer(torch.rand(2, 4)).dtype == torch.bfloat16


def test_cpu_defaults_to_fp32_and_refuses_fp16():
    assert default_precision(CPU) == "fp32"
    with pytest.raises(ValueError, match="fp16 needs a GPU"):
        check_precision("fp16", CPU)


def test_the_scaler_is_off_on_cpu():
    assert not grad_scaler(CPU, "bf16").is_enabled()
