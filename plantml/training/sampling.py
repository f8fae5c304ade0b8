"""Epoch samplers that re-balance a long-tailed training set; DDP-aware (each rank takes its shard)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

SAMPLING_MODES = ("balanced", "sqrt", "uniform")


class ClassBalancedSampler(Sampler[int]):
    """Draws a fresh epoch of indices each epoch from (seed, epoch), then keeps this rank's shard.

    ``balanced``: at most ``per_class_cap`` images per class, drawn without replacement, so
    head classes are under-sampled differently every epoch and the tail keeps all its images.
    ``sqrt``: as many draws as images, per class proportional to sqrt(class size) (with replacement).
    ``uniform``: every image once, shuffled (plain training).
    """

    def __init__(
        self,
        targets: Sequence[int],
        *,
        mode: str = "balanced",
        per_class_cap: int = 70,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if mode not in SAMPLING_MODES:
            raise ValueError(f"unknown sampling mode {mode!r}: choose one of {', '.join(SAMPLING_MODES)}")
        if per_class_cap < 1:
            raise ValueError(f"per_class_cap must be at least 1, got {per_class_cap}")
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)
        self.num_classes = int(self.targets.max()) + 1 if len(self.targets) else 0
        self.class_indices = [torch.nonzero(self.targets == c).flatten() for c in range(self.num_classes)]
        self.mode, self.per_class_cap, self.seed = mode, per_class_cap, seed
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0

    def draws_per_class(self) -> list[int]:
        """Return how many indices each class contributes to one epoch (all ranks together)."""
        sizes = [len(indices) for indices in self.class_indices]
        if self.mode == "balanced":
            return [min(n, self.per_class_cap) for n in sizes]
        if self.mode == "sqrt":
            roots = [math.sqrt(n) for n in sizes]
            return [round(len(self.targets) * r / sum(roots)) if n else 0 for n, r in zip(sizes, roots)]
        return sizes

    def epoch_indices(self) -> list[int]:
        """Return the whole epoch's indices (before sharding); depends only on seed and epoch."""
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        if self.mode == "uniform":
            return torch.randperm(len(self.targets), generator=generator).tolist()
        chosen = []
        for indices, count in zip(self.class_indices, self.draws_per_class()):
            if count == 0:
                continue
            if self.mode == "balanced":
                picks = torch.randperm(len(indices), generator=generator)[:count]
            else:
                picks = torch.randint(len(indices), (count,), generator=generator)
            chosen.append(indices[picks])
        everything = torch.cat(chosen)
        return everything[torch.randperm(len(everything), generator=generator)].tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self.epoch_indices()
        padding = len(self) * self.num_replicas - len(indices)
        indices += indices[:padding]  # every rank gets the same number of batches, as DistributedSampler does
        return iter(indices[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        return math.ceil(sum(self.draws_per_class()) / self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draw ``__iter__`` yields next (call before every epoch)."""
        self.epoch = epoch

    def class_frequencies(self) -> list[float]:
        """Return the share of each class in one epoch's draw: the class prior the loss sees."""
        draws = self.draws_per_class()
        return [d / sum(draws) for d in draws]

    def state_dict(self) -> dict:
        """Return what decides the next draw: the seed and the epoch (the rest follows from the options)."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Continue the draws of the sampler whose ``state_dict`` this is."""
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])


def class_counts(targets: Sequence[int], num_classes: int) -> list[int]:
    """Return the number of samples of each class 0..num_classes-1."""
    counts = Counter(int(t) for t in targets)
    return [counts.get(c, 0) for c in range(num_classes)]
