"""The "other plant" class trains on every photo the model must not claim: unknown plants and photos of no plant."""

from __future__ import annotations

import pytest

from plantml.training import recipes
from plantml.training.config import resolve_config
from plantml.training.distributed import DistContext
from plantml.training.run import TrainingRun
from tests.image_trees import make_image_tree


@pytest.mark.parametrize("rank", [0, 1])
def test_every_rank_labels_the_unknown_and_the_reject_photos_as_the_extra_class(image_tree, tmp_path, rank):
    unknown = make_image_tree(tmp_path / "unknown", {"acer": 3, "ilex": 2}, seed=5)
    reject = make_image_tree(tmp_path / "reject", {"mugs": 4}, seed=6)
    config = resolve_config(
        recipes.tiny(data=image_tree, output=tmp_path / "run", reject_data=reject, unknown_data=unknown)
    )
    run = TrainingRun(config, DistContext(rank=rank, world_size=2), None)
    run.prepare()
    extra = [path for path, label in run.train_samples if label == run.num_species]
    assert run.num_species == 3
    assert sorted(p.parent.name for p in extra) == ["acer"] * 3 + ["ilex"] * 2 + ["mugs"] * 4
