"""Class-balanced epoch sampling (plantml/training/sampling.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from plantml.training.sampling import ClassBalancedSampler, class_counts

TARGETS = [0] * 100 + [1] * 30 + [2] * 5


def _per_class(indices):
    counts = Counter(TARGETS[i] for i in indices)
    return [counts[c] for c in range(3)]


def test_balanced_epoch_takes_at_most_the_cap_per_class():
    sampler = ClassBalancedSampler(TARGETS, per_class_cap=20)
    indices = list(sampler)
    assert _per_class(indices) == [20, 20, 5]
    assert len(set(indices)) == len(indices) == len(sampler)


def test_the_draw_changes_every_epoch_and_repeats_for_the_same_epoch():
    sampler = ClassBalancedSampler(TARGETS, per_class_cap=20, seed=1)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert set(first) != set(second)
    assert list(sampler) == first


def test_sqrt_mode_weights_classes_by_the_square_root_of_their_size():
    sampler = ClassBalancedSampler(TARGETS, mode="sqrt")
    counts = _per_class(list(sampler))
    assert counts[0] / counts[2] == pytest.approx((100 / 5) ** 0.5, rel=0.05)
    assert sum(counts) == pytest.approx(len(TARGETS), abs=2)


def test_uniform_mode_yields_every_image_once():
    assert sorted(ClassBalancedSampler(TARGETS, mode="uniform")) == list(range(len(TARGETS)))


def test_ranks_get_disjoint_equal_shards_of_one_epoch():
    shards = [list(ClassBalancedSampler(TARGETS, per_class_cap=20, num_replicas=2, rank=r)) for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 23
    assert set(shards[0]) | set(shards[1]) == set(ClassBalancedSampler(TARGETS, per_class_cap=20).epoch_indices())


def test_class_frequencies_describe_the_epoch_draw():
    assert ClassBalancedSampler(TARGETS, per_class_cap=20).class_frequencies() == pytest.approx(
        [20 / 45, 20 / 45, 5 / 45]
    )


def test_state_dict_restores_seed_and_epoch():
    sampler = ClassBalancedSampler(TARGETS, seed=7)
    sampler.set_epoch(4)
    restored = ClassBalancedSampler(TARGETS)
    restored.load_state_dict(sampler.state_dict())
    assert list(restored) == list(sampler)


def test_class_counts_include_empty_classes():
    assert class_counts([0, 2, 2], 4) == [1, 0, 2, 0]
