"""Per-epoch seeding and resume-state checks (plantml/training/resume.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plantml.checkpoint import CheckpointError


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
