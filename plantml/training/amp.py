"""Mixed precision as a context that is a no-op when off, and the matching gradient scaler."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager as ContextManager

import torch

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def default_precision(device: torch.device) -> str:
    """Return bf16 on GPUs that support it, else fp16 on GPU; fp32 on CPU (bf16 there is much slower)."""
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def check_precision(precision: str, device: torch.device) -> None:
    """Raise ValueError with the fix when ``precision`` cannot run on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 needs a GPU: use --precision fp32 or bf16 on a CPU")


def autocast(device: torch.device, precision: str) -> ContextManager:
    """Return an autocast context for bf16/fp16, a null context for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Return a loss scaler, enabled only for fp16 on CUDA (bf16 needs none)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")
