"""The training and evaluation loops (plantml/training/engine.py)."""

from __future__ import annotations

import pytest
import torch

from plantml.data import ImageDataset, build_loader, scan_image_folder
from plantml.modeling import create_model
from plantml.training.engine import evaluate, format_epoch, part_learning_rates, train_one_epoch
from plantml.training.losses import LogitAdjustedLoss
from plantml.training.optim import create_optimizer, warmup_cosine
from plantml.transforms import eval_transform

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def loader(image_tree):
    samples, _, _ = scan_image_folder(image_tree)
    return build_loader(ImageDataset(samples, eval_transform(32)), batch_size=8, workers=0, shuffle=True)


def _setup(train_backbone: bool):
    torch.manual_seed(0)
    model = create_model("convnextv2_atto", 3)
    optimizer = create_optimizer(model, lr=1e-3, head_lr=1e-2, weight_decay=0.05, train_backbone=train_backbone)
    return model, optimizer, warmup_cosine(optimizer, warmup_steps=0, total_steps=20)


def test_training_lowers_the_loss(loader):
    model, optimizer, scheduler = _setup(True)
    criterion = LogitAdjustedLoss([1 / 3] * 3)
    first = train_one_epoch(model, loader, criterion, optimizer, scheduler, device=CPU, progress=False)
    for _ in range(3):
        last = train_one_epoch(model, loader, criterion, optimizer, scheduler, device=CPU, progress=False)
    assert last["train_loss"] < first["train_loss"]
    assert first["img_s"] > 0 and scheduler.last_epoch == 16


def test_a_frozen_backbone_and_its_norm_statistics_do_not_change(loader):
    model, optimizer, scheduler = _setup(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_one_epoch(model, loader, LogitAdjustedLoss([1 / 3] * 3), optimizer, scheduler, device=CPU, progress=False)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"head.fc.weight", "head.fc.bias"}


def test_evaluate_reports_loss_and_accuracies(loader):
    model, _, _ = _setup(True)
    result = evaluate(model, loader, device=CPU)
    with torch.no_grad():
        pairs = [(model(images), targets) for images, targets in loader]
    logits, targets = torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])
    assert set(result) == {"loss", "top1", "macro_top1"}
    assert result["top1"] == pytest.approx((logits.argmax(1) == targets).float().mean().item())
    assert result["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, targets).item(), rel=1e-5)


def test_the_epoch_summary_is_one_line():
    row = {
        "epoch": 2,
        "phase": "finetune",
        "train_loss": 0.5,
        "lr": 1e-4,
        "img_s": 9.5,
        "seconds": 30,
        "val_top1": 0.9,
        "val_macro_top1": 0.85,
        "is_best": True,
        "kept": "ema",
    }
    line = format_epoch(row)
    assert "\n" not in line and "val top1 0.9000 macro 0.8500" in line and "best (ema)" in line


def test_the_backbone_and_head_learning_rates_are_reported_apart():
    _, optimizer, _ = _setup(True)
    assert part_learning_rates(optimizer) == {"lr_backbone": 1e-3, "lr_head": 1e-2}


def test_a_frozen_backbone_has_no_learning_rate_to_report():
    _, optimizer, _ = _setup(False)
    assert part_learning_rates(optimizer) == {"lr_head": 1e-2}
