"""Per-epoch seeding and resume-state checks (plantml/training/resume.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plantml.files import CheckpointError


def test_seed_epoch_repeats_an_epochs_random_numbers():
    from plantml.training.resume import seed_epoch

    seed_epoch(1, 4)
    first = (torch.rand(3), np.random.rand(3))
    seed_epoch(1, 5)
    other = torch.rand(3)
    seed_epoch(1, 4)
    assert torch.equal(torch.rand(3), first[0]) and np.array_equal(np.random.rand(3), first[1])
    assert not torch.equal(other, first[0])


def test_ranks_draw_different_augmentations():
    from plantml.training.resume import seed_epoch

    seed_epoch(1, 4, rank=0)
    zero = torch.rand(3)
    seed_epoch(1, 4, rank=1)
    assert not torch.equal(torch.rand(3), zero)


def test_a_checkpoint_without_training_state_is_refused(tiny_checkpoint):
    from plantml.training.resume import load_resume_state

    with pytest.raises(CheckpointError, match="holds no training state"):
        load_resume_state(tiny_checkpoint)


def _state(sampler_seed: int = 0):
    from plantml.training.phases import EarlyStopping
    from plantml.training.resume import TrainingState
    from plantml.training.sampling import ClassBalancedSampler

    torch.manual_seed(sampler_seed)
    model = torch.nn.Linear(4, 3)
    state = TrainingState(model, None, ClassBalancedSampler([0, 0, 1, 1, 2, 2], per_class_cap=1, seed=sampler_seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    parts = (
        optimizer,
        torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5),
        torch.amp.GradScaler("cpu", enabled=False),
        EarlyStopping(patience=2),
    )
    return state, parts


def _train_a_step(state, parts):
    optimizer, scheduler, _, stopper = parts
    state.model(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    scheduler.step()
    stopper.step(0.5)
    state.sampler.set_epoch(3)
    state.end_epoch({"epoch": 1, "score": 0.5, "is_best": True}, phase_done=False)


def test_training_state_restores_sampler_rngs_and_position_through_last_pt(tmp_path):
    from plantml.checkpoint import ModelSpec
    from plantml.training.resume import load_resume_state, save_resume_checkpoint

    saved, parts = _state(sampler_seed=5)
    saved.start_phase(1, *parts)
    _train_a_step(saved, parts)
    path = save_resume_checkpoint(tmp_path / "last.pt", saved, ModelSpec("resnet18", ["a", "b", "c"]))
    expected_draw = torch.rand(3)
    restored, _ = _state(sampler_seed=0)
    restored.load_state_dict(load_resume_state(path))  # weights-only load: every entry is a plain value
    assert torch.equal(torch.rand(3), expected_draw)
    assert restored.sampler.epoch_indices() == saved.sampler.epoch_indices()
    assert (restored.epoch, restored.best_score, restored.next_phase) == (1, 0.5, 1)
    for key, tensor in saved.model.state_dict().items():
        assert torch.equal(restored.model.state_dict()[key], tensor)


def test_resuming_inside_a_phase_restores_its_optimisation_and_epoch():
    saved, parts = _state()
    saved.start_phase(1, *parts)
    _train_a_step(saved, parts)
    restored, fresh = _state()
    restored.load_state_dict(saved.state_dict())
    assert restored.start_phase(1, *fresh) == 1
    assert fresh[0].state_dict() == parts[0].state_dict() and fresh[1].get_last_lr() == parts[1].get_last_lr()
    assert fresh[3].state_dict() == parts[3].state_dict()


def test_a_finished_phases_optimisation_is_not_carried_into_the_next():
    saved, parts = _state()
    saved.start_phase(0, *parts)
    _train_a_step(saved, parts)
    saved.phase_done = True
    restored, fresh = _state()
    restored.load_state_dict(saved.state_dict())
    assert restored.next_phase == 1
    assert restored.start_phase(1, *fresh) == 0 and fresh[3].state_dict()["epochs"] == 0
