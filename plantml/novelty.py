"""How far a photo's features sit from the model's species: relative Mahalanobis distance on the pooled features.

The class logits only look along the few directions that tell the model's species apart, so a species it never
saw (a tulip, for a model of roses and daisies) can land deep inside one class's region and get a confident
softmax. The distance of its L2-normalised pooled features to the nearest class mean, under the classes' shared
covariance, minus its distance under one Gaussian of all training photos (Ren et al. 2021, "A simple fix to
Mahalanobis distance") looks along every direction: on flowers5 it told held-out tulips from the known species
better than any score on the logits (bench/README.md). It is fitted on training photos, so the val photos that
place its cut are new to it. Each covariance is stored as its top principal directions and one variance for the
rest (probabilistic PCA): its store grows with the feature width, not with its square (1.8 MB of JSON for
1,280 features and 4 classes; the class means add 6.8 KB a class). No Django.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

SHRINKAGE = 0.5  # toward the mean variance: thousands of photos cannot pin down 1,280 x 1,280 covariances
RANK = 128  # principal directions kept of each covariance (on flowers5, 64 lost a little, 256 gained nothing)
TAIL_SHARE = 0.02  # of val photos beyond the cut's midpoint: the rest of the rejection is the threshold's


def pack(array: np.ndarray) -> dict[str, Any]:
    """Return a float32 array as JSON values: its shape and its bytes in base64."""
    array = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def unpack(packed: dict[str, Any]) -> torch.Tensor:
    """Return the float32 tensor ``pack`` stored."""
    array = np.frombuffer(base64.b64decode(packed["data"]), dtype="<f4").reshape(packed["shape"])
    return torch.from_numpy(array.copy())


@dataclass(frozen=True)
class Gaussian:
    """A covariance as its top principal directions (rows of ``basis``) and their variances, one variance beyond."""

    basis: dict[str, Any]  # pack()ed (rank, D)
    variances: list[float]
    rest: float

    @cached_property
    def _basis(self) -> torch.Tensor:
        return unpack(self.basis)

    def distances(self, features: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
        """Return the (N, M) squared Mahalanobis distances of (N, D) ``features`` to each of (M, D) ``means``."""
        basis = self._basis.to(features.device)
        extra = torch.tensor(self.variances, device=features.device).reciprocal() - 1.0 / self.rest
        squared = (features * features).sum(1, keepdim=True) - 2 * features @ means.T + (means * means).sum(1)
        projected = (features @ basis.T)[:, None, :] - (means @ basis.T)[None, :, :]
        return squared / self.rest + (projected * projected * extra).sum(2)


def fit_gaussian(centred: torch.Tensor, shrinkage: float = SHRINKAGE, rank: int = RANK) -> Gaussian:
    """Return the shrunk covariance of (N, D) ``centred`` rows, kept to its top ``rank`` directions."""
    covariance = centred.T @ centred / len(centred)
    values, vectors = torch.linalg.eigh(covariance)
    values, vectors = values.flip(0).clamp(min=0), vectors.flip(1)
    values = (1 - shrinkage) * values + shrinkage * values.mean()
    rank = min(rank, len(values))
    rest = float(values[rank:].mean()) if rank < len(values) else float(values[-1])
    return Gaussian(basis=pack(vectors[:, :rank].T.numpy()), variances=values[:rank].tolist(), rest=rest)


@dataclass(frozen=True)
class FeatureDensity:
    """The classes' means and shared covariance, one Gaussian of all training photos, and the cut fitted on val.

    ``typicality`` is sigmoid((limit - distance) / scale): near 1 inside the spread of the model's species,
    falling to 0 beyond it; the open-set score is multiplied by it.
    """

    class_means: dict[str, Any]  # pack()ed (classes, D), of the L2-normalised pooled features
    within: Gaussian
    overall_mean: dict[str, Any]  # pack()ed (1, D)
    overall: Gaussian
    limit: float = 0.0
    scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureDensity:
        """Return the record ``to_dict`` stored."""
        data = dict(data)
        return cls(**{**data, "within": Gaussian(**data["within"]), "overall": Gaussian(**data["overall"])})

    @cached_property
    def _means(self) -> tuple[torch.Tensor, torch.Tensor]:
        return unpack(self.class_means), unpack(self.overall_mean)

    def distance(self, features: torch.Tensor) -> torch.Tensor:
        """Return the relative Mahalanobis distance of each row of (N, D) pooled features (larger: less like them)."""
        features = F.normalize(features.float(), dim=1)
        classes, overall = (means.to(features.device) for means in self._means)
        nearest = self.within.distances(features, classes).min(dim=1).values
        return nearest - self.overall.distances(features, overall)[:, 0]

    def typicality(self, features: torch.Tensor) -> torch.Tensor:
        """Return, per row of (N, D) pooled features, how far inside the known species' spread it is, in (0, 1)."""
        return torch.sigmoid((self.limit - self.distance(features)) / self.scale)

    def with_cut(self, val_features: np.ndarray, tail_share: float = TAIL_SHARE) -> FeatureDensity:
        """Return this density with its cut placed on val: ``tail_share`` of val beyond ``limit``, a quartile wide."""
        distances = self.distance(torch.as_tensor(val_features)).double().numpy()
        low, high = np.quantile(distances, [0.25, 0.75])
        limit = float(np.quantile(distances, 1.0 - tail_share))
        return replace(self, limit=limit, scale=max(float(high - low), 1e-6) / 2)


def fit_density(
    features: np.ndarray, targets: np.ndarray, shrinkage: float = SHRINKAGE, rank: int = RANK
) -> FeatureDensity:
    """Return the density of training photos' (N, D) pooled ``features`` labelled ``targets`` (its cut not yet placed)."""
    x = F.normalize(torch.as_tensor(np.asarray(features), dtype=torch.float64), dim=1)
    label_of = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    labels = torch.unique(label_of)
    if len(labels) < 1 or len(x) <= len(labels):
        raise ValueError("the feature density needs more training photos than classes")
    means = torch.stack([x[label_of == label].mean(0) for label in labels])
    within = fit_gaussian(x - means[torch.searchsorted(labels, label_of)], shrinkage, rank)
    overall_mean = x.mean(0, keepdim=True)
    return FeatureDensity(
        class_means=pack(means.numpy()),
        within=within,
        overall_mean=pack(overall_mean.numpy()),
        overall=fit_gaussian(x - overall_mean, shrinkage, rank),
    )
