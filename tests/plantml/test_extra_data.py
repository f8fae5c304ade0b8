"""Merging extra training folders into a data set's splits by class name (plantml.data.add_extra_training_data)."""

from __future__ import annotations

from plantml.data import add_extra_training_data, resolve_splits
from tests.image_trees import make_image_tree


def test_extra_images_join_train_by_class_name_and_new_classes_are_appended(split_tree, tmp_path):
    extra = make_image_tree(tmp_path / "extra", {"rosa": 2, "tulipa": 3})
    (extra / "provenance.csv").write_text("file,class\n")  # files beside the class folders are not classes
    base = resolve_splits(split_tree)
    merged = add_extra_training_data(base, [extra])
    assert merged.class_names == ["bellis", "rosa", "viola", "tulipa"]
    added = merged.train[len(base.train) :]
    assert sorted((path.parent.name, label) for path, label in added) == [("rosa", 1)] * 2 + [("tulipa", 3)] * 3
    assert merged.train[: len(base.train)] == base.train


def test_val_and_test_stay_those_of_the_main_data(split_tree, tmp_path):
    extra = make_image_tree(tmp_path / "extra", {"bellis": 2})
    base = resolve_splits(split_tree)
    merged = add_extra_training_data(base, [extra])
    assert (merged.val, merged.test) == (base.val, base.test)


def test_an_extra_tree_with_splits_gives_all_its_images_to_train(split_tree, image_tree):
    base = resolve_splits(image_tree, seed=0, val_fraction=0.2, test_fraction=0.2)
    merged = add_extra_training_data(base, [split_tree])
    assert len(merged.train) - len(base.train) == 3 * (8 + 3 + 3)
    assert merged.class_names == ["bellis", "rosa", "viola"]


def test_several_extra_folders_merge_in_order(split_tree, tmp_path):
    first = make_image_tree(tmp_path / "a", {"tulipa": 1})
    second = make_image_tree(tmp_path / "b", {"tulipa": 1, "iris": 1})
    merged = add_extra_training_data(resolve_splits(split_tree), [first, second])
    assert merged.class_names == ["bellis", "rosa", "viola", "tulipa", "iris"]
