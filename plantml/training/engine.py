"""One training epoch and one evaluation pass; plain PyTorch, used by run.py and the benchmarks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from plantml.checkpoint import unwrap
from plantml.evaluation.metrics import macro_top_k, top_k_accuracy
from plantml.evaluation.runner import predict_loader
from plantml.modeling import classifier_name
from plantml.progress import progress as progress_of

from .amp import autocast
from .ema import WeightEma

logger = logging.getLogger(__name__)


def set_train_mode(model: nn.Module, train_backbone: bool) -> None:
    """Put the model in training mode; a frozen backbone stays in eval mode (its norm statistics too)."""
    bare = unwrap(model)
    bare.train(train_backbone)
    bare.get_submodule(classifier_name(bare)).train()


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    *,
    device: torch.device,
    precision: str = "fp32",
    scaler: torch.amp.GradScaler | None = None,
    mixer: Callable | None = None,
    ema: WeightEma | None = None,
    clip_grad: float = 0.0,
    train_backbone: bool = True,
    description: str = "train",
    progress: bool = True,
) -> dict[str, float]:
    """Train over ``loader`` once (stepping the schedule per batch); return mean loss, last lr, img/s, seconds."""
    set_train_mode(model, train_backbone)
    total_loss, images_seen, started = 0.0, 0, time.perf_counter()
    bar = progress_of(loader, description, enabled=progress)
    for images, targets in bar:
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        if mixer is not None and len(images) % 2 == 0:  # timm's Mixup pairs images within a batch
            images, targets = mixer(images, targets)
        with autocast(device, precision):
            loss = criterion(model(images), targets)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if clip_grad > 0:
            nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], clip_grad)
        if scaler is not None and scaler.is_enabled():
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update(model)
        total_loss += loss.item() * len(images)
        images_seen += len(images)
        rate = images_seen / (time.perf_counter() - started)
        bar.set_postfix(
            loss=f"{total_loss / images_seen:.4f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}", img_s=f"{rate:.1f}"
        )
    seconds = time.perf_counter() - started
    return {
        "train_loss": total_loss / max(1, images_seen),
        "lr": max(group["lr"] for group in optimizer.param_groups),
        **part_learning_rates(optimizer),
        "img_s": images_seen / seconds if seconds else 0.0,
        "seconds": seconds,
    }


def part_learning_rates(optimizer: torch.optim.Optimizer) -> dict[str, float]:
    """Return {"lr_backbone": ..., "lr_head": ...} from the optimiser's named groups (a frozen part is absent)."""
    rates: dict[str, float] = {}
    for group in optimizer.param_groups:
        part = str(group.get("name", "")).removesuffix("_no_decay")
        if part:
            rates[f"lr_{part}"] = group["lr"]
    return rates


def evaluate(model: nn.Module, loader: Iterable, *, device: torch.device, precision: str = "fp32") -> dict[str, float]:
    """Return loss, top-1 and macro top-1 of ``model`` over ``loader`` (no augmentation)."""
    with autocast(device, precision):
        targets, probs = predict_loader(unwrap(model), loader, device, description="validate")
    picked = probs[np.arange(len(targets)), targets]
    return {
        "loss": float(-np.log(np.clip(picked, 1e-12, None)).mean()),
        "top1": top_k_accuracy(targets, probs, 1),
        "macro_top1": macro_top_k(targets, probs, 1),
    }


def format_epoch(row: dict) -> str:
    """Return the one-line summary printed after each epoch."""
    parts = [f"epoch {row['epoch']:>3} [{row['phase']}]", f"loss {row['train_loss']:.4f}", f"lr {row['lr']:.2e}"]
    if row.get("val_top1") is not None:
        parts.append(f"val top1 {row['val_top1']:.4f} macro {row['val_macro_top1']:.4f}")
    if row.get("val_top1_ema") is not None:
        parts.append(f"ema top1 {row['val_top1_ema']:.4f} macro {row['val_macro_top1_ema']:.4f}")
    parts.append(f"{row['img_s']:.1f} img/s {row['seconds']:.0f}s")
    if row.get("is_best"):
        parts.append(f"* best ({row['kept']})")
    return " | ".join(parts)
