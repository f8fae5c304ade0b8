"""Phases and early stopping (plantml/training/phases.py)."""

from __future__ import annotations

from plantml.training.phases import EarlyStopping, plan_phases


def test_phases_run_head_then_finetune_then_hires_at_a_tenth_of_the_lr():
    phases = plan_phases(epochs=5, input_size=224, head_epochs=2, hires_epochs=1, hires_size=288)
    assert [p.name for p in phases] == ["head", "finetune", "hires"]
    assert not phases[0].train_backbone and phases[1].train_backbone
    assert phases[2].lr_scale == 0.1 and phases[2].input_size == 288
    assert not phases[2].use_mixup and not phases[2].label_smoothing


def test_phases_without_epochs_are_left_out():
    assert [p.name for p in plan_phases(epochs=3, input_size=64)] == ["finetune"]


def test_early_stopping_waits_for_patience_after_improvement():
    stopper = EarlyStopping(patience=2, min_epochs=1)
    assert [stopper.step(s) for s in (0.5, 0.6, 0.6, 0.55)] == [False, False, False, True]


def test_early_stopping_never_stops_before_min_epochs():
    stopper = EarlyStopping(patience=1, min_epochs=4)
    assert [stopper.step(s) for s in (0.9, 0.1, 0.1, 0.1)] == [False, False, False, True]


def test_early_stopping_state_round_trips():
    stopper = EarlyStopping(patience=3)
    for score in (0.2, 0.1):
        stopper.step(score)
    restored = EarlyStopping(patience=3)
    restored.load_state_dict(stopper.state_dict())
    assert restored.state_dict() == {"best": 0.2, "bad_epochs": 1, "epochs": 2}
